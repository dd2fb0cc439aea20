"""Facts of a pipeline spec that every planning pass asks for and that never change for that spec: each DAG
component's topological task order and each task's upstream siblings, computed once per spec.

`index_of(spec)` keys the memo by the spec object's identity and holds the spec itself, so the identity cannot
be reused by another object while its entry lives; the memo keeps the most recently used MAX_SPECS specs (the
reconciler keeps one spec object per active run). Specs are never mutated after loading, so the facts stay
true; a pure function's memo, invisible to the planner's results.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping
from typing import Any

from chalicelib.engine import pipeline_spec

MAX_SPECS = 256


class SpecIndex:
    """The memoised facts of one spec."""

    def __init__(self) -> None:
        self._orders: dict[str, list[str]] = {}
        self._upstreams: dict[tuple[str, str], list[str]] = {}

    def order(self, component_name: str, tasks: Mapping[str, Any]) -> list[str]:
        """The DAG component's task keys, each after its upstream siblings (`pipeline_spec.topological_order`)."""
        if component_name not in self._orders:
            self._orders[component_name] = pipeline_spec.topological_order(tasks)
        return self._orders[component_name]

    def upstream_keys(self, component_name: str, key: str, task: Mapping[str, Any]) -> list[str]:
        """Task `key` of the DAG component's upstream keys (`pipeline_spec.upstream_keys`)."""
        found = self._upstreams.get((component_name, key))
        if found is None:
            found = self._upstreams[(component_name, key)] = pipeline_spec.upstream_keys(task)
        return found


_lock = threading.Lock()
_indexes: collections.OrderedDict[int, tuple[Mapping[str, Any], SpecIndex]] = collections.OrderedDict()


def index_of(spec: Mapping[str, Any]) -> SpecIndex:
    """The index of this spec object (made on first use)."""
    with _lock:
        entry = _indexes.get(id(spec))
        if entry is not None and entry[0] is spec:
            _indexes.move_to_end(id(spec))
            return entry[1]
        index = SpecIndex()
        _indexes[id(spec)] = (spec, index)
        while len(_indexes) > MAX_SPECS:
            _indexes.popitem(last=False)
        return index
