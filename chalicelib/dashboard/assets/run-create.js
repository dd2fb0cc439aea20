// Create a run (or a recurring run) from a pipeline version, with a form generated from its parameters;
// "clone" pre-fills it from an earlier run.

import { api, listAll } from "./http.js";
import { alertBox, crumbs, h, replace, time } from "./dom.js";
import { parameterFields, rootParameters } from "./params.js";
import { currentNamespace, isMultiUser } from "./session.js";

export function createRunPage(main, context) {
  return sourceForm(main, context, false);
}

export function createRecurringRunPage(main, context) {
  return sourceForm(main, context, true);
}

function option(value, label, selected) {
  return h("option", { value, selected: value === selected }, label);
}

async function sourceForm(main, { query }, recurring) {
  const clone = query.get("clone") ? await api(`runs/${encodeURIComponent(query.get("clone"))}`) : null;
  const cloneRef = clone && clone.pipeline_version_reference;
  let pipelineId = query.get("pipeline") || (cloneRef ? cloneRef.pipeline_id : "");
  let versionId = query.get("version") || (cloneRef ? cloneRef.pipeline_version_id : "");
  // Multi-user: the namespace's own pipelines and the shared ones.
  const [own, shared, experiments] = await Promise.all([
    listAll("pipelines", "pipelines", { namespace: currentNamespace() }),
    isMultiUser() ? listAll("pipelines", "pipelines", {}) : [],
    listAll("experiments", "experiments", { namespace: currentNamespace() }),
  ]);
  const pipelines = [...own, ...shared.filter((p) => !own.some((o) => o.pipeline_id === p.pipeline_id))];
  const usable = experiments.filter((e) => e.storage_state !== "ARCHIVED");
  const experimentId = query.get("experiment") || (clone ? clone.experiment_id : "");

  const pipelineSelect = h("select", { id: "run-pipeline", required: true }, option("", "Choose a pipeline", pipelineId), pipelines.map((p) => option(p.pipeline_id, p.display_name, pipelineId)));
  const versionSelect = h("select", { id: "run-version" });
  const experimentSelect = h("select", { id: "run-experiment" },
    usable.some((e) => e.display_name === "Default") ? null : option("", "Default", experimentId),
    usable.map((e) => option(e.experiment_id, e.display_name, experimentId || usable.find((x) => x.display_name === "Default")?.experiment_id)));
  const name = h("input", { type: "text", id: "run-name", required: true });
  const description = h("input", { type: "text", id: "run-description", value: clone ? clone.description || "" : "" });
  const paramsBox = h("div", { class: "form wide", style: "grid-column:1/-1" });
  const message = h("div");
  const submit = h("button", { class: "primary", type: "submit" }, recurring ? "Create recurring run" : "Start run");
  let fields = parameterFields({});
  let spec = null; // the spec of a cloned run that did not use a stored version

  async function loadVersions() {
    replace(versionSelect);
    if (!pipelineId) return;
    const versions = (await api(`pipelines/${encodeURIComponent(pipelineId)}/versions`, { query: { page_size: 200, sort_by: "created_at desc" } })).pipeline_versions || [];
    if (!versions.some((v) => v.pipeline_version_id === versionId)) versionId = versions[0] ? versions[0].pipeline_version_id : "";
    replace(versionSelect, versions.map((v) => option(v.pipeline_version_id, `${v.display_name} (${time(v.created_at)})`, versionId)));
  }

  async function loadParameters() {
    let definitions = {};
    if (spec) definitions = rootParameters(spec);
    else if (pipelineId && versionId) {
      const version = await api(`pipelines/${encodeURIComponent(pipelineId)}/versions/${encodeURIComponent(versionId)}`);
      definitions = rootParameters(version.pipeline_spec);
      if (!name.value || name.dataset.auto) {
        const pipeline = pipelines.find((p) => p.pipeline_id === pipelineId);
        name.value = `${pipeline ? pipeline.display_name : "run"} ${new Date().toISOString().slice(0, 19).replace("T", " ")}`;
        name.dataset.auto = "1";
      }
    }
    fields = parameterFields(definitions, clone ? (clone.runtime_config || {}).parameters || {} : {});
    replace(paramsBox, h("h2", { class: "wide", style: "grid-column:1/-1;margin:6px 0 0" }, "Parameters"), fields.element);
  }

  pipelineSelect.addEventListener("change", async () => { pipelineId = pipelineSelect.value; versionId = ""; await loadVersions(); await loadParameters(); });
  versionSelect.addEventListener("change", async () => { versionId = versionSelect.value; await loadParameters(); });
  name.addEventListener("input", () => delete name.dataset.auto);

  const trigger = recurring ? triggerFields() : null;
  const sourceRows = clone && !cloneRef
    ? [h("label", {}, "Pipeline"), h("div", {}, "The pipeline spec of run ", h("a", { href: `#/runs/${encodeURIComponent(clone.run_id)}` }, clone.display_name))]
    : [h("label", { for: "run-pipeline" }, "Pipeline"), pipelineSelect, h("label", { for: "run-version" }, "Version"), versionSelect];

  const form = h("form", { class: "panel", "aria-label": recurring ? "Create recurring run" : "Create run", onsubmit: async (event) => {
    event.preventDefault();
    replace(message);
    const parameters = fields.values();
    const triggerValue = trigger ? trigger.value() : null;
    if (!name.value.trim()) { replace(message, alertBox("The run needs a name.")); name.focus(); return; }
    if (!spec && !(pipelineId && versionId)) { replace(message, alertBox("Choose a pipeline and a version.")); pipelineSelect.focus(); return; }
    if (parameters === null || (trigger && triggerValue === null)) { replace(message, alertBox("Fix the marked fields first.")); return; }
    const body = { display_name: name.value.trim(), description: description.value.trim(), runtime_config: { parameters } };
    if (experimentSelect.value) body.experiment_id = experimentSelect.value;
    if (spec) body.pipeline_spec = spec;
    else body.pipeline_version_reference = { pipeline_id: pipelineId, pipeline_version_id: versionId };
    submit.disabled = true;
    try {
      if (recurring) {
        const created = await api("recurringruns", { method: "POST", json: { ...body, ...triggerValue } });
        location.hash = `#/recurring/${encodeURIComponent(created.recurring_run_id)}`;
      } else {
        const created = await api("runs", { method: "POST", json: body });
        location.hash = `#/runs/${encodeURIComponent(created.run_id)}`;
      }
    } catch (error) {
      replace(message, alertBox(error.message));
    } finally {
      submit.disabled = false;
    }
  } },
  h("div", { class: "form" },
    sourceRows,
    h("label", { for: "run-experiment" }, "Experiment"), experimentSelect,
    h("label", { for: "run-name" }, recurring ? "Recurring run name" : "Run name"), name,
    h("label", { for: "run-description" }, "Description"), description,
    trigger ? trigger.element : null,
    paramsBox,
    h("div", { class: "wide" }, submit)),
  message);

  const title = recurring ? "Create recurring run" : clone ? `Run again: ${clone.display_name}` : "Create run";
  replace(main, crumbs(recurring ? ["Recurring runs", "#/recurring"] : ["Runs", "#/runs"], [title]), h("h1", {}, title), form);
  if (clone && !cloneRef) spec = clone.pipeline_spec;
  if (clone) name.value = `Clone of ${clone.display_name}`;
  else name.dataset.auto = "1";
  await loadVersions();
  await loadParameters();
}

