// Compare 2–10 runs: parameters and scalar metrics side by side, rows that differ highlighted.

import { api } from "./http.js";
import { alertBox, badge, crumbs, duration, h, replace } from "./dom.js";
import { taskLabel } from "./tasks.js";

const MIN_RUNS = 2;
const MAX_RUNS = 10;

/** Scalar metrics of a run: "<task> / <name>" → number, from its system.Metrics artifacts' metadata. */
export function scalarMetrics(run) {
  const metrics = new Map();
  for (const task of (run.run_details || {}).task_details || []) {
    for (const [output, value] of Object.entries(task.outputs || {})) {
      for (const artifact of value.artifacts || []) {
        if (artifact.type !== "system.Metrics") continue;
        for (const [name, number] of Object.entries(artifact.metadata || {})) {
          if (typeof number === "number") metrics.set(`${taskLabel(task)} / ${output === "metrics" || output === "Output" ? "" : `${output} / `}${name}`, number);
        }
      }
    }
  }
  return metrics;
}

function show(value) {
  if (value === undefined) return "—";
  return typeof value === "string" ? value : JSON.stringify(value);
}

function sideBySide(title, runs, rowsOf) {
  const maps = runs.map(rowsOf);
  const keys = [...new Set(maps.flatMap((map) => [...map.keys()]))].sort();
  if (!keys.length) return [h("h2", {}, title), h("p", { class: "muted" }, `None of these runs has ${title.toLowerCase()}.`)];
  return [h("h2", {}, title), h("div", { class: "table-wrap" }, h("table", { class: "list", "aria-label": title },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), runs.map((run) => h("th", { scope: "col" }, run.display_name)))),
    h("tbody", {}, keys.map((key) => {
      const values = maps.map((map) => show(map.get(key)));
      const differs = new Set(values).size > 1;
      return h("tr", { class: differs ? "diff" : null, "data-differs": differs ? "true" : null }, h("td", {}, key), values.map((value) => h("td", { class: "kv" }, value)));
    }))))];
}

export async function comparePage(main, { query }) {
  const ids = (query.get("runs") || "").split(",").filter(Boolean);
  if (ids.length < MIN_RUNS || ids.length > MAX_RUNS) {
    replace(main, h("h1", {}, "Compare runs"), alertBox(`Select ${MIN_RUNS} to ${MAX_RUNS} runs to compare (got ${ids.length}).`), h("a", { href: "#/runs" }, "Back to runs"));
    return;
  }
  const runs = await Promise.all(ids.map((id) => api(`runs/${encodeURIComponent(id)}`)));
  replace(main,
    crumbs(["Runs", "#/runs"], ["Compare"]),
    h("h1", {}, `Compare ${runs.length} runs`),
    h("div", { class: "table-wrap" }, h("table", { class: "list", "aria-label": "Runs" },
      h("thead", {}, h("tr", {}, h("th", {}, ""), runs.map((run) => h("th", { scope: "col" }, h("a", { href: `#/runs/${encodeURIComponent(run.run_id)}` }, run.display_name))))),
      h("tbody", {},
        h("tr", {}, h("td", {}, "State"), runs.map((run) => h("td", {}, badge(run.state)))),
        h("tr", {}, h("td", {}, "Duration"), runs.map((run) => h("td", {}, duration(run.created_at, run.finished_at))))))),
    sideBySide("Parameters", runs, (run) => new Map(Object.entries((run.runtime_config || {}).parameters || {}))),
    sideBySide("Metrics", runs, scalarMetrics));
}
