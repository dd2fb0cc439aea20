// Display names of experiments and pipeline versions for links, looked up once per page load and cached.

import { api } from "./http.js";
import { h } from "./dom.js";

const cache = new Map();

function cached(key, load) {
  if (!cache.has(key)) cache.set(key, load().catch(() => ""));
  return cache.get(key);
}

/** A link whose text becomes the looked-up name (the fallback stays if the lookup fails). */
function namedLink(href, fallback, name) {
  const link = h("a", { href }, fallback);
  name.then((text) => { if (text) link.textContent = text; });
  return link;
}

export function experimentLink(id) {
  if (!id) return "";
  const name = cached(`e:${id}`, async () => (await api(`experiments/${encodeURIComponent(id)}`)).display_name);
  return namedLink(`#/experiments/${encodeURIComponent(id)}`, "experiment", name);
}

export function versionLink(reference) {
  if (!reference || !reference.pipeline_id) return h("span", { class: "muted" }, "spec given with the run");
  const { pipeline_id: pipelineId, pipeline_version_id: versionId } = reference;
  const name = cached(`v:${pipelineId}/${versionId}`, async () => {
    const [pipeline, version] = await Promise.all([
      api(`pipelines/${encodeURIComponent(pipelineId)}`),
      api(`pipelines/${encodeURIComponent(pipelineId)}/versions/${encodeURIComponent(versionId)}`),
    ]);
    return `${pipeline.display_name} / ${version.display_name}`;
  });
  return namedLink(`#/pipelines/${encodeURIComponent(pipelineId)}/versions/${encodeURIComponent(versionId)}`, "pipeline version", name);
}

/** Forget names (after a page changes them). */
export function forgetNames() {
  cache.clear();
}
