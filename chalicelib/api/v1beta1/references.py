"""v1beta1 resource references: how the v1 API says which experiment, namespace, pipeline, pipeline version or
job a resource belongs to (`resource_references: [{key: {type, id}, relationship}]`), in request bodies and as
the `resource_reference_key.type/id` (versions: `resource_key.type/id`) scope of list requests."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from chalicelib.api.errors import InvalidArgument

EXPERIMENT = "EXPERIMENT"
JOB = "JOB"
PIPELINE = "PIPELINE"
PIPELINE_VERSION = "PIPELINE_VERSION"
NAMESPACE = "NAMESPACE"
RESOURCE_TYPES = frozenset({EXPERIMENT, JOB, PIPELINE, PIPELINE_VERSION, NAMESPACE})
OWNER = "OWNER"
CREATOR = "CREATOR"
RELATIONSHIPS = frozenset({OWNER, CREATOR, "UNKNOWN_RELATIONSHIP"})


@dataclasses.dataclass(frozen=True)
class References:
    """The ids a body's resource references name ("" when absent)."""

    experiment_id: str = ""
    namespace: str = ""
    pipeline_id: str = ""
    pipeline_version_id: str = ""
    job_id: str = ""


_FIELD_OF_TYPE = {
    EXPERIMENT: "experiment_id",
    NAMESPACE: "namespace",
    PIPELINE: "pipeline_id",
    PIPELINE_VERSION: "pipeline_version_id",
    JOB: "job_id",
}


def parse_references(value: Any, what: str, allowed: frozenset[str]) -> References:
    """The `resource_references` of a `what` body. InvalidArgument names the bad element: not a list, an element
    without `key.type`/`key.id`, a type that `what` cannot refer to, a type given twice."""
    if value is None:
        return References()
    field = f"{what}.resource_references"
    if not isinstance(value, list):
        raise InvalidArgument(f"{field} must be a list")
    found: dict[str, str] = {}
    for index, item in enumerate(value):
        where = f"{field}[{index}]"
        if not isinstance(item, dict):
            raise InvalidArgument(f"{where} must be an object")
        unknown = sorted(set(item) - {"key", "name", "relationship"})
        if unknown:
            raise InvalidArgument(f"unknown field(s) in {where}: {', '.join(unknown)}")
        key = item.get("key")
        if not isinstance(key, dict):
            raise InvalidArgument(f"{where}.key is required")
        kind = key.get("type")
        if kind not in allowed:
            raise InvalidArgument(
                f"{where}.key.type must be one of {', '.join(sorted(allowed))}, got {kind!r}"
            )
        ref_id = key.get("id")
        if not isinstance(ref_id, str) or (not ref_id.strip() and kind != NAMESPACE):
            raise InvalidArgument(f"{where}.key.id must be a non-empty string")
        relationship = item.get("relationship")
        if relationship is not None and relationship not in RELATIONSHIPS:
            raise InvalidArgument(f"{where}.relationship must be OWNER or CREATOR, got {relationship!r}")
        if kind in found:
            raise InvalidArgument(f"{field} names more than one {kind}")
        found[kind] = ref_id.strip()
    return References(**{_FIELD_OF_TYPE[kind]: ref_id for kind, ref_id in found.items()})


def reference(kind: str, ref_id: str, relationship: str, name: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"key": {"type": kind, "id": ref_id}, "relationship": relationship}
    if name:
        body["name"] = name
    return body


def namespace_references(namespace: str) -> list[dict[str, Any]]:
    """A NAMESPACE owner reference for a resource in a named namespace (none for the default "")."""
    return [reference(NAMESPACE, namespace, OWNER)] if namespace else []


@dataclasses.dataclass(frozen=True)
class ListScope:
    """The `resource_reference_key` of a list request: (type, id), or ("", "") for none."""

    kind: str = ""
    ref_id: str = ""


def list_scope(
    params: Mapping[str, str], allowed: frozenset[str], prefix: str = "resource_reference_key"
) -> ListScope:
    """The list request's `<prefix>.type` / `<prefix>.id`. InvalidArgument for a type the list cannot be scoped
    by, or a type without an id (a NAMESPACE may be "")."""
    kind = (params.get(f"{prefix}.type") or "").strip()
    ref_id = (params.get(f"{prefix}.id") or "").strip()
    if not kind or kind == "UNKNOWN_RESOURCE_TYPE":
        if ref_id:
            raise InvalidArgument(f"{prefix}.id is given without {prefix}.type")
        return ListScope()
    if kind not in allowed:
        raise InvalidArgument(f"{prefix}.type must be one of {', '.join(sorted(allowed))}, got {kind!r}")
    if not ref_id and kind != NAMESPACE:
        raise InvalidArgument(f"{prefix}.id is required with {prefix}.type {kind}")
    return ListScope(kind, ref_id)
