"""The run state machine: the one place that says which run state changes are legal.

States are KFP's RuntimeState strings. Final states: SUCCEEDED, SKIPPED, FAILED, CANCELED.
`:retry` moves a FAILED or CANCELED run back to PENDING; `:terminate` moves an active run to CANCELING (and
leaves a run that is CANCELING or final as it is).
"""

from __future__ import annotations

FINAL_RUN_STATES = frozenset({"SUCCEEDED", "SKIPPED", "FAILED", "CANCELED"})
ACTIVE_RUN_STATES = frozenset({"PENDING", "RUNNING", "CANCELING", "PAUSED", "RUNTIME_STATE_UNSPECIFIED"})
TERMINABLE_RUN_STATES = frozenset({"PENDING", "RUNNING", "PAUSED", "RUNTIME_STATE_UNSPECIFIED"})
RETRYABLE_RUN_STATES = frozenset({"FAILED", "CANCELED"})

_ALLOWED: dict[str, frozenset[str]] = {
    "PENDING": frozenset({"RUNNING", "SUCCEEDED", "FAILED", "CANCELING", "CANCELED", "SKIPPED"}),
    "RUNNING": frozenset({"SUCCEEDED", "FAILED", "CANCELING", "CANCELED", "SKIPPED"}),
    "PAUSED": frozenset({"RUNNING", "CANCELING", "CANCELED"}),
    "CANCELING": frozenset({"CANCELED", "FAILED"}),
    "FAILED": frozenset({"PENDING"}),
    "CANCELED": frozenset({"PENDING"}),
    "SUCCEEDED": frozenset(),
    "SKIPPED": frozenset(),
}


class IllegalRunTransition(ValueError):
    """A state change the run state machine does not allow."""


def check_run_transition(current: str, new: str) -> None:
    """Raise IllegalRunTransition unless `current` → `new` is allowed (staying in a state is always allowed)."""
    if current == new:
        return
    if new not in _ALLOWED.get(current, frozenset()):
        raise IllegalRunTransition(f"run state cannot change from {current} to {new}")
