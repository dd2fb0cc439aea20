// Pipelines: list with search, upload (file picker or drag and drop), versions, delete; a version's graph,
// parameters and source.

import { api } from "./http.js";
import { alertBox, crumbs, facts, h, notify, replace, tabBar, time, withButton } from "./dom.js";
import { listView } from "./table.js";
import { drawGraph } from "./graph-view.js";
import { rootParameters, typeLabel } from "./params.js";
import { toYaml } from "./yaml.js";
import { currentNamespace, isMultiUser } from "./session.js";

const PACKAGE_TYPES = ".yaml,.yml,.json,.zip,.tar.gz,.tgz";

/** An upload form: file input plus a drop zone. `submit(file, name, description)` does the request. */
function uploadForm({ title, nameLabel, submitLabel, submit, nameRequired = false }) {
  let file = null;
  const input = h("input", { type: "file", id: `${title}-file`, accept: PACKAGE_TYPES, onchange: () => choose(input.files[0]) });
  const chosen = h("span", { class: "muted" }, "No file chosen");
  const zone = h("div", { class: "dropzone" }, "Drop a pipeline package here (YAML, JSON, zip or tar.gz), or ", h("label", { for: `${title}-file`, class: "button small" }, "choose a file"), " ", chosen, input);
  input.style.position = "absolute";
  input.style.opacity = "0";
  input.style.width = "1px";
  const name = h("input", { type: "text", id: `${title}-name`, placeholder: nameRequired ? "required" : "defaults to the file name" });
  const description = h("input", { type: "text", id: `${title}-description`, placeholder: "optional" });
  const button = h("button", { class: "primary", type: "submit" }, submitLabel);
  const message = h("div");
  function choose(picked) {
    file = picked || null;
    chosen.textContent = file ? `${file.name} (${file.size} bytes)` : "No file chosen";
    if (file && !name.value && !nameRequired) name.placeholder = file.name.replace(/\.(ya?ml|json|zip|tar\.gz|tgz)$/i, "");
  }
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    choose(event.dataTransfer.files[0]);
  });
  const form = h("form", { class: "panel", "aria-label": title, onsubmit: async (event) => {
    event.preventDefault();
    replace(message);
    if (!file) { replace(message, alertBox("Choose a pipeline package first.")); return; }
    const chosenName = name.value.trim() || (nameRequired ? "" : name.placeholder);
    if (!chosenName) { replace(message, alertBox(`${nameLabel} is required.`)); name.focus(); return; }
    button.disabled = true;
    try {
      await submit(file, chosenName, description.value.trim());
      form.reset();
      choose(null);
    } catch (error) {
      replace(message, alertBox(error.message));
    } finally {
      button.disabled = false;
    }
  } },
  h("h2", { style: "margin-top:0" }, title),
  h("div", { class: "form" },
    h("div", { class: "wide" }, zone),
    h("label", { for: `${title}-name` }, nameLabel), name,
    h("label", { for: `${title}-description` }, "Description"), description,
    h("div", { class: "wide" }, button)),
  message);
  return form;
}

function packageForm(file) {
  const form = new FormData();
  form.append("uploadfile", file, file.name);
  return form;
}

export async function listPage(main) {
  // Multi-user: the namespace's own pipelines, or the shared ones (namespace "") every namespace can run.
  let scope = currentNamespace();
  const list = listView({
    path: "pipelines",
    key: "pipelines",
    label: "Pipelines",
    query: () => (scope ? { namespace: scope } : {}),
    columns: [
      { label: "Name", sort: "display_name", cell: (p) => h("a", { href: `#/pipelines/${encodeURIComponent(p.pipeline_id)}` }, p.display_name) },
      { label: "Description", sort: "description", optional: true, cell: (p) => p.description || "" },
      { label: "Created", sort: "created_at", optional: true, cell: (p) => time(p.created_at) },
      { label: "", cell: (p) => deleteButton(p, () => list.refresh()) },
    ],
    empty: "No pipelines. Upload one above.",
  });
  const upload = uploadForm({
    title: "Upload pipeline",
    nameLabel: "Pipeline name",
    submitLabel: "Upload",
    submit: async (file, name, description) => {
      const created = await api("pipelines/upload", { method: "POST", query: { name, description, namespace: currentNamespace() }, form: packageForm(file) });
      notify(`Pipeline ${created.display_name} uploaded`);
      location.hash = `#/pipelines/${encodeURIComponent(created.pipeline_id)}`;
    },
  });
  const scopes = isMultiUser() ? tabBar([[currentNamespace(), currentNamespace() || "Private"], ["", "Shared"]], scope, (id) => { scope = id; list.reload(); }) : null;
  replace(main, h("h1", {}, "Pipelines"), upload, scopes, list.element);
  await list.reload();
}

