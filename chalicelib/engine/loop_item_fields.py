"""Loop item channels that the KFP compiler wires to nowhere (kubeflow/pipelines #9366, #13273).

When a ParallelFor body reads a field of a dict item inside an f-string (`f"{item.label}"`) or inside a nested
group (a `dsl.If` in the loop, a loop inside an `ExitHandler`), kfp 2.x declares the input
`<itemInput>-subvar-<field>` on the loop component and on every DAG around it, and wires it from pipeline
inputs that do not exist. A nested loop's own `<itemInput>` is wired into the loops around it the same way.
KFP's backend fails such runs ("has no value"); we do what the compiler meant:

* in an iteration, a declared `<itemInput>-subvar-<field>` that received no value is the item's `<field>`
  (what the selector `parseJson(string_value)["<field>"]`, which the compiler emits elsewhere, would give);
* in a DAG around the loop, such a channel that received no value is absent, not missing: it only gets its
  value inside the loop.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.engine import pipeline_spec
from chalicelib.engine.errors import InputResolutionError

SUBVAR = "-subvar-"


def loop_item_inputs(spec: Mapping[str, Any]) -> frozenset[str]:
    """The `itemInput` names of every parameter loop in the spec."""
    components = [spec.get("root") or {}, *(spec.get("components") or {}).values()]
    return frozenset(
        task["parameterIterator"].get("itemInput", "")
        for spec_component in components
        for task in pipeline_spec.dag_tasks(spec_component).values()
        if "parameterIterator" in task
    )


def is_item_channel(name: str, item_inputs: Iterable[str]) -> bool:
    """True for a loop's item input and for its `-subvar-<field>` inputs."""
    return any(name == item_input or name.startswith(item_input + SUBVAR) for item_input in item_inputs)


def item_channels_optional(
    input_definitions: Mapping[str, Any] | None, item_inputs: frozenset[str]
) -> dict[str, Any]:
    """A DAG component's input definitions with every loop item channel optional (a DAG around the loop, or
    an iteration of an outer loop, has no value for an inner loop's item)."""
    definitions = dict(input_definitions or {})
    parameters = definitions.get("parameters") or {}
    if not any(is_item_channel(name, item_inputs) for name in parameters):
        return definitions
    definitions["parameters"] = {
        name: {**declaration, "isOptional": True} if is_item_channel(name, item_inputs) else declaration
        for name, declaration in parameters.items()
    }
    return definitions


def _as_struct(item: Any) -> Any:
    if isinstance(item, str):
        try:
            return json.loads(item)
        except ValueError:
            return item
    return item


def item_field_values(
    item_input: str, declared: Iterable[str], received: Mapping[str, Any], item: Any
) -> dict[str, Any]:
    """{name: item[field]} for each declared `<item_input>-subvar-<field>` input absent from `received`.

    Raises InputResolutionError when the item is not a dict with that field.
    """
    prefix = item_input + SUBVAR
    values: dict[str, Any] = {}
    for name in declared:
        if not name.startswith(prefix) or received.get(name) is not None:
            continue
        field = name.removeprefix(prefix)
        struct = _as_struct(item)
        if not isinstance(struct, dict) or field not in struct:
            raise InputResolutionError(f"input {name!r}: the loop item {item!r} has no field {field!r}")
        values[name] = struct[field]
    return values
