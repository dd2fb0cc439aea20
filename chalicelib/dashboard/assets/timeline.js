// The timeline tab of a run: one bar per task attempt on a shared time axis.

import { formatDuration, h, millis } from "./dom.js";
import { isGroupTask, taskLabel } from "./tasks.js";

/** One bar per task attempt on a shared time axis (retried attempts in red), sorted by start. */
export function timeline(tasks, run, onSelect) {
  const rows = tasks.filter((task) => !isGroupTask(task) && millis(task.start_time) !== null)
    .sort((a, b) => millis(a.start_time) - millis(b.start_time) || a.task_id.localeCompare(b.task_id));
  if (!rows.length) return h("p", { class: "muted" }, "No task has started yet.");
  const start = Math.min(millis(run.created_at) ?? Infinity, ...rows.map((task) => millis(task.start_time)));
  const end = Math.max(...rows.map((task) => millis(task.end_time) ?? Date.now()), start + 1000);
  const span = end - start;
  const percent = (ms) => `${(((ms - start) / span) * 100).toFixed(3)}%`;
  const width = (from, to) => `${Math.max(0.15, ((to - from) / span) * 100).toFixed(3)}%`;
  const ticks = Array.from({ length: 6 }, (_, i) => h("span", { class: "tick", style: `left:${(i * 100) / 6}%` }, `+${formatDuration((span * i) / 6) || "0 s"}`));
  return h("div", { class: "timeline", role: "list", "aria-label": "Timeline of task attempts" },
    h("div", { class: "row axis" }, h("div", {}, `${rows.length} task(s) · ${formatDuration(span)}`), h("div", { class: "lane" }, ticks)),
    rows.map((task) => {
      const attempts = (task.attempts || []).map((a) => ({ from: millis(a.started_at) ?? millis(task.start_time), to: millis(a.finished_at), retried: true, label: `attempt ${a.attempt}: ${a.error || "failed"}` }));
      const last = task.attempts && task.attempts.length ? task.attempts[task.attempts.length - 1] : null;
      attempts.push({ from: last ? millis(last.retry_at) ?? millis(last.finished_at) : millis(task.start_time), to: millis(task.end_time) ?? Date.now(), retried: false, label: `attempt ${task.attempt || 1}: ${task.state.toLowerCase()}` });
      return h("div", { class: "row", role: "listitem" }, h("div", { title: task.task_id }, taskLabel(task)),
        h("div", { class: "lane" }, attempts.map((a) => h("button", {
          class: `seg s-${a.retried ? "FAILED retried" : task.state}`, style: `left:${percent(a.from)};width:${width(a.from, a.to)}`,
          title: `${taskLabel(task)} ${a.label}, ${formatDuration(a.to - a.from)}`, "aria-label": `${taskLabel(task)} ${a.label}, ${formatDuration(a.to - a.from)}`,
          onclick: () => onSelect(task.task_id),
        }))));
    }));
}