function deleteButton(pipeline, after) {
  const button = h("button", { class: "small danger", onclick: () => withButton(button, async () => {
    if (!confirm(`Delete pipeline ${pipeline.display_name} and all its versions?`)) return;
    await api(`pipelines/${encodeURIComponent(pipeline.pipeline_id)}`, { method: "DELETE", query: { cascade: "true" } });
    notify(`Pipeline ${pipeline.display_name} deleted`);
    await after();
  }) }, "Delete");
  return button;
}

export async function detailsPage(main, { params: [id] }) {
  const pipeline = await api(`pipelines/${encodeURIComponent(id)}`);
  const base = `pipelines/${encodeURIComponent(id)}/versions`;
  const list = listView({
    path: base,
    key: "pipeline_versions",
    label: "Versions",
    columns: [
      { label: "Version", sort: "display_name", cell: (v) => h("a", { href: `#/pipelines/${encodeURIComponent(id)}/versions/${encodeURIComponent(v.pipeline_version_id)}` }, v.display_name) },
      { label: "Description", sort: "description", optional: true, cell: (v) => v.description || "" },
      { label: "Created", sort: "created_at", cell: (v) => time(v.created_at) },
      { label: "", cell: (v) => h("div", { class: "row-actions" },
        h("a", { class: "button small", href: `#/runs/new?pipeline=${encodeURIComponent(id)}&version=${encodeURIComponent(v.pipeline_version_id)}` }, "Create run"),
        versionDeleteButton(id, v, () => list.refresh())) },
    ],
    empty: "No versions.",
  });
  const upload = uploadForm({
    title: "Upload new version",
    nameLabel: "Version name",
    submitLabel: "Upload version",
    nameRequired: true,
    submit: async (file, name, description) => {
      const created = await api("pipelines/upload_version", { method: "POST", query: { name, description, pipelineid: id }, form: packageForm(file) });
      notify(`Version ${created.display_name} uploaded`);
      await list.reload();
    },
  });
  replace(main,
    crumbs(["Pipelines", "#/pipelines"], [pipeline.display_name]),
    h("h1", {}, pipeline.display_name, h("a", { class: "button primary", href: `#/runs/new?pipeline=${encodeURIComponent(id)}` }, "Create run"), deleteButton(pipeline, () => { location.hash = "#/pipelines"; })),
    h("div", { class: "panel" }, facts([["Description", pipeline.description], ["Created", time(pipeline.created_at)], ["ID", h("span", { class: "kv" }, pipeline.pipeline_id)]])),
    h("h2", {}, "Versions"), list.element, upload);
  await list.reload();
}

function versionDeleteButton(pipelineId, version, after) {
  const button = h("button", { class: "small danger", onclick: () => withButton(button, async () => {
    if (!confirm(`Delete version ${version.display_name}?`)) return;
    await api(`pipelines/${encodeURIComponent(pipelineId)}/versions/${encodeURIComponent(version.pipeline_version_id)}`, { method: "DELETE" });
    notify(`Version ${version.display_name} deleted`);
    await after();
  }) }, "Delete");
  return button;
}

