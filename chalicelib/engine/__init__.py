"""The engine: PURE decisions from a pipeline spec and recorded task states — no AWS, Kubernetes or I/O.

It imports nothing of ours but `chalicelib.engine.*` and `chalicelib.task_contract`. The reconciler calls:

- `plan(run, spec, platform_spec, tasks, now) -> Decisions` — one reconcile step;
- `finish_attempt(...)`, `record_cached(...)` — the outcome of a container attempt;
- `transition(record, new_state, **changes)` — the task state machine (raises `InvalidTransition`);
- `retry_run(tasks, now)` — reopen failed / cancelled work for the API's `:retry`;
- `pipeline_outputs(spec, tasks)` — the run's root outputs.
"""

import importlib
from typing import Any

# Loaded on first use (PEP 562), so that importing `chalicelib.engine.model` — as the API and the store do —
# does not import the planner and its CEL library into the API Lambda.
_EXPORTS = {
    "finish_attempt": "attempts",
    "record_cached": "attempts",
    "InvalidTransition": "errors",
    "Cancel": "model",
    "Decisions": "model",
    "Launch": "model",
    "RunInput": "model",
    "RunOutcome": "model",
    "TaskRecord": "model",
    "plan": "planner",
    "retry_run": "run_retry",
    "transition": "transitions",
}


# A submodule of the same name would shadow a lazy attribute, so this one is imported at once (it is light).
from chalicelib.engine.pipeline_outputs import pipeline_outputs  # noqa: E402


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chalicelib.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"chalicelib.engine.{module}"), name)


__all__ = [
    "Cancel",
    "Decisions",
    "InvalidTransition",
    "Launch",
    "RunInput",
    "RunOutcome",
    "TaskRecord",
    "finish_attempt",
    "pipeline_outputs",
    "plan",
    "record_cached",
    "retry_run",
    "transition",
]
