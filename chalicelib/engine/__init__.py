"""The engine: PURE decisions from a pipeline spec and recorded task states — no AWS, Kubernetes or I/O.

It imports nothing of ours but `chalicelib.engine.*` and `chalicelib.task_contract`. The reconciler calls:

- `plan(run, spec, platform_spec, tasks, now) -> Decisions` — one reconcile step;
- `finish_attempt(...)`, `record_cached(...)` — the outcome of a container attempt;
- `transition(record, new_state, **changes)` — the task state machine (raises `InvalidTransition`);
- `retry_run(tasks, now)` — reopen failed / cancelled work for the API's `:retry`;
- `pipeline_outputs(spec, tasks)` — the run's root outputs.
"""

from chalicelib.engine.attempts import finish_attempt, record_cached
from chalicelib.engine.errors import InvalidTransition
from chalicelib.engine.model import Cancel, Decisions, Launch, RunInput, RunOutcome, TaskRecord
from chalicelib.engine.pipeline_outputs import pipeline_outputs
from chalicelib.engine.planner import plan
from chalicelib.engine.run_retry import retry_run
from chalicelib.engine.transitions import transition

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
