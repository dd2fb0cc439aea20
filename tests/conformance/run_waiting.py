"""Waiting for runs and reading them raw: `GET /runs/{id}` as JSON (task details keep our extra fields, which
kfp's generated models would drop) and run polling that also stops on CANCELED."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Iterable
from typing import Any

FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"})
DEFAULT_TIMEOUT = 120.0


def get_json(base_url: str, path: str) -> dict[str, Any]:
    """GET `path` of the stack's API as JSON."""
    with urllib.request.urlopen(f"{base_url}{path}", timeout=30) as response:
        return json.loads(response.read())


def get_run(base_url: str, run_id: str) -> dict[str, Any]:
    return get_json(base_url, f"/apis/v2beta1/runs/{run_id}")


def wait_for_runs(
    base_url: str,
    run_ids: Iterable[str],
    timeout: float = DEFAULT_TIMEOUT,
    until: frozenset[str] = FINAL_STATES,
) -> dict[str, dict[str, Any]]:
    """Poll every run until its state is in `until` (default: final); the last JSON of each run by id.
    Raises TimeoutError naming the runs that did not get there."""
    pending = list(dict.fromkeys(run_ids))
    done: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while pending:
        for run_id in list(pending):
            run = get_run(base_url, run_id)
            if run.get("state") in until:
                done[run_id] = run
                pending.remove(run_id)
        if not pending:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"runs not in {sorted(until)} after {timeout}s: {pending}")
        time.sleep(0.25)
    return done


def wait_for_run(
    base_url: str, run_id: str, timeout: float = DEFAULT_TIMEOUT, until: frozenset[str] = FINAL_STATES
) -> dict[str, Any]:
    return wait_for_runs(base_url, [run_id], timeout, until)[run_id]


def tasks_by_name(run: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Task details grouped by display name (loop iterations share one)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for task in run.get("run_details", {}).get("task_details", []):
        grouped.setdefault(task.get("display_name", ""), []).append(task)
    return grouped


def only_task(run: dict[str, Any], display_name: str) -> dict[str, Any]:
    found = tasks_by_name(run).get(display_name, [])
    assert len(found) == 1, (
        f"expected one task {display_name!r}, got {len(found)}: {sorted(tasks_by_name(run))}"
    )
    return found[0]


def read_artifact(base_url: str, run_id: str, task_id: str, name: str) -> bytes:
    """An output artifact's bytes through KFP's `:read` endpoint."""
    body = get_json(base_url, f"/apis/v2beta1/runs/{run_id}/nodes/{task_id}/artifacts/{name}:read")
    return base64.b64decode(body["data"])


def task_log(base_url: str, run_id: str, task_id: str) -> str:
    with urllib.request.urlopen(
        f"{base_url}/apis/v2beta1/runs/{run_id}/tasks/{task_id}/logs", timeout=30
    ) as resp:
        return resp.read().decode()
