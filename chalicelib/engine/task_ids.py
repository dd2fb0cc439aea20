"""Deterministic task ids: dotted paths from the root DAG, e.g. `root.for-loop-2.3.print-op`.

Ids are made of [a-z0-9._-] and are at most 200 characters; a longer path keeps its head and ends in a hash of
the full path, so ids stay unique and stable across passes.
"""

from __future__ import annotations

import functools
import hashlib
import re

ROOT_TASK_ID = "root"
MAX_TASK_ID_LENGTH = 200
_HASH_LENGTH = 16
_UNSAFE = re.compile(r"[^a-z0-9_-]+")  # dots separate path segments, so none inside one


def _bounded(path: str) -> str:
    if len(path) <= MAX_TASK_ID_LENGTH:
        return path
    digest = hashlib.sha256(path.encode()).hexdigest()[:_HASH_LENGTH]
    return f"{path[: MAX_TASK_ID_LENGTH - _HASH_LENGTH - 1]}-{digest}"


def sanitize_segment(segment: str) -> str:
    """One path segment reduced to [a-z0-9_-] (lower case; dots and other characters become `-`)."""
    return _UNSAFE.sub("-", segment.lower()) or "-"


@functools.lru_cache(maxsize=1 << 16)  # every planning pass asks again for the ids of a run's tasks
def child_task_id(parent_id: str, task_key: str) -> str:
    """The id of DAG task `task_key` inside the DAG instance (DAG node or loop iteration) `parent_id`."""
    return _bounded(f"{parent_id}.{sanitize_segment(task_key)}")


def iteration_task_id(loop_id: str, index: int) -> str:
    """The id of iteration `index` of the ParallelFor node `loop_id`."""
    return _bounded(f"{loop_id}.{index}")
