"""The dashboard's graph at 500 tasks: server-side layout time (spec + task records → laid-out JSON, as the
`/runs/{id}/graph` helper does) and browser render time (Debian's Chromium drawing that layout with the
dashboard's own graph-view.js, served by the app), against the 1 s target.

    python bench/dashboard_graph.py [--repeat N] [--tasks 500] [--chromium /usr/bin/chromium]

Two 500-task runs: `dag` (500 distinct tasks, each depending on up to three of the 25 before it) and `loop`
(a ParallelFor of 500 iterations, expanded into one box per iteration). Medians over the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from chalicelib.dashboard.graph import run_graph  # noqa: E402
from chalicelib.dashboard.layout import layout, layout_to_json  # noqa: E402
from chalicelib.engine.model import TaskRecord  # noqa: E402
from chalicelib.task_contract import TaskState  # noqa: E402

TARGET_MS = 1000.0
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
STATES = [TaskState.SUCCEEDED] * 6 + [TaskState.RUNNING, TaskState.FAILED, TaskState.PENDING]


def _container_component() -> dict[str, Any]:
    return {
        "executorLabel": "exec-work",
        "inputDefinitions": {"parameters": {"x": {"parameterType": "STRING"}}},
    }


def _record(
    task_id: str, name: str, kind: str, parent: str, rng: random.Random, index: int | None = None
) -> TaskRecord:
    start = f"2026-01-01T00:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
    return TaskRecord(
        task_id, name, kind, rng.choice(STATES), parent_id=parent, started_at=start, iteration_index=index
    )


def dag_run(count: int, seed: int = 1) -> tuple[dict[str, Any], dict[str, TaskRecord]]:
    rng = random.Random(seed)
    tasks: dict[str, Any] = {}
    for i in range(count):
        upstream = (
            sorted({f"t{rng.randrange(max(0, i - 25), i)}" for _ in range(rng.randint(0, 3))}) if i else []
        )
        tasks[f"t{i}"] = {
            "componentRef": {"name": "comp-work"},
            "taskInfo": {"name": f"t{i}"},
            "dependentTasks": upstream,
        }
    spec = {
        "components": {"comp-work": _container_component()},
        "deploymentSpec": {"executors": {"exec-work": {"container": {"image": "python:3.11"}}}},
        "root": {"dag": {"tasks": tasks}},
    }
    records = {"root": TaskRecord("root", "root", "dag", TaskState.RUNNING)}
    for key in tasks:
        records[f"root.{key}"] = _record(f"root.{key}", key, "container", "root", rng)
    return spec, records


def loop_run(count: int, seed: int = 2) -> tuple[dict[str, Any], dict[str, TaskRecord]]:
    rng = random.Random(seed)
    spec = {
        "components": {
            "comp-work": _container_component(),
            "comp-for-loop-1": {
                "dag": {
                    "tasks": {"work": {"componentRef": {"name": "comp-work"}, "taskInfo": {"name": "work"}}}
                }
            },
        },
        "deploymentSpec": {"executors": {"exec-work": {"container": {"image": "python:3.11"}}}},
        "root": {
            "dag": {
                "tasks": {
                    "for-loop-1": {
                        "componentRef": {"name": "comp-for-loop-1"},
                        "taskInfo": {"name": "for-loop-1"},
                        "parameterIterator": {"itemInput": "item", "items": {"raw": "[]"}},
                    }
                }
            }
        },
    }
    records = {
        "root": TaskRecord("root", "root", "dag", TaskState.RUNNING),
        "root.for-loop-1": TaskRecord(
            "root.for-loop-1", "for-loop-1", "loop", TaskState.RUNNING, parent_id="root"
        ),
    }
    for i in range(count):
        iteration = f"root.for-loop-1.{i}"
        records[iteration] = _record(iteration, "for-loop-1", "iteration", "root.for-loop-1", rng, index=i)
        records[f"{iteration}.work"] = _record(f"{iteration}.work", "work", "container", iteration, rng)
    return spec, records


def server_layout(
    spec: dict[str, Any], records: dict[str, TaskRecord], expanded: list[str]
) -> tuple[float, float, dict]:
    """(wall ms, CPU ms, the JSON body) of one graph request's work. CPU time is what a Lambda with its own
    core would take; wall time also counts whatever else this machine is doing."""
    started, cpu = time.perf_counter(), time.process_time()
    body = json.dumps(layout_to_json(layout(run_graph(spec, records, expanded))))
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000, json.loads(body)


def _serve_app() -> tuple[Any, str]:
    """The Chalice app on a free port (only its static routes are used here, so no AWS is needed)."""
    from chalice.config import Config
    from chalice.local import create_local_server

    from app import app
    from chalicelib.local.stack import free_port

    port = free_port()
    server = create_local_server(
        app, Config(chalice_stage="local", user_provided_params={"chalice_app": app}), "127.0.0.1", port
    )
    threading.Thread(target=server.server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


RENDER = """async ([layout, taskCount]) => {
  const { drawGraph } = await import("./dashboard/graph-view.js");
  const box = document.createElement("div");
  document.getElementById("main").replaceChildren(box);
  const states = ["SUCCEEDED", "RUNNING", "FAILED", "PENDING"];
  const started = performance.now();
  drawGraph(box, layout, { status: (node) => ({ state: states[(node.task_ids || []).length % 4], sub: "succeeded · 1.2 s" }) });
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  return { ms: performance.now() - started, drawn: box.querySelectorAll(".node").length };
}"""


def browser_render(layouts: dict[str, dict], repeat: int, chromium: str) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    server, url = _serve_app()
    times: dict[str, list[float]] = {name: [] for name in layouts}
    try:
        with sync_playwright() as playwright, tempfile.TemporaryDirectory() as profile:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=chromium,
                headless=True,
                args=FLAGS,
                viewport={"width": 1280, "height": 800},
            )
            page = context.new_page()
            page.goto(f"{url}/#/bench")
            for _ in range(repeat):
                for name, graph in layouts.items():
                    result = page.evaluate(RENDER, [graph, graph.get("task_count", 0)])
                    assert result["drawn"] == len(graph["nodes"]), result
                    times[name].append(result["ms"])
            context.close()
    finally:
        server.server.shutdown()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    runs = {
        "dag": (*dag_run(args.tasks), []),
        "loop": (*loop_run(args.tasks), ["root.for-loop-1"]),
    }
    server_ms: dict[str, list[float]] = {name: [] for name in runs}
    server_cpu_ms: dict[str, list[float]] = {name: [] for name in runs}
    layouts: dict[str, dict] = {}
    for _ in range(args.repeat):
        for name, (spec, records, expanded) in runs.items():
            wall, cpu, layouts[name] = server_layout(spec, records, expanded)
            server_ms[name].append(wall)
            server_cpu_ms[name].append(cpu)
    render_ms = browser_render(layouts, args.repeat, args.chromium)
    load = os.getloadavg()[0]
    print(
        f"dashboard graph, {args.tasks} tasks, median of {args.repeat}; target: layout + render < {TARGET_MS:.0f} ms"
    )
    print(
        f"machine: {os.cpu_count()} cores, load average {load:.1f} (wall times grow with load; CPU time does not)"
    )
    print(
        f"{'run':6} {'nodes':>6} {'edges':>6} {'layout cpu':>10} {'layout wall':>11} {'render':>7}"
        f" {'total':>6} {'of target':>9}"
    )
    for name in runs:
        cpu, wall = statistics.median(server_cpu_ms[name]), statistics.median(server_ms[name])
        render = statistics.median(render_ms[name])
        total = cpu + render
        graph = layouts[name]
        verdict = "PASS" if total < TARGET_MS else "FAIL"
        print(
            f"{name:6} {len(graph['nodes']):6d} {len(graph['edges']):6d} {cpu:8.0f}ms {wall:9.0f}ms {render:5.0f}ms"
            f" {total:4.0f}ms {total / TARGET_MS:8.2f}x {verdict}"
        )
    print("total = layout CPU time + browser render (performance.now() around drawGraph and two frames)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
