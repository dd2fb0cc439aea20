// Recurring runs: list, enable/disable, delete; a recurring run's schedule and its runs.

import { api } from "./http.js";
import { alertBox, badge, crumbs, facts, h, notify, replace, time, withButton } from "./dom.js";
import { currentNamespace } from "./session.js";
import { listView } from "./table.js";
import { runList } from "./runs.js";
import { experimentLink, versionLink } from "./names.js";

export function describeTrigger(trigger = {}) {
  if (trigger.cron_schedule) return `cron ${trigger.cron_schedule.cron}`;
  if (trigger.periodic_schedule) return `every ${trigger.periodic_schedule.interval_second} s`;
  return "";
}

function toggleButton(recurring, after) {
  const enabled = recurring.status === "ENABLED";
  const button = h("button", { class: "small", onclick: () => withButton(button, async () => {
    await api(`recurringruns/${encodeURIComponent(recurring.recurring_run_id)}:${enabled ? "disable" : "enable"}`, { method: "POST" });
    notify(`Recurring run ${recurring.display_name} ${enabled ? "disabled" : "enabled"}`);
    await after();
  }) }, enabled ? "Disable" : "Enable");
  return button;
}

function deleteButton(recurring, after) {
  const button = h("button", { class: "small danger", onclick: () => withButton(button, async () => {
    if (!confirm(`Delete recurring run ${recurring.display_name}? Its runs stay.`)) return;
    await api(`recurringruns/${encodeURIComponent(recurring.recurring_run_id)}`, { method: "DELETE" });
    notify(`Recurring run ${recurring.display_name} deleted`);
    await after();
  }) }, "Delete");
  return button;
}

export function recurringList({ experimentId = "" } = {}) {
  const list = listView({
    path: "recurringruns",
    key: "recurringRuns",
    label: "Recurring runs",
    query: () => (experimentId ? { experiment_id: experimentId } : { namespace: currentNamespace() }),
    columns: [
      { label: "Name", sort: "display_name", cell: (r) => h("a", { href: `#/recurring/${encodeURIComponent(r.recurring_run_id)}` }, r.display_name) },
      { label: "Status", cell: (r) => badge(r.status) },
      { label: "Trigger", cell: (r) => describeTrigger(r.trigger) },
      { label: "Created", sort: "created_at", optional: true, cell: (r) => time(r.created_at) },
      { label: "", cell: (r) => h("div", { class: "row-actions" }, toggleButton(r, () => list.refresh()), deleteButton(r, () => list.refresh())) },
    ],
    empty: "No recurring runs.",
  });
  return list;
}

export async function listPage(main) {
  const list = recurringList();
  replace(main, h("h1", {}, "Recurring runs", h("a", { class: "button primary", href: "#/recurring/new" }, "Create recurring run")), list.element);
  await list.reload();
}

export async function detailsPage(main, { params: [id] }) {
  const recurring = await api(`recurringruns/${encodeURIComponent(id)}`);
  const trigger = recurring.trigger || {};
  const schedule = trigger.cron_schedule || trigger.periodic_schedule || {};
  const runs = runList({ recurringRunId: id, experimentId: recurring.experiment_id, label: "Runs of this recurring run" });
  const again = () => detailsPage(main, { params: [id] });
  replace(main,
    crumbs(["Recurring runs", "#/recurring"], [recurring.display_name]),
    h("h1", {}, recurring.display_name, badge(recurring.status), toggleButton(recurring, again), deleteButton(recurring, async () => { location.hash = "#/recurring"; })),
    recurring.error ? alertBox(recurring.error.message || JSON.stringify(recurring.error)) : null,
    h("div", { class: "panel" }, facts([
      ["Trigger", describeTrigger(trigger)], ["Start", time(schedule.start_time)], ["End", time(schedule.end_time)],
      ["Max concurrent runs", String(recurring.max_concurrency || 1)], ["Catch up missed runs", recurring.no_catchup ? "no" : "yes"],
      ["Experiment", experimentLink(recurring.experiment_id)],
      ["Pipeline", versionLink(recurring.pipeline_version_reference)],
      ["Parameters", h("span", { class: "kv" }, JSON.stringify((recurring.runtime_config || {}).parameters || {}))],
      ["Created", time(recurring.created_at)], ["ID", h("span", { class: "kv" }, recurring.recurring_run_id)],
    ])),
    h("h2", {}, "Runs"), runs.element);
  await runs.reload();
}