export async function versionPage(main, { params: [pipelineId, versionId] }) {
  const path = `pipelines/${encodeURIComponent(pipelineId)}/versions/${encodeURIComponent(versionId)}`;
  const [pipeline, version] = await Promise.all([api(`pipelines/${encodeURIComponent(pipelineId)}`), api(path)]);
  const body = h("div");
  const spec = version.pipeline_spec || {};
  const show = async (tab) => {
    if (tab === "parameters") replace(body, parametersTable(rootParameters(spec)));
    else if (tab === "source") replace(body, h("pre", { class: "block", "aria-label": "Pipeline source" }, toYaml(spec)));
    else await showGraph(body, path, spec);
  };
  replace(main,
    crumbs(["Pipelines", "#/pipelines"], [pipeline.display_name, `#/pipelines/${encodeURIComponent(pipelineId)}`], [version.display_name]),
    h("h1", {}, version.display_name, h("a", { class: "button primary", href: `#/runs/new?pipeline=${encodeURIComponent(pipelineId)}&version=${encodeURIComponent(versionId)}` }, "Create run")),
    version.error ? alertBox(`This version has no usable spec: ${version.error.message || JSON.stringify(version.error)}`) : null,
    h("div", { class: "panel" }, facts([["Description", version.description], ["Created", time(version.created_at)], ["ID", h("span", { class: "kv" }, version.pipeline_version_id)]])),
    tabBar([["graph", "Graph"], ["parameters", "Parameters"], ["source", "Source"]], "graph", show),
    body);
  await show("graph");
}

export function parametersTable(definitions) {
  const rows = Object.entries(definitions);
  if (!rows.length) return h("p", { class: "muted" }, "This pipeline takes no parameters.");
  return h("div", { class: "table-wrap" }, h("table", { class: "list", "aria-label": "Parameters" },
    h("thead", {}, h("tr", {}, ["Name", "Type", "Default", "Optional", "Description"].map((label) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, rows.map(([name, d]) => h("tr", {},
      h("td", {}, name), h("td", {}, typeLabel(d)),
      h("td", { class: "kv" }, d.defaultValue === undefined ? "" : JSON.stringify(d.defaultValue)),
      h("td", {}, d.isOptional || d.defaultValue !== undefined ? "yes" : "no"), h("td", {}, d.description || ""))))));
}

async function showGraph(body, path, spec) {
  const graphBox = h("div");
  const side = h("aside", { class: "panel side", "aria-label": "Selected task" }, h("p", { class: "muted" }, "Select a task to see its component."));
  replace(body, h("div", { class: "split" }, graphBox, side));
  let layout;
  try {
    layout = await api(`${path}/graph`);
  } catch (error) {
    replace(graphBox, alertBox(`Cannot draw this version's graph: ${error.message}`));
    return;
  }
  const real = spec.root ? spec : spec.pipeline_spec || {};
  drawGraph(graphBox, layout, {
    status: (node) => ({ sub: node.group ? "" : node.kind }),
    onSelect: (node) => replace(side, componentFacts(real, node)),
  });
}

function componentFacts(spec, node) {
  const component = (spec.components || {})[node.component] || {};
  const executor = ((spec.deploymentSpec || {}).executors || {})[component.executorLabel] || {};
  const container = executor.container || {};
  const inputs = { ...((component.inputDefinitions || {}).parameters || {}), ...((component.inputDefinitions || {}).artifacts || {}) };
  const outputs = { ...((component.outputDefinitions || {}).parameters || {}), ...((component.outputDefinitions || {}).artifacts || {}) };
  const describe = (defs) => Object.entries(defs).map(([name, d]) => `${name}: ${d.parameterType || (d.artifactType || {}).schemaTitle || "?"}`).join(", ");
  return [
    h("h2", { style: "margin-top:0" }, node.label),
    facts([
      ["Kind", node.kind], ["Task", node.task], ["Component", node.component], ["Condition", node.condition ? h("code", {}, node.condition) : ""],
      ["Loop over", node.iterator], ["Parallelism", node.parallelism], ["Runs after failures", node.runs_after_failures ? "yes (exit handler or ignore_upstream_failure)" : ""],
      ["Inputs", describe(inputs)], ["Outputs", describe(outputs)], ["Image", container.image],
    ]),
    container.command || container.args ? h("details", {}, h("summary", {}, "Command"), h("pre", { class: "block" }, [...(container.command || []), ...(container.args || [])].join("\n"))) : null,
  ];
}
