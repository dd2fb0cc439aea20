// A list of API objects: search, sort by column, page tokens, optional multi-select. Loads through a KFP
// list call (`{<key>: [...], total_size, next_page_token}`).

import { api, filterOf } from "./http.js";
import { alertBox, h, replace } from "./dom.js";

/**
 * options: path, key (items key), columns [{label, sort, cell(item), optional}], rowId(item),
 * query() → extra query values, predicates() → extra filter predicates [key, op, value],
 * searchKey (default display_name), sort ("created_at desc"), selectable, toolbar (elements before search),
 * onSelect(selectedIds), empty (text), label (accessible name of the table).
 */
export function listView(options) {
  const state = { sort: options.sort || "created_at desc", search: "", tokens: [""], page: 0, pageSize: 20, items: [], selected: new Set() };
  const body = h("tbody");
  const head = h("thead");
  const info = h("span", { class: "muted" });
  const prev = h("button", { onclick: () => go(state.page - 1) }, "Previous");
  const next = h("button", { onclick: () => go(state.page + 1) }, "Next");
  const sizes = h("select", { "aria-label": "Rows per page", onchange: () => { state.pageSize = Number(sizes.value); reload(); } },
    [10, 20, 50, 100].map((n) => h("option", { value: n, selected: n === 20 }, `${n} per page`)));
  const message = h("div");
  let timer;
  const search = h("input", {
    type: "search", placeholder: options.searchPlaceholder || "Search by name", "aria-label": options.searchPlaceholder || "Search by name",
    oninput: () => { clearTimeout(timer); timer = setTimeout(() => { state.search = search.value.trim(); reload(); }, 250); },
  });
  const table = h("table", { class: "list", "aria-label": options.label || options.key }, head, body);
  const element = h("div", {},
    h("div", { class: "toolbar" }, options.toolbar || [], h("span", { class: "grow" }), search, h("button", { onclick: () => load(), title: "Load the list again" }, "Refresh")),
    message,
    h("div", { class: "table-wrap" }, table),
    h("div", { class: "pager" }, info, sizes, prev, next));

  function header() {
    const cells = options.columns.map((column) => {
      if (!column.sort) return h("th", { class: column.optional ? "optional" : null, scope: "col" }, column.label);
      const [field, direction] = state.sort.split(" ");
      const active = field === column.sort;
      const aria = active ? (direction === "desc" ? "descending" : "ascending") : "none";
      return h("th", { class: column.optional ? "optional" : null, scope: "col", "aria-sort": aria },
        h("button", { class: "sort", onclick: () => { state.sort = active && direction !== "desc" ? `${column.sort} desc` : `${column.sort}${active ? "" : " desc"}`; reload(); } },
          column.label, active ? (direction === "desc" ? " ▼" : " ▲") : ""));
    });
    if (options.selectable) {
      const all = h("input", { type: "checkbox", "aria-label": "Select all on this page", onchange: () => {
        for (const item of state.items) all.checked ? state.selected.add(options.rowId(item)) : state.selected.delete(options.rowId(item));
        rows();
        changed();
      } });
      all.checked = state.items.length > 0 && state.items.every((item) => state.selected.has(options.rowId(item)));
      cells.unshift(h("th", { scope: "col" }, all));
    }
    replace(head, h("tr", {}, cells));
  }

  function rows() {
    header();
    if (!state.items.length) {
      replace(body, h("tr", {}, h("td", { class: "empty", colspan: options.columns.length + (options.selectable ? 1 : 0) }, options.empty || "Nothing here yet.")));
      return;
    }
    replace(body, state.items.map((item) => {
      const cells = options.columns.map((column) => h("td", { class: [column.optional ? "optional" : "", column.num ? "num" : ""].join(" ").trim() || null }, column.cell(item)));
      if (options.selectable) {
        const id = options.rowId(item);
        const box = h("input", { type: "checkbox", "aria-label": `Select ${item.display_name || id}`, checked: state.selected.has(id), onchange: () => {
          box.checked ? state.selected.add(id) : state.selected.delete(id);
          header();
          changed();
        } });
        cells.unshift(h("td", {}, box));
      }
      return h("tr", {}, cells);
    }));
  }

  function changed() {
    if (options.onSelect) options.onSelect([...state.selected]);
  }

  let latest = 0; // answers to older requests (a search typed meanwhile, a page left) are dropped
  async function load() {
    const request = ++latest;
    const predicates = [...(options.predicates ? options.predicates() : [])];
    if (state.search) predicates.push([options.searchKey || "display_name", "IS_SUBSTRING", state.search]);
    try {
      const page = await api(options.path, {
        query: { ...(options.query ? options.query() : {}), page_size: state.pageSize, page_token: state.tokens[state.page], sort_by: state.sort, filter: filterOf(predicates) },
      });
      if (request !== latest) return;
      state.items = page[options.key] || [];
      state.tokens[state.page + 1] = page.next_page_token || "";
      const total = page.total_size || 0;
      const first = state.page * state.pageSize;
      info.textContent = total ? `${first + 1}–${first + state.items.length} of ${total}` : "";
      prev.disabled = state.page === 0;
      next.disabled = !page.next_page_token;
      replace(message);
    } catch (error) {
      if (request !== latest) return;
      state.items = [];
      replace(message, alertBox(error.message));
    }
    rows();
  }

  function go(page) {
    state.page = page;
    return load();
  }

  function reload() {
    state.tokens = [""];
    state.page = 0;
    return load();
  }

  return {
    element,
    reload,
    refresh: load,
    selected: () => [...state.selected],
    clearSelection: () => { state.selected.clear(); rows(); changed(); },
    items: () => state.items,
  };
}
