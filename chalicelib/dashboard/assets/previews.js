// Artifact previews by type: Metrics as a table, ClassificationMetrics as a confusion matrix and ROC curve,
// SlicedClassificationMetrics per slice, Markdown rendered, HTML in a sandboxed frame, images, text.

import { api } from "./http.js";
import { alertBox, h, replace } from "./dom.js";
import { markdownToHtml } from "./markdown.js";

const TEXT_LIMIT = 200_000;

/** Bytes of an output artifact through KFP's `:read` endpoint. */
export async function readArtifact(runId, taskId, output) {
  const answer = await api(`runs/${encodeURIComponent(runId)}/nodes/${encodeURIComponent(taskId)}/artifacts/${encodeURIComponent(output)}:read`);
  const binary = atob(answer.data || "");
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function imageType(bytes) {
  const starts = (...values) => values.every((v, i) => bytes[i] === v);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return "image/png";
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "image/gif";
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57) return "image/webp";
  const head = new TextDecoder().decode(bytes.slice(0, 200)).trimStart();
  if (head.startsWith("<svg") || (head.startsWith("<?xml") && head.includes("<svg"))) return "image/svg+xml";
  return "";
}

export function metricsTable(metadata) {
  const rows = Object.entries(metadata || {}).filter(([key, value]) => typeof value === "number" && key !== "display_name");
  if (!rows.length) return h("p", { class: "muted" }, "No scalar metrics were logged.");
  return h("table", { class: "list", "aria-label": "Metrics" }, h("thead", {}, h("tr", {}, h("th", {}, "Metric"), h("th", {}, "Value"))),
    h("tbody", {}, rows.map(([key, value]) => h("tr", {}, h("td", {}, key), h("td", { class: "num" }, String(Number.isInteger(value) ? value : Number(value.toPrecision(6))))))));
}

function confusionMatrix(matrix) {
  const labels = (matrix.annotationSpecs || []).map((spec) => spec.displayName);
  const rows = (matrix.rows || []).map((row) => row.row || []);
  if (!labels.length) return null;
  const max = Math.max(1, ...rows.flat());
  return h("div", {}, h("h3", {}, "Confusion matrix"), h("div", { class: "table-wrap", style: "display:inline-block" },
    h("table", { class: "matrix", "aria-label": "Confusion matrix" },
      h("thead", {}, h("tr", {}, h("th", {}, "actual \\ predicted"), labels.map((l) => h("th", { scope: "col" }, l)))),
      h("tbody", {}, rows.map((row, i) => h("tr", {}, h("th", { scope: "row" }, labels[i] || ""),
        row.map((value) => h("td", { style: `background: rgba(26, 86, 219, ${(0.08 + 0.6 * (value / max)).toFixed(2)})` }, String(value)))))))));
}

function rocCurve(points) {
  const curve = (points || []).filter((p) => typeof p.falsePositiveRate === "number" && typeof p.recall === "number")
    .map((p) => [p.falsePositiveRate, p.recall]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (!curve.length) return null;
  const size = 240;
  const pad = 34;
  const xy = ([fpr, tpr]) => `${(pad + fpr * size).toFixed(1)},${(pad / 2 + (1 - tpr) * size).toFixed(1)}`;
  let auc = 0;
  for (let i = 1; i < curve.length; i += 1) auc += (curve[i][0] - curve[i - 1][0]) * (curve[i][1] + curve[i - 1][1]) / 2;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size + pad + 10}" height="${size + pad + 10}" role="img" aria-label="ROC curve">` +
    `<rect x="${pad}" y="${pad / 2}" width="${size}" height="${size}" fill="#fff" stroke="#d8dde3"/>` +
    `<line x1="${pad}" y1="${pad / 2 + size}" x2="${pad + size}" y2="${pad / 2}" stroke="#d8dde3" stroke-dasharray="4 3"/>` +
    `<polyline fill="none" stroke="#1a56db" stroke-width="2" points="${curve.map(xy).join(" ")}"/>` +
    `<text x="${pad + size / 2}" y="${size + pad + 6}" font-size="11" text-anchor="middle">false positive rate</text>` +
    `<text x="10" y="${pad / 2 + size / 2}" font-size="11" text-anchor="middle" transform="rotate(-90 10 ${pad / 2 + size / 2})">true positive rate</text></svg>`;
  const box = h("div");
  box.innerHTML = svg;
  return h("div", {}, h("h3", {}, `ROC curve (AUC ≈ ${auc.toFixed(3)})`), box);
}

function classification(metadata) {
  const parts = [metadata.confusionMatrix ? confusionMatrix(metadata.confusionMatrix) : null, rocCurve(metadata.confidenceMetrics)].filter(Boolean);
  return parts.length ? h("div", { style: "display:flex;gap:24px;flex-wrap:wrap" }, parts) : h("p", { class: "muted" }, "No confusion matrix or ROC data was logged.");
}

function sliced(metadata) {
  const slices = metadata.evaluationSlices || [];
  if (!slices.length) return h("p", { class: "muted" }, "No slices were logged.");
  // kfp writes {slice, sliceClassificationMetrics: {confidenceMetrics, confusionMatrix}} per slice.
  return h("div", {}, slices.map((s) => h("section", { "aria-label": `Slice ${s.slice || ""}` }, h("h3", {}, `Slice ${s.slice || ""}`),
    classification(s.sliceClassificationMetrics || s))));
}

/**
 * A preview element for `artifact` ({type, uri, metadata}) produced as `output` by `taskId` of `runId`.
 * Types whose data lives in metadata render at once; the others load the artifact's bytes.
 */
export function preview(runId, taskId, output, artifact) {
  const type = artifact.type || "";
  const metadata = artifact.metadata || {};
  if (type === "system.Metrics") return metricsTable(metadata);
  if (type === "system.ClassificationMetrics") return classification(metadata);
  if (type === "system.SlicedClassificationMetrics") return sliced(metadata);
  const box = h("div", { class: "muted" }, "Loading preview…");
  readArtifact(runId, taskId, output).then((bytes) => {
    if (type === "system.HTML") {
      const frame = h("iframe", { class: "html-preview", sandbox: "", title: `HTML artifact ${output}`, referrerpolicy: "no-referrer" });
      frame.srcdoc = new TextDecoder().decode(bytes);
      replace(box, frame);
    } else if (type === "system.Markdown") {
      const body = h("div", { class: "md" });
      body.innerHTML = markdownToHtml(new TextDecoder().decode(bytes.slice(0, TEXT_LIMIT)));
      replace(box, body);
    } else if (imageType(bytes)) {
      const url = URL.createObjectURL(new Blob([bytes], { type: imageType(bytes) }));
      replace(box, h("img", { class: "preview", src: url, alt: `Image artifact ${output}` }));
    } else {
      const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes.slice(0, TEXT_LIMIT));
      const binary = [...text.slice(0, 2000)].filter((c) => c === "\uFFFD" || (c < " " && !"\n\r\t".includes(c))).length > 20;
      replace(box, binary ? h("p", {}, `Binary data, ${bytes.length} bytes.`) : h("pre", { class: "block" }, text + (bytes.length > TEXT_LIMIT ? "\n…(truncated)" : "")));
    }
    box.classList.remove("muted");
  }).catch((error) => replace(box, alertBox(`Cannot preview ${output}: ${error.message}`)));
  return box;
}
