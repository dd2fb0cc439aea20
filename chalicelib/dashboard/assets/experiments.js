// Experiments: list (search, sort, active/archived), create, archive/unarchive; an experiment's runs and
// recurring runs.

import { api } from "./http.js";
import { badge, crumbs, facts, h, notify, replace, tabBar, time, withButton } from "./dom.js";
import { listView } from "./table.js";
import { runList } from "./runs.js";
import { recurringList } from "./recurring.js";
import { currentNamespace } from "./session.js";

export async function listPage(main) {
  let storage = "AVAILABLE";
  const list = listView({
    path: "experiments",
    key: "experiments",
    label: "Experiments",
    query: () => ({ namespace: currentNamespace() }),
    predicates: () => [["storage_state", "EQUALS", storage]],
    columns: [
      { label: "Name", sort: "display_name", cell: (e) => h("a", { href: `#/experiments/${encodeURIComponent(e.experiment_id)}` }, e.display_name) },
      { label: "Description", sort: "description", optional: true, cell: (e) => e.description || "" },
      { label: "Created", sort: "created_at", optional: true, cell: (e) => time(e.created_at) },
      { label: "Last run", sort: "last_run_created_at", optional: true, cell: (e) => time(e.last_run_created_at) },
      { label: "", cell: (e) => archiveButton(e, () => list.refresh()) },
    ],
    empty: "No experiments. Create one above.",
  });
  const form = createForm(async (created) => {
    notify(`Experiment ${created.display_name} created`);
    await list.reload();
  });
  replace(main,
    h("h1", {}, "Experiments"),
    form,
    tabBar([["AVAILABLE", "Active"], ["ARCHIVED", "Archived"]], storage, (id) => { storage = id; list.reload(); }),
    list.element);
  await list.reload();
}

function createForm(done) {
  const name = h("input", { type: "text", id: "experiment-name", required: true, maxlength: 128, placeholder: "e.g. churn-model" });
  const description = h("input", { type: "text", id: "experiment-description", placeholder: "optional" });
  const submit = h("button", { class: "primary", type: "submit" }, "Create experiment");
  return h("form", { class: "panel toolbar", "aria-label": "Create experiment", onsubmit: async (event) => {
    event.preventDefault();
    if (!name.value.trim()) { name.setAttribute("aria-invalid", "true"); notify("An experiment needs a name", "error"); name.focus(); return; }
    name.removeAttribute("aria-invalid");
    const created = await withButton(submit, () => api("experiments", { method: "POST", json: { display_name: name.value.trim(), description: description.value.trim(), namespace: currentNamespace() } }));
    if (created) { name.value = ""; description.value = ""; await done(created); }
  } },
  h("label", { for: "experiment-name" }, "New experiment"), name,
  h("label", { for: "experiment-description", class: "muted" }, "Description"), description, submit);
}

function archiveButton(experiment, after) {
  const archived = experiment.storage_state === "ARCHIVED";
  const button = h("button", { class: "small", onclick: () => withButton(button, async () => {
    await api(`experiments/${encodeURIComponent(experiment.experiment_id)}:${archived ? "unarchive" : "archive"}`, { method: "POST" });
    notify(`Experiment ${experiment.display_name} ${archived ? "restored" : "archived"}`);
    await after();
  }) }, archived ? "Unarchive" : "Archive");
  return button;
}

export async function detailsPage(main, { params: [id] }) {
  const experiment = await api(`experiments/${encodeURIComponent(id)}`);
  const body = h("div");
  const runs = runList({ experimentId: id, label: "Runs of this experiment" });
  const recurring = recurringList({ experimentId: id });
  const show = (tab) => replace(body, tab === "runs" ? runs.element : recurring.element);
  replace(main,
    crumbs(["Experiments", "#/experiments"], [experiment.display_name]),
    h("h1", {}, experiment.display_name, badge(experiment.storage_state),
      archiveButton(experiment, () => detailsPage(main, { params: [id] })),
      h("a", { class: "button primary", href: `#/runs/new?experiment=${encodeURIComponent(id)}` }, "Create run"),
      h("a", { class: "button", href: `#/recurring/new?experiment=${encodeURIComponent(id)}` }, "Create recurring run")),
    h("div", { class: "panel" }, facts([["Description", experiment.description], ["Created", time(experiment.created_at)], ["Last run", time(experiment.last_run_created_at)], ["ID", h("span", { class: "kv" }, experiment.experiment_id)]])),
    tabBar([["runs", "Runs"], ["recurring", "Recurring runs"]], "runs", show),
    body);
  show("runs");
  await Promise.all([runs.reload(), recurring.reload()]);
}
