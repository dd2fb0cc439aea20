// The dashboard: hash routes → page functions. A page gets (main, route) and may register cleanups
// (timers, pollers) with `route.onLeave(fn)`; they run when the user navigates away.

import { alertBox, h, replace } from "./dom.js";
import * as experiments from "./experiments.js";
import * as pipelines from "./pipelines.js";
import * as runs from "./runs.js";
import * as runCreate from "./run-create.js";
import * as runDetails from "./run-details.js";
import * as compare from "./compare.js";
import * as recurring from "./recurring.js";
import * as artifacts from "./artifacts.js";
import { startSession } from "./session.js";

const ROUTES = [
  // The links kfp.Client prints (KFP's UI paths) lead to the same pages.
  [/^experiments\/details\/([^/]+)$/, experiments.detailsPage, "experiments"],
  [/^pipelines\/details\/([^/]+)$/, pipelines.detailsPage, "pipelines"],
  [/^runs\/details\/([^/]+)$/, runDetails.runPage, "runs"],
  [/^experiments$/, experiments.listPage, "experiments"],
  [/^experiments\/([^/]+)$/, experiments.detailsPage, "experiments"],
  [/^pipelines$/, pipelines.listPage, "pipelines"],
  [/^pipelines\/([^/]+)$/, pipelines.detailsPage, "pipelines"],
  [/^pipelines\/([^/]+)\/versions\/([^/]+)$/, pipelines.versionPage, "pipelines"],
  [/^runs$/, runs.listPage, "runs"],
  [/^runs\/new$/, runCreate.createRunPage, "runs"],
  [/^runs\/([^/]+)$/, runDetails.runPage, "runs"],
  [/^compare$/, compare.comparePage, "runs"],
  [/^recurring$/, recurring.listPage, "recurring"],
  [/^recurring\/new$/, runCreate.createRecurringRunPage, "recurring"],
  [/^recurring\/([^/]+)$/, recurring.detailsPage, "recurring"],
  [/^artifacts$/, artifacts.listPage, "artifacts"],
  [/^artifacts\/([^/]+)\/([^/]+)\/([^/]+)$/, artifacts.artifactPage, "artifacts"],
];

let cleanups = [];

async function route() {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
  const raw = location.hash.replace(/^#\/?/, "") || "runs";
  const [path, search = ""] = raw.split("?");
  const main = document.getElementById("main");
  const found = ROUTES.map(([pattern, page, section]) => [path.match(pattern), page, section]).find(([match]) => match);
  for (const link of document.querySelectorAll(".top nav a")) {
    link.toggleAttribute("aria-current", false);
    if (found && link.dataset.section === found[2]) link.setAttribute("aria-current", "page");
  }
  if (!found) {
    replace(main, h("h1", {}, "Page not found"), h("p", {}, "There is no page at ", h("code", {}, `#/${path}`), ". ", h("a", { href: "#/runs" }, "Go to runs.")));
    return;
  }
  const [match, page] = found;
  const context = {
    params: match.slice(1).map(decodeURIComponent),
    query: new URLSearchParams(search),
    onLeave: (fn) => cleanups.push(fn),
  };
  replace(main, h("p", { class: "muted" }, "Loading…"));
  try {
    await page(main, context);
  } catch (error) {
    replace(main, h("h1", {}, "Something went wrong"), alertBox(error.message || String(error)), h("p", {}, h("a", { href: "#/runs" }, "Back to runs")));
  }
  document.title = `${main.querySelector("h1")?.firstChild?.textContent || "Dashboard"} · KFP Serverless`;
}

async function start() {
  const main = document.getElementById("main");
  try {
    if (!(await startSession(main))) return;
  } catch (error) {
    replace(main, h("h1", {}, "Cannot reach the API"), alertBox(error.message || String(error)));
    return;
  }
  window.addEventListener("hashchange", () => {
    route().then(() => main.focus({ preventScroll: true }));
  });
  await route();
}

start();
