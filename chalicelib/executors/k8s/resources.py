"""IR container `resources` → a Kubernetes `resources` block (pure).

The IR has old float fields (`cpuLimit` in cores, `memoryLimit` in GB, `cpuRequest`, `memoryRequest`) and new
string fields (`resourceCpuLimit`, ...) that may be a `{{$.inputs.parameters['x']}}` placeholder; the string
fields win. `accelerator{type|resourceType, count|resourceCount}` becomes `limits[<type>] = count`, as the
KFP backend does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_PARAM_PLACEHOLDER = re.compile(r"\{\{\$\.inputs\.parameters\['([^']+)'\]\}\}")

# (new string field, old float field, unit suffix of the old field, limits|requests, resource name)
_FIELDS = (
    ("resourceCpuLimit", "cpuLimit", "", "limits", "cpu"),
    ("resourceMemoryLimit", "memoryLimit", "G", "limits", "memory"),
    ("resourceCpuRequest", "cpuRequest", "", "requests", "cpu"),
    ("resourceMemoryRequest", "memoryRequest", "G", "requests", "memory"),
)


class ResourceSpecError(ValueError):
    """A resource value that is missing or not a quantity after placeholder resolution."""


def format_number(value: float | int) -> str:
    """`1.0` → `1`, `0.5` → `0.5` (Go's `%v` of a float64, as the backend formats quantities)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parameter_text(value: Any) -> str:
    """An input parameter value as placeholder text: strings as-is, numbers without `.0`, JSON otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    return json.dumps(value, separators=(",", ":"))


def resolve_parameter_placeholders(text: str, parameters: Mapping[str, Any]) -> str:
    """Replace every `{{$.inputs.parameters['x']}}` in `text`; a missing parameter is an error."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in parameters or parameters[name] is None:
            raise ResourceSpecError(f"placeholder {match.group(0)} has no value")
        return parameter_text(parameters[name])

    return _PARAM_PLACEHOLDER.sub(replace, text)


def with_default_requests(
    resources: Mapping[str, Any], defaults: tuple[tuple[str, str], ...]
) -> dict[str, Any]:
    """`resources` with a request added for each default resource the block neither requests nor limits."""
    block = {kind: dict(values) for kind, values in resources.items() if isinstance(values, Mapping)}
    for name, quantity in defaults:
        if name not in block.get("requests", {}) and name not in block.get("limits", {}):
            block.setdefault("requests", {})[name] = quantity
    return {**resources, **block}


def container_resources(resources: Mapping[str, Any] | None, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """The Kubernetes `resources` block for an IR `resources` dict ({} when nothing is set)."""
    resources = resources or {}
    block: dict[str, dict[str, str]] = {}
    for new_field, old_field, unit, kind, name in _FIELDS:
        value = resources.get(new_field)
        if isinstance(value, str) and value:
            quantity = resolve_parameter_placeholders(value, parameters).strip()
        elif isinstance(value, int | float) and not isinstance(value, bool) and value:
            quantity = format_number(value)
        elif resources.get(old_field):
            quantity = format_number(float(resources[old_field])) + unit
        else:
            continue
        if not quantity:
            raise ResourceSpecError(f"resources.{new_field} resolved to an empty value")
        block.setdefault(kind, {})[name] = quantity
    accelerator = resources.get("accelerator") or {}
    kind_name = accelerator.get("resourceType") or accelerator.get("type")
    count = accelerator.get("resourceCount", accelerator.get("count"))
    if kind_name:
        if isinstance(count, str):
            count = resolve_parameter_placeholders(count, parameters).strip()
        block.setdefault("limits", {})[resolve_parameter_placeholders(kind_name, parameters)] = (
            format_number(float(count)) if count not in (None, "") else "1"
        )
    return block
