"""One table from a spec's format to the engine functions that run it, so the reconciler never branches on the
format: KFP v2 IR specs and KFP v1 Argo Workflows differ in planning, attempt outcomes and retries only."""

from __future__ import annotations

import dataclasses
import datetime
import importlib
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.engine.model import Decisions, RunInput, TaskRecord

Plan = Callable[
    [RunInput, dict[str, Any], dict[str, Any] | None, Mapping[str, TaskRecord], datetime.datetime], Decisions
]
FinishAttempt = Callable[..., TaskRecord]
RetryRun = Callable[[Mapping[str, TaskRecord], datetime.datetime], list[TaskRecord]]


@dataclasses.dataclass(frozen=True)
class SpecEngine:
    """The engine functions for one spec format (see `chalicelib.engine` for their contracts)."""

    plan: Plan
    finish_attempt: FinishAttempt
    retry_run: RetryRun


def _load(plan: str, attempts: str, retries: str) -> SpecEngine:
    def function(path: str) -> Any:
        module, _, name = path.rpartition(".")
        return getattr(importlib.import_module(f"chalicelib.engine.{module}"), name)

    return SpecEngine(function(plan), function(attempts), function(retries))


_ENGINES: dict[str, Callable[[], SpecEngine]] = {
    "ir": lambda: _load("planner.plan", "attempts.finish_attempt", "run_retry.retry_run"),
    "argo": lambda: _load("argo.planner.plan", "argo.attempts.finish_attempt", "argo.retries.retry_run"),
}


def engine_for(spec_format: str) -> SpecEngine:
    """The engine functions for `spec_format` ("ir" or "argo", `chalicelib.spec.PackageFormat`'s values)."""
    try:
        return _ENGINES[str(spec_format)]()
    except KeyError:
        raise ValueError(f"no engine for spec format {spec_format!r}") from None
