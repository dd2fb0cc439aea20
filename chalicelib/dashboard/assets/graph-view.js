// Draws a server-side layout (`/graph` helpers) as SVG: groups as boxes, tasks as cards with a state bar,
// edges as curves that stay in the gaps the layout left. Nodes are focusable buttons (Enter/Space selects).

import { h, replace } from "./dom.js";

const esc = (text) => String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const fit = (text, chars) => (text.length > chars ? `${text.slice(0, chars - 1)}…` : text);
const GROUP_TITLES = { loop: "loop", condition: "condition", branches: "if / elif / else", "exit-handler": "exit handler", pipeline: "pipeline", iteration: "" };

function edgePath(points) {
  let d = `M${points[0][0]},${points[0][1]}`;
  for (let i = 1; i < points.length; i += 1) {
    const [x1, y1] = points[i - 1];
    const [x2, y2] = points[i];
    if (x1 === x2) d += `L${x2},${y2}`;
    else {
      const mid = (y1 + y2) / 2;
      d += `C${x1},${mid} ${x2},${mid} ${x2},${y2}`;
    }
  }
  return d;
}

function nodeMarkup(node, status) {
  const { x, y, width: w, height: hgt } = node;
  const info = status(node) || {};
  const state = info.state || "";
  const label = node.label || node.id;
  if (node.group) {
    const title = node.kind === "iteration" ? label : `${GROUP_TITLES[node.kind] ?? node.kind}: ${label}`;
    const count = node.kind === "loop" && node.iterations ? ` × ${node.iterations}` : "";
    const toggle = node.expandable
      ? `<g class="toggle" tabindex="0" role="button" data-toggle="${esc(node.id)}" aria-label="${node.expanded ? "Collapse" : "Expand"} iterations of ${esc(label)}">` +
        `<rect x="${x + w - 62}" y="${y + 4}" width="56" height="18" rx="4"/><text x="${x + w - 34}" y="${y + 17}" text-anchor="middle">${node.expanded ? "collapse" : "expand"}</text></g>`
      : "";
    return `<g class="node group k-${node.kind} st-${state}" data-id="${esc(node.id)}" tabindex="0" role="button" aria-label="${esc(`${title}${count}`)} ${esc(state.toLowerCase())}">` +
      `<rect class="body" x="${x}" y="${y}" width="${w}" height="${hgt}" rx="8"/>` +
      `<text x="${x + 10}" y="${y + 17}" font-weight="600">${esc(fit(title + count, Math.max(8, Math.floor((w - (node.expandable ? 76 : 20)) / 6.6))))}</text>` +
      `<text class="sub" data-sub x="${x + 10}" y="${y + 33}">${esc(info.sub || "")}</text></g>${toggle}`;
  }
  return `<g class="node k-${node.kind} st-${state}" data-id="${esc(node.id)}" tabindex="0" role="button" aria-label="${esc(label)} ${esc(state.toLowerCase())}">` +
    `<rect class="body" x="${x}" y="${y}" width="${w}" height="${hgt}" rx="6"/>` +
    `<rect class="bar" x="${x}" y="${y}" width="6" height="${hgt}" rx="3"/>` +
    `<text x="${x + 14}" y="${y + 19}">${esc(fit(label, 24))}</text>` +
    `<text class="sub" data-sub x="${x + 14}" y="${y + 37}">${esc(info.sub || node.kind)}</text>` +
    `<title>${esc(label)}</title></g>`;
}

/**
 * Draw `layout` into `container`. options: status(node) → {state, sub}; onSelect(node); onToggle(node).
 * Returns {update(), select(id), svg}: update() recolours from `status` without re-drawing.
 */
export function drawGraph(container, layout, { status = () => ({}), onSelect = () => {}, onToggle = () => {} } = {}) {
  const pad = 12;
  const width = Math.max(layout.width + pad * 2, 200);
  const height = Math.max(layout.height + pad * 2, 80);
  let scale = 1;
  const byId = new Map(layout.nodes.map((node) => [node.id, node]));
  const markup = [
    `<svg class="graph" xmlns="http://www.w3.org/2000/svg" viewBox="${-pad} ${-pad} ${width} ${height}" width="${width}" height="${height}" role="group" aria-label="Pipeline graph, ${layout.nodes.length} nodes">`,
    ...layout.nodes.filter((n) => n.group).map((n) => nodeMarkup(n, status)),
    `<g class="edges">${layout.edges.map((e) => `<path class="edge" d="${edgePath(e.points)}" marker-end="url(#arrow)"/>`).join("")}</g>`,
    ...layout.nodes.filter((n) => !n.group).map((n) => nodeMarkup(n, status)),
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#8c959f"/></marker></defs>',
    "</svg>",
  ].join("");
  const box = h("div", { class: "graph-box" });
  box.innerHTML = markup;
  const svg = box.firstElementChild;
  const zoom = (factor) => {
    scale = factor === 0 ? Math.min(1, (box.clientWidth - 4) / width) : Math.min(3, Math.max(0.1, scale * factor));
    svg.setAttribute("width", String(width * scale));
    svg.setAttribute("height", String(height * scale));
  };
  const tools = h("div", { class: "graph-tools" },
    h("button", { class: "small", onclick: () => zoom(1.25), "aria-label": "Zoom in" }, "+"),
    h("button", { class: "small", onclick: () => zoom(0.8), "aria-label": "Zoom out" }, "−"),
    h("button", { class: "small", onclick: () => zoom(0) }, "Fit"),
    h("span", { class: "muted" }, layout.nodes.length ? `${layout.nodes.filter((n) => !n.group).length} tasks` : "This pipeline has no tasks."));
  replace(container, tools, box);
  let selected = "";
  const select = (id) => {
    svg.querySelector(".node.selected")?.classList.remove("selected");
    selected = id;
    const element = svg.querySelector(`.node[data-id="${CSS.escape(id)}"]`);
    if (element) element.classList.add("selected");
  };
  const activate = (target) => {
    const toggle = target.closest("[data-toggle]");
    if (toggle) return onToggle(byId.get(toggle.dataset.toggle));
    const element = target.closest(".node");
    if (!element) return undefined;
    select(element.dataset.id);
    return onSelect(byId.get(element.dataset.id));
  };
  svg.addEventListener("click", (event) => activate(event.target));
  svg.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      activate(event.target);
    }
  });
  const update = () => {
    for (const element of svg.querySelectorAll(".node")) {
      const node = byId.get(element.dataset.id);
      const info = status(node) || {};
      element.setAttribute("class", `node${node.group ? " group" : ""} k-${node.kind} st-${info.state || ""}${node.id === selected ? " selected" : ""}`);
      const sub = element.querySelector("[data-sub]");
      if (sub) sub.textContent = info.sub || (node.group ? "" : node.kind);
    }
  };
  if (width > box.clientWidth && box.clientWidth > 0) zoom(0);
  return { update, select, svg };
}
