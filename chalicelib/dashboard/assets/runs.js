// Runs: list with state filter, search, sort and paging; multi-select archive, restore, delete, compare.

import { api } from "./http.js";
import { badge, duration, h, notify, replace, tabBar, time, withButton } from "./dom.js";
import { listView } from "./table.js";
import { experimentLink, versionLink } from "./names.js";
import { currentNamespace } from "./session.js";

export const RUN_STATES = ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELING", "CANCELED", "SKIPPED", "PAUSED"];
export const ACTIVE_STATES = new Set(["PENDING", "RUNNING", "CANCELING", "PAUSED", "RUNTIME_STATE_UNSPECIFIED"]);

/** A run list; `experimentId` / `recurringRunId` narrow it. Returns the list view (element, reload). */
export function runList({ experimentId = "", recurringRunId = "", label = "Runs", storage = () => "AVAILABLE" } = {}) {
  const stateFilter = h("select", { "aria-label": "Filter by state", onchange: () => list.reload() },
    h("option", { value: "" }, "All states"), RUN_STATES.map((s) => h("option", { value: s }, s.toLowerCase())));
  const selectedInfo = h("span", { class: "muted" });
  const actions = {
    compare: h("button", { disabled: true, onclick: () => { location.hash = `#/compare?runs=${list.selected().map(encodeURIComponent).join(",")}`; } }, "Compare"),
    archive: h("button", { disabled: true, onclick: () => bulk("archive") }, "Archive"),
    unarchive: h("button", { disabled: true, onclick: () => bulk("unarchive") }, "Restore"),
    remove: h("button", { class: "danger", disabled: true, onclick: () => bulk("delete") }, "Delete"),
  };
  const names = new Map();
  const list = listView({
    path: "runs",
    key: "runs",
    label,
    selectable: true,
    rowId: (run) => run.run_id,
    query: () => (experimentId ? { experiment_id: experimentId } : { namespace: currentNamespace() }),
    predicates: () => [["storage_state", "EQUALS", storage()], ["state", "EQUALS", stateFilter.value], ["recurring_run_id", "EQUALS", recurringRunId]],
    toolbar: [stateFilter, actions.compare, actions.archive, actions.unarchive, actions.remove, selectedInfo],
    onSelect: (ids) => {
      selectedInfo.textContent = ids.length ? `${ids.length} selected` : "";
      actions.compare.disabled = ids.length < 2 || ids.length > 10;
      actions.compare.title = "Compare 2 to 10 runs";
      for (const key of ["archive", "unarchive", "remove"]) actions[key].disabled = !ids.length;
    },
    columns: [
      { label: "Name", sort: "display_name", cell: (run) => { names.set(run.run_id, run.display_name); return h("a", { href: `#/runs/${encodeURIComponent(run.run_id)}` }, run.display_name); } },
      { label: "State", sort: "state", cell: (run) => badge(run.state) },
      { label: "Duration", cell: (run) => duration(run.created_at, run.finished_at) },
      { label: "Experiment", optional: true, cell: (run) => experimentLink(run.experiment_id) },
      { label: "Pipeline", optional: true, cell: (run) => versionLink(run.pipeline_version_reference) },
      { label: "Created", sort: "created_at", optional: true, cell: (run) => time(run.created_at) },
    ],
    empty: "No runs match.",
  });

  async function bulk(action) {
    const ids = list.selected();
    if (action === "delete" && !confirm(`Delete ${ids.length} run(s)? This cannot be undone.`)) return;
    const failures = [];
    for (const id of ids) {
      try {
        if (action === "delete") await api(`runs/${encodeURIComponent(id)}`, { method: "DELETE" });
        else await api(`runs/${encodeURIComponent(id)}:${action}`, { method: "POST" });
      } catch (error) {
        failures.push(`${names.get(id) || id}: ${error.message}`);
      }
    }
    const done = ids.length - failures.length;
    if (done) notify(`${done} run(s) ${action === "delete" ? "deleted" : action === "archive" ? "archived" : "restored"}`);
    if (failures.length) notify(failures.join("\n"), "error");
    list.clearSelection();
    await list.refresh();
  }
  return list;
}

export async function listPage(main) {
  let storage = "AVAILABLE";
  const list = runList({ storage: () => storage });
  replace(main,
    h("h1", {}, "Runs", h("a", { class: "button primary", href: "#/runs/new" }, "Create run")),
    tabBar([["AVAILABLE", "Active"], ["ARCHIVED", "Archived"]], storage, (id) => { storage = id; list.reload(); }),
    list.element);
  await list.reload();
}

/** Button that runs an action on one run and then calls `after`. */
export function runActionButton(run, action, label, after, extra = {}) {
  const button = h("button", { ...extra, onclick: () => withButton(button, async () => {
    if (action === "delete") {
      if (!confirm(`Delete run ${run.display_name}?`)) return;
      await api(`runs/${encodeURIComponent(run.run_id)}`, { method: "DELETE" });
    } else {
      await api(`runs/${encodeURIComponent(run.run_id)}:${action}`, { method: "POST" });
    }
    notify(`${label}: ${run.display_name}`);
    await after();
  }) }, label);
  return button;
}
