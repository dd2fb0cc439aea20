// Building elements and formatting values. `h("a", {href, class, onclick}, children...)`.

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key === "value") element.value = value;
    else if (key === "checked" || key === "disabled" || key === "selected" || key === "multiple") element[key] = Boolean(value);
    else element.setAttribute(key, value === true ? "" : value);
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
  return element;
}

export function replace(element, ...children) {
  return append(clear(element), children);
}

const NOTICE_MS = 6000;

/** A short message in the corner (errors stay longer); also read out by screen readers. */
export function notify(message, kind = "ok") {
  const box = document.getElementById("notices");
  const item = h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : null }, message);
  box.append(item);
  setTimeout(() => item.remove(), kind === "error" ? NOTICE_MS * 2 : NOTICE_MS);
}

export function alertBox(message) {
  return h("div", { class: "alert", role: "alert" }, message);
}

export function badge(state) {
  const value = state || "UNKNOWN";
  return h("span", { class: `badge s-${value}` }, value.replaceAll("_", " ").toLowerCase());
}

export function time(value) {
  if (!value || value.startsWith("1970-01-01")) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

export function millis(value) {
  if (!value || value.startsWith("1970-01-01")) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** "1.2 s", "3 min 4 s", "2 h 5 min". */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || ms < 0) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The duration between two timestamps; an unfinished one counts up to now. */
export function duration(start, end) {
  const from = millis(start);
  if (from === null) return "";
  const to = millis(end) ?? Date.now();
  return formatDuration(to - from);
}

export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, value]) => value !== undefined && value !== null && value !== "").map(([key, value]) => [h("dt", {}, key), h("dd", {}, value)]));
}

export function json(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Tabs with keyboard support (arrow keys); `tabs`: [[id, label]]; calls `show(id)`. */
export function tabBar(tabs, current, show) {
  const bar = h("div", { class: "tabs", role: "tablist" });
  const buttons = tabs.map(([id, label]) =>
    h("button", { role: "tab", "aria-selected": String(id === current), tabindex: id === current ? "0" : "-1", "data-tab": id, onclick: () => select(id) }, label),
  );
  function select(id) {
    for (const button of buttons) {
      const on = button.dataset.tab === id;
      button.setAttribute("aria-selected", String(on));
      button.tabIndex = on ? 0 : -1;
    }
    show(id);
  }
  bar.addEventListener("keydown", (event) => {
    const index = buttons.indexOf(document.activeElement);
    if (index < 0 || !["ArrowLeft", "ArrowRight"].includes(event.key)) return;
    const next = buttons[(index + (event.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length];
    next.focus();
    select(next.dataset.tab);
  });
  append(bar, buttons);
  return bar;
}

export function crumbs(...links) {
  return h("div", { class: "crumbs" }, links.map(([label, href], i) => [i ? " / " : "", href ? h("a", { href }, label) : label]));
}

/** Run `action` from a button: disables it meanwhile and shows any error as a notice. */
export async function withButton(button, action) {
  button.disabled = true;
  try {
    return await action();
  } catch (error) {
    notify(error.message, "error");
    return undefined;
  } finally {
    button.disabled = false;
  }
}
