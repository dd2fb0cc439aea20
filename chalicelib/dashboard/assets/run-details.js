// Run details: the live graph (polled while the run is active), a timeline of task attempts, a task list,
// the run's facts; a side panel with the selected task's inputs, outputs, previews and logs.

import { api } from "./http.js";
import { alertBox, badge, crumbs, duration, facts, formatDuration, h, millis, notify, replace, tabBar, time } from "./dom.js";
import { drawGraph } from "./graph-view.js";
import { preview } from "./previews.js";
import { ACTIVE_STATES, runActionButton } from "./runs.js";
import { combinedState, groupIds, isGroupTask, taskLabel } from "./tasks.js";
import { timeline } from "./timeline.js";
import { taskList } from "./task-list.js";
import { experimentLink, versionLink } from "./names.js";

const POLL_MS = 2000;

export async function runPage(main, { params: [runId], onLeave }) {
  const path = `runs/${encodeURIComponent(runId)}`;
  groupIds.clear();
  const view = { run: await api(path), tasks: new Map(), layout: null, graph: null, expanded: new Set(), selected: "", tab: "graph", io: new Map(), logTimer: 0 };
  let timer = 0;
  let stopped = false;
  onLeave(() => { stopped = true; clearTimeout(timer); clearTimeout(view.logTimer); });

  const header = h("div");
  const summary = h("div", { class: "panel" });
  const side = h("aside", { class: "panel side", "aria-label": "Selected task" });
  const content = h("div");
  replace(main, header, summary, tabBar([["graph", "Graph"], ["timeline", "Timeline"], ["tasks", "Tasks"], ["details", "Details"]], "graph", (tab) => { view.tab = tab; showTab(); }), h("div", { class: "split" }, content, side));

  function indexTasks() {
    view.tasks = new Map(((view.run.run_details || {}).task_details || []).map((task) => [task.task_id, task]));
  }

  function renderHeader() {
    const run = view.run;
    const active = ACTIVE_STATES.has(run.state);
    const reload = () => refresh(true);
    replace(header,
      crumbs(["Runs", "#/runs"], [run.display_name]),
      h("h1", {}, run.display_name, badge(run.state), h("span", { class: "muted", style: "font-size:14px;font-weight:400" }, duration(run.created_at, run.finished_at)),
        h("span", { class: "row-actions" },
          active && run.state !== "CANCELING" ? runActionButton(run, "terminate", "Terminate", reload, { class: "danger" }) : null,
          ["FAILED", "CANCELED"].includes(run.state) ? runActionButton(run, "retry", "Retry", reload) : null,
          h("a", { class: "button", href: `#/runs/new?clone=${encodeURIComponent(run.run_id)}` }, "Run again"),
          run.storage_state === "ARCHIVED" ? runActionButton(run, "unarchive", "Restore", reload) : runActionButton(run, "archive", "Archive", reload),
          runActionButton(run, "delete", "Delete", async () => { location.hash = "#/runs"; }, { class: "danger" }))));
    replace(summary, run.error ? alertBox(`Run ${run.state.toLowerCase()}: ${run.error.message || JSON.stringify(run.error)}`) : null,
      facts([
        ["Experiment", experimentLink(run.experiment_id)],
        ["Pipeline", versionLink(run.pipeline_version_reference)],
        ["Created", time(run.created_at)], ["Finished", time(run.finished_at)],
        ["Recurring run", run.recurring_run_id ? h("a", { href: `#/recurring/${encodeURIComponent(run.recurring_run_id)}` }, "open recurring run") : ""],
      ]));
  }

  function nodeStatus(node) {
    const ids = node.task_ids || [];
    const found = ids.map((id) => view.tasks.get(id)).filter(Boolean);
    if (!found.length) return { state: "", sub: node.group ? "" : "not started" };
    const state = combinedState(found.map((task) => task.state));
    if (node.group) {
      if (node.kind === "loop" && node.iterations !== undefined) return { state, sub: `${node.iterations} iteration(s) · ${state.toLowerCase()}` };
      return { state, sub: state.toLowerCase() };
    }
    if (found.length === 1 && (node.instances || 1) === 1) {
      const task = found[0];
      return { state, sub: [task.state.toLowerCase(), duration(task.start_time, task.end_time)].filter(Boolean).join(" · ") };
    }
    const done = found.filter((task) => ["SUCCEEDED", "CACHED", "SKIPPED"].includes(task.state)).length;
    return { state, sub: `${done}/${node.instances} done · ${state.toLowerCase()}` };
  }

  async function loadGraph() {
    try {
      view.layout = await api(`${path}/graph`, { query: { expand: [...view.expanded].join(",") } });
    } catch (error) {
      view.layout = { nodes: [], edges: [], width: 0, height: 0, task_count: -1, error: error.message };
    }
    for (const node of view.layout.nodes) if (node.group) for (const id of node.task_ids || []) groupIds.add(id);
  }

  function drawGraphTab() {
    const box = h("div");
    replace(content, view.layout.error ? alertBox(`Cannot draw the graph: ${view.layout.error}`) : null, box);
    view.graph = drawGraph(box, view.layout, {
      status: nodeStatus,
      onSelect: (node) => selectNode(node),
      onToggle: async (node) => {
        if (view.expanded.has(node.id)) view.expanded.delete(node.id);
        else view.expanded.add(node.id);
        await loadGraph();
        drawGraphTab();
      },
    });
    if (view.selected) view.graph.select(view.selected);
  }

  function selectNode(node) {
    const ids = node.task_ids || [];
    if (ids.length === 1) return selectTask(ids[0]);
    view.selected = node.id;
    if (!ids.length) {
      replace(side, h("h2", { style: "margin-top:0" }, node.label), h("p", { class: "muted" }, "Not started yet."));
      return undefined;
    }
    replace(side, h("h2", { style: "margin-top:0" }, node.label), h("p", { class: "muted" }, `${ids.length} instance(s); choose one:`),
      h("ul", {}, ids.map((id) => {
        const task = view.tasks.get(id);
        return h("li", {}, h("button", { class: "small", onclick: () => selectTask(id) }, task ? taskLabel(task) : id), " ", task ? badge(task.state) : "");
      })));
    return undefined;
  }

  function selectTask(taskId) {
    view.selected = taskId;
    if (view.graph) view.graph.select(taskId);
    renderSide();
  }

  async function renderSide(live = false) {
    const task = view.tasks.get(view.selected);
    if (!task) {
      if (!live) replace(side, h("p", { class: "muted" }, view.selected ? "This task has not started yet." : "Select a task to see its inputs, outputs and logs."));
      return;
    }
    const key = `${task.task_id}@${task.attempt || 0}@${task.state}`;
    if (live && side.dataset.key === key) return;
    side.dataset.key = key;
    const ioBox = h("div", { class: "muted" }, "Loading inputs…");
    const logBox = h("div");
    replace(side,
      h("h2", { style: "margin-top:0" }, taskLabel(task), " ", badge(task.state)),
      task.error ? alertBox(task.error.message || JSON.stringify(task.error)) : null,
      facts([
        ["Duration", duration(task.start_time, task.end_time)], ["Started", time(task.start_time)], ["Finished", time(task.end_time)],
        ["Attempt", task.attempt ? String(task.attempt) : ""], ["Pod / process", task.pod_name ? h("span", { class: "kv" }, task.pod_name) : ""],
        ["Task ID", h("span", { class: "kv" }, task.task_id)],
      ]),
      (task.attempts || []).length ? h("div", {}, h("h3", {}, "Earlier attempts"), h("ul", {}, task.attempts.map((a) => h("li", {}, `#${a.attempt}: ${formatDuration((millis(a.finished_at) ?? 0) - (millis(a.started_at) ?? 0))}, ${a.error || "failed"}`)))) : null,
      h("h3", {}, "Inputs"), ioBox,
      h("h3", {}, "Outputs"), outputs(task),
      isGroupTask(task) ? null : [h("h3", {}, "Logs"), logBox]);
    loadIo(task, ioBox);
    if (!isGroupTask(task)) showLogs(task, logBox);
  }

  async function loadIo(task, box) {
    try {
      const io = await api(`${path}/tasks/${encodeURIComponent(task.task_id)}/io`);
      const params = Object.entries(io.inputs.parameters || {});
      const artifacts = Object.entries(io.inputs.artifacts || {});
      replace(box);
      box.classList.remove("muted");
      if (!io.inputs.recorded) box.append(h("p", { class: "muted" }, task.state === "CACHED" ? "Taken from the cache; inputs were not recorded." : "No inputs recorded yet."));
      if (params.length) box.append(valueTable(params));
      for (const [name, list] of artifacts) {
        const producer = io.producers[name];
        box.append(h("div", {}, h("strong", {}, name), ": ", (list || []).map((a) => h("span", { class: "kv" }, a.uri || "")),
          producer ? [" from ", h("button", { class: "small", onclick: () => selectTask(producer.task_id) }, `${producer.task_id.split(".").pop()}.${producer.output}`)] : null));
      }
      if (io.inputs.recorded && !params.length && !artifacts.length) box.append(h("p", { class: "muted" }, "No inputs."));
    } catch (error) {
      replace(box, alertBox(error.message));
    }
  }

  function outputs(task) {
    const params = Object.entries(task.output_parameters || {});
    const artifacts = Object.entries(task.outputs || {});
    if (!params.length && !artifacts.length) return h("p", { class: "muted" }, ["SUCCEEDED", "CACHED"].includes(task.state) ? "No outputs." : "None yet.");
    return h("div", {}, params.length ? valueTable(params) : null, artifacts.map(([name, value]) => (value.artifacts || []).map((artifact) =>
      h("div", { class: "panel", style: "padding:10px" },
        h("div", {}, h("strong", {}, name), " ", h("span", { class: "badge" }, artifact.type || "artifact"), " ",
          h("a", { href: `#/artifacts/${encodeURIComponent(runId)}/${encodeURIComponent(task.task_id)}/${encodeURIComponent(name)}` }, "open")),
        h("div", { class: "kv muted" }, artifact.uri || ""),
        ["SUCCEEDED", "CACHED"].includes(task.state) ? preview(runId, task.task_id, name, artifact) : null))));
  }

  function showLogs(task, box) {
    clearTimeout(view.logTimer);
    const attempts = Math.max(1, task.attempt || 1);
    const choice = h("select", { "aria-label": "Attempt", onchange: () => load() }, Array.from({ length: attempts }, (_, i) => h("option", { value: i + 1, selected: i + 1 === attempts }, `attempt ${i + 1}`)));
    const text = h("pre", { class: "block", tabindex: "0", "aria-label": "Task log" }, "Loading…");
    const note = h("div", { class: "muted" });
    replace(box, h("div", { class: "toolbar" }, choice, note), text);
    const load = async () => {
      clearTimeout(view.logTimer);
      const current = Number(choice.value) === attempts;
      const running = current && ["RUNNING", "PENDING", "CANCELING"].includes(view.tasks.get(task.task_id)?.state);
      try {
        const log = await api(`${path}/tasks/${encodeURIComponent(task.task_id)}/logs`, { query: { attempt: choice.value }, text: true });
        const atEnd = text.scrollTop + text.clientHeight >= text.scrollHeight - 4;
        text.textContent = log || "(empty log)";
        if (atEnd) text.scrollTop = text.scrollHeight;
        note.textContent = running ? "following…" : "";
      } catch (error) {
        text.textContent = running ? "The log appears here while the task runs…" : error.message;
        note.textContent = running ? "following…" : "";
      }
      if (running && !stopped) view.logTimer = setTimeout(load, POLL_MS);
    };
    load();
  }

  function showTab() {
    if (view.tab === "graph") {
      if (view.layout) drawGraphTab();
    } else if (view.tab === "timeline") replace(content, timeline([...view.tasks.values()], view.run, selectTask));
    else if (view.tab === "tasks") {
      view.taskList = taskList([...view.tasks.values()], selectTask);
      replace(content, view.taskList.element);
    }
    else replace(content, runFacts(view.run));
  }

  async function refresh(force = false) {
    try {
      view.run = await api(path);
    } catch (error) {
      notify(error.message, "error");
      return;
    }
    const known = view.layout ? view.layout.task_count : -1;
    indexTasks();
    renderHeader();
    if (view.tasks.size !== known || force) {
      await loadGraph();
      if (view.tab === "graph") drawGraphTab();
    } else if (view.graph && view.tab === "graph") view.graph.update();
    if (view.tab === "timeline") showTab();
    else if (view.tab === "tasks") view.taskList.update([...view.tasks.values()]);
    renderSide(true);
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped && ACTIVE_STATES.has(view.run.state)) timer = setTimeout(() => refresh(), POLL_MS);
  }

  indexTasks();
  renderHeader();
  renderSide();
  await loadGraph();
  showTab();
  schedule();
}

