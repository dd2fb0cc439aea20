// The task list tab of a run: every task instance with a state filter and a search.

import { badge, duration, h, millis, replace, time } from "./dom.js";
import { isGroupTask, taskLabel } from "./tasks.js";

const TASK_LIST_PAGE = 200;

/** All tasks in a table with a state filter and a search, for runs too big to read as a graph. Returns
 * {element, update(tasks)}: update keeps the filter, the search text and focus while the run goes on. */
export function taskList(initial, onSelect) {
  let tasks = initial;
  const search = h("input", { type: "search", placeholder: "Search tasks", "aria-label": "Search tasks", oninput: () => draw() });
  const state = h("select", { "aria-label": "Filter tasks by state", onchange: () => draw() });
  const bodyRows = h("tbody");
  const more = h("div", { class: "pager" });
  let limit = TASK_LIST_PAGE;
  function states() {
    const chosen = state.value;
    replace(state, h("option", { value: "" }, "All states"),
      [...new Set(tasks.map((task) => task.state))].sort().map((s) => h("option", { value: s, selected: s === chosen }, s.toLowerCase())));
  }
  function draw() {
    const needle = search.value.trim().toLowerCase();
    const shown = tasks.filter((task) => (!state.value || task.state === state.value) && (!needle || taskLabel(task).toLowerCase().includes(needle) || task.task_id.includes(needle)))
      .sort((a, b) => (millis(a.start_time) ?? Infinity) - (millis(b.start_time) ?? Infinity) || a.task_id.localeCompare(b.task_id));
    replace(bodyRows, shown.slice(0, limit).map((task) => h("tr", {},
      h("td", {}, h("button", { class: "small", onclick: () => onSelect(task.task_id) }, taskLabel(task))),
      h("td", {}, badge(task.state)), h("td", {}, duration(task.start_time, task.end_time)),
      h("td", { class: "optional" }, time(task.start_time)), h("td", { class: "optional" }, isGroupTask(task) ? "group" : String(task.attempt || "")),
      h("td", { class: "optional kv" }, task.pod_name || ""))));
    replace(more, h("span", { class: "muted" }, `${Math.min(limit, shown.length)} of ${shown.length}`),
      shown.length > limit ? h("button", { onclick: () => { limit += TASK_LIST_PAGE; draw(); } }, "Show more") : null);
  }
  states();
  draw();
  const element = h("div", {}, h("div", { class: "toolbar" }, state, search),
    h("div", { class: "table-wrap" }, h("table", { class: "list", "aria-label": "Tasks" },
      h("thead", {}, h("tr", {}, ["Task", "State", "Duration", "Started", "Attempt", "Pod / process"].map((label, i) => h("th", { scope: "col", class: i > 2 ? "optional" : null }, label)))),
      bodyRows)), more);
  return { element, update: (next) => { tasks = next; states(); draw(); } };
}
