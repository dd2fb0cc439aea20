"""ParallelFor (kfp-ir.md §1.6): loop items, per-iteration inputs and the parallelism limit.

A loop task's items come from `parameterIterator.items.raw` (a JSON string), from its input parameter
`items.inputParameter` (a list, or a JSON-array string), or from `artifactIterator.items.inputArtifact` (an
artifact list; one artifact per iteration). Iteration i sees the loop task's inputs plus
`itemInput = items[i]`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.engine.errors import InputResolutionError
from chalicelib.engine.inputs import ResolvedInputs
from chalicelib.engine.loop_item_fields import item_field_values


def _as_list(source: str, value: Any) -> list[Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise InputResolutionError(
                f"loop items from {source} are not a JSON array: {value[:200]!r}"
            ) from error
    if not isinstance(value, list):
        raise InputResolutionError(f"loop items from {source} must be a list, got {value!r}")
    return value


def loop_items(task: Mapping[str, Any], raw_inputs: ResolvedInputs) -> list[Any]:
    """The items the loop task iterates over (parameter values or artifact dicts)."""
    if "artifactIterator" in task:
        name = ((task["artifactIterator"].get("items") or {}).get("inputArtifact")) or ""
        return list(raw_inputs.artifacts.get(name) or [])
    items = (task.get("parameterIterator") or {}).get("items") or {}
    if "raw" in items:
        return _as_list("raw", items["raw"])
    name = items.get("inputParameter", "")
    if name not in raw_inputs.parameters:
        raise InputResolutionError(f"loop items input {name!r} has no value")
    return _as_list(f"input {name!r}", raw_inputs.parameters[name])


def _iterator(task: Mapping[str, Any]) -> Mapping[str, Any]:
    return task.get("artifactIterator") or task.get("parameterIterator") or {}


def iteration_inputs(
    task: Mapping[str, Any], loop_inputs: ResolvedInputs, item: Any, declared: Iterable[str] = ()
) -> ResolvedInputs:
    """The raw inputs of one iteration: the loop's inputs plus the item input, and the item's fields for the
    loop component's `declared` `<itemInput>-subvar-<field>` inputs that received no value
    (`loop_item_fields`).

    The items input stays too: the loop component declares it as a required input of every iteration.
    """
    item_input = _iterator(task).get("itemInput", "")
    parameters = dict(loop_inputs.parameters)
    artifacts = dict(loop_inputs.artifacts)
    if "artifactIterator" in task:
        artifacts[item_input] = [item]
    else:
        parameters[item_input] = item
        parameters.update(item_field_values(item_input, declared, parameters, item))
    return ResolvedInputs(parameters, artifacts)


def parallelism_limit(task: Mapping[str, Any]) -> int:
    """How many iterations may run at once; 0 means no limit."""
    return int((task.get("iteratorPolicy") or {}).get("parallelismLimit") or 0)