function valueTable(entries) {
  return h("table", { class: "list" }, h("tbody", {}, entries.map(([name, value]) => h("tr", {}, h("td", {}, name), h("td", { class: "kv" }, typeof value === "string" ? value : JSON.stringify(value))))));
}

function runFacts(run) {
  const parameters = Object.entries((run.runtime_config || {}).parameters || {});
  const root = ((run.run_details || {}).task_details || []).find((task) => task.task_id === "root");
  const outputs = Object.entries((root && root.output_parameters) || {});
  return h("div", {},
    h("div", { class: "panel" }, facts([
      ["Run ID", h("span", { class: "kv" }, run.run_id)], ["State", badge(run.state)], ["Duration", duration(run.created_at, run.finished_at)],
      ["Created", time(run.created_at)], ["Scheduled", time(run.scheduled_at)], ["Finished", time(run.finished_at)],
      ["Pipeline root", (run.runtime_config || {}).pipeline_root], ["Service account", run.service_account], ["Description", run.description],
    ])),
    h("h2", {}, "Parameters"), parameters.length ? valueTable(parameters) : h("p", { class: "muted" }, "No parameters."),
    outputs.length ? [h("h2", {}, "Pipeline outputs"), valueTable(outputs)] : null,
    h("h2", {}, "State history"),
    h("table", { class: "list", "aria-label": "State history" }, h("tbody", {}, (run.state_history || []).map((change) =>
      h("tr", {}, h("td", {}, time(change.update_time)), h("td", {}, badge(change.state)), h("td", {}, change.error ? change.error.message || "" : ""))))));
}
