// Artifacts across runs (type, producer task and run, search) and one artifact's page: preview and lineage.

import { api } from "./http.js";
import { alertBox, badge, crumbs, facts, h, replace, time } from "./dom.js";
import { preview } from "./previews.js";
import { currentNamespace } from "./session.js";

export async function listPage(main) {
  const rows = h("tbody");
  const message = h("div");
  const more = h("button", { onclick: () => load(false) }, "Load more");
  let token = "";
  let timer;
  const search = h("input", { type: "search", placeholder: "Search by name, type, task, run or URI", "aria-label": "Search artifacts", oninput: () => { clearTimeout(timer); timer = setTimeout(() => load(true), 250); } });
  let latest = 0; // answers to older requests (a search typed meanwhile) are dropped
  async function load(fresh) {
    const request = ++latest;
    if (fresh) { token = ""; replace(rows); }
    try {
      const page = await api("artifacts", { query: { search: search.value.trim(), page_token: token, namespace: currentNamespace() } });
      if (request !== latest) return;
      token = page.next_page_token || "";
      for (const a of page.artifacts || []) {
        rows.append(h("tr", {},
          h("td", {}, h("a", { href: `#/artifacts/${encodeURIComponent(a.run_id)}/${encodeURIComponent(a.task_id)}/${encodeURIComponent(a.output)}` }, a.output)),
          h("td", {}, a.type ? h("span", { class: "badge" }, a.type) : ""),
          h("td", {}, a.task_name), h("td", {}, h("a", { href: `#/runs/${encodeURIComponent(a.run_id)}` }, a.run_name)),
          h("td", { class: "optional" }, time(a.created_at)), h("td", { class: "optional kv" }, a.uri)));
      }
      if (!rows.children.length) rows.append(h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No artifacts match.")));
      more.hidden = !token;
      replace(message);
    } catch (error) {
      if (request === latest) replace(message, alertBox(error.message));
    }
  }
  replace(main, h("h1", {}, "Artifacts"), h("div", { class: "toolbar" }, h("span", { class: "grow" }), search), message,
    h("div", { class: "table-wrap" }, h("table", { class: "list", "aria-label": "Artifacts" },
      h("thead", {}, h("tr", {}, ["Artifact", "Type", "Task", "Run", "Created", "URI"].map((label, i) => h("th", { scope: "col", class: i > 3 ? "optional" : null }, label)))), rows)),
    h("div", { class: "pager" }, more));
  await load(true);
}

export async function artifactPage(main, { params: [runId, taskId, output] }) {
  const [run, io] = await Promise.all([api(`runs/${encodeURIComponent(runId)}`), api(`runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/io`)]);
  const task = ((run.run_details || {}).task_details || []).find((t) => t.task_id === taskId);
  const artifact = task && ((task.outputs || {})[output] || {}).artifacts ? task.outputs[output].artifacts[0] : null;
  if (!artifact) {
    replace(main, h("h1", {}, output), alertBox(`Task ${taskId} of run ${run.display_name} has no output artifact ${output}.`));
    return;
  }
  const runLink = `#/runs/${encodeURIComponent(runId)}`;
  const consumers = io.consumers[output] || [];
  replace(main,
    crumbs(["Artifacts", "#/artifacts"], [run.display_name, runLink], [output]),
    h("h1", {}, output, artifact.type ? h("span", { class: "badge" }, artifact.type) : null),
    h("div", { class: "panel" }, facts([
      ["URI", h("span", { class: "kv" }, artifact.uri || "")], ["Produced by", [h("a", { href: runLink }, task.display_name || taskId), " ", badge(task.state)]],
      ["Run", h("a", { href: runLink }, run.display_name)], ["Created", time(task.end_time || task.create_time)],
      ["Consumed by", consumers.length ? consumers.map((c, i) => [i ? ", " : "", `${c.display_name} (input ${c.input})`]) : "no task in this run"],
    ])),
    Object.keys(artifact.metadata || {}).length ? h("details", { class: "panel" }, h("summary", {}, "Metadata"), h("pre", { class: "block" }, JSON.stringify(artifact.metadata, null, 2))) : null,
    h("h2", {}, "Preview"), h("div", { class: "panel" }, preview(runId, taskId, output, artifact)));
}
