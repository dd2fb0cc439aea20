"""Counting the local executor's launches per attempt, to prove a reconciler never launches an attempt twice
(a second launch is a harmless no-op by design, but one that should never be needed)."""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator

import pytest

from chalicelib.executors.local import LocalExecutor
from chalicelib.executors.protocol import AttemptLaunch

AttemptKey = tuple[str, str, int]


@contextlib.contextmanager
def counted_local_launches() -> Iterator[collections.Counter[AttemptKey]]:
    """While open, every `LocalExecutor.launch` (any instance) is counted under (run id, task id, attempt)."""
    counts: collections.Counter[AttemptKey] = collections.Counter()
    launch = LocalExecutor.launch

    def counting_launch(self: LocalExecutor, attempt: AttemptLaunch) -> str:
        counts[(attempt.spec.run_id, attempt.spec.task_id, attempt.spec.attempt)] += 1
        return launch(self, attempt)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LocalExecutor, "launch", counting_launch)
        yield counts


def repeated(counts: collections.Counter[AttemptKey]) -> dict[AttemptKey, int]:
    """The attempts launched more than once, with their counts."""
    return {key: count for key, count in counts.items() if count > 1}