/** Trigger fields of a recurring run: cron or interval, start/end, max concurrency, catch-up, enabled. */
function triggerFields() {
  const kind = h("select", { id: "trigger-kind" }, h("option", { value: "cron" }, "Cron schedule"), h("option", { value: "interval" }, "Every N seconds"));
  const cron = h("input", { type: "text", id: "trigger-cron", value: "0 0 * * * *", "aria-describedby": "trigger-cron-hint" });
  const interval = h("input", { type: "number", id: "trigger-interval", min: 1, value: 3600 });
  const start = h("input", { type: "datetime-local", id: "trigger-start" });
  const end = h("input", { type: "datetime-local", id: "trigger-end" });
  const concurrency = h("input", { type: "number", id: "trigger-concurrency", min: 1, max: 10, value: 1 });
  const catchup = h("input", { type: "checkbox", id: "trigger-catchup", checked: true });
  const enabled = h("input", { type: "checkbox", id: "trigger-enabled", checked: true });
  const error = h("div", { class: "field-error" });
  const cronRow = [h("label", { for: "trigger-cron" }, "Cron expression"), h("div", {}, cron, h("div", { class: "hint", id: "trigger-cron-hint" }, "6 fields with seconds: second minute hour day-of-month month day-of-week"))];
  const intervalRow = [h("label", { for: "trigger-interval" }, "Interval (seconds)"), interval];
  const cronBox = h("div", { style: "display:contents" }, cronRow);
  const intervalBox = h("div", { style: "display:none" }, intervalRow);
  kind.addEventListener("change", () => {
    cronBox.style.display = kind.value === "cron" ? "contents" : "none";
    intervalBox.style.display = kind.value === "interval" ? "contents" : "none";
  });
  const iso = (input) => (input.value ? new Date(input.value).toISOString() : undefined);
  function value() {
    error.textContent = "";
    const bounds = { start_time: iso(start), end_time: iso(end) };
    if (bounds.start_time && bounds.end_time && bounds.end_time <= bounds.start_time) {
      error.textContent = "The end must be after the start.";
      return null;
    }
    const max = Number(concurrency.value);
    if (!Number.isInteger(max) || max < 1) {
      error.textContent = "Max concurrency must be a whole number of at least 1.";
      return null;
    }
    let triggerValue;
    if (kind.value === "cron") triggerValue = { cron_schedule: { cron: cron.value.trim(), ...bounds } };
    else {
      const seconds = Number(interval.value);
      if (!Number.isInteger(seconds) || seconds < 1) {
        error.textContent = "The interval must be a whole number of seconds.";
        return null;
      }
      triggerValue = { periodic_schedule: { interval_second: seconds, ...bounds } };
    }
    return { trigger: triggerValue, max_concurrency: max, no_catchup: !catchup.checked, mode: enabled.checked ? "ENABLE" : "DISABLE" };
  }
  return {
    value,
    element: h("fieldset", { class: "wide" }, h("legend", {}, "Schedule"),
      h("div", { class: "form" },
        h("label", { for: "trigger-kind" }, "Trigger"), kind, cronBox, intervalBox,
        h("label", { for: "trigger-start" }, "Start (optional)"), start,
        h("label", { for: "trigger-end" }, "End (optional)"), end,
        h("label", { for: "trigger-concurrency" }, "Max concurrent runs"), concurrency,
        h("label", { for: "trigger-catchup" }, "Catch up missed runs"), h("div", {}, catchup),
        h("label", { for: "trigger-enabled" }, "Enabled"), h("div", {}, enabled),
        h("div", { class: "wide" }, error))),
  };
}
