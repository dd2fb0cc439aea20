"""v1beta1 list queries: KFP's list conventions (`chalicelib.api.listing`) over the v1 field names.

A v1 filter predicate names its operation `op` (v2: `operation`); keys are v1 names (`id`, `name`, `status`, ...).
The items paged are the v1-shaped dicts the blueprints return, so sorting and filtering see what the client sees.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from chalicelib.api.errors import InvalidArgument
from chalicelib.api.listing import Field, FieldKind, ListQuery, ResourceFields, parse_list_query


def _fields(
    resource: str, strings: tuple[str, ...], timestamps: tuple[str, ...], enums: tuple[str, ...] = ()
) -> ResourceFields:
    return ResourceFields(
        resource,
        "id",
        tuple(Field(k, FieldKind.STRING) for k in ("id", "name", "description", *strings))
        + tuple(Field(k, FieldKind.TIMESTAMP) for k in ("created_at", *timestamps))
        + tuple(Field(k, FieldKind.ENUM) for k in enums),
    )


EXPERIMENT_FIELDS_V1 = _fields("experiment", (), (), ("storage_state",))
PIPELINE_FIELDS_V1 = _fields("pipeline", (), ())
PIPELINE_VERSION_FIELDS_V1 = _fields("pipeline_version", (), ())
RUN_FIELDS_V1 = _fields("run", (), ("finished_at", "scheduled_at"), ("storage_state", "status"))
JOB_FIELDS_V1 = _fields("job", (), ("updated_at",), ("mode",))


def parse_v1_list_query(params: Mapping[str, str], fields: ResourceFields, scope: str = "") -> ListQuery:
    """The request's page_size, sort_by, page_token and filter (v1 predicates: `op`), validated."""
    translated = dict(params)
    raw_filter = (params.get("filter") or "").strip()
    if raw_filter:
        translated["filter"] = _v2_filter(raw_filter)
    return parse_list_query(translated, fields, scope)


def _v2_filter(raw: str) -> str:
    """The v1 filter with each predicate's `op` renamed `operation` (both spellings of one predicate: 400)."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise InvalidArgument(f"Invalid filter: not valid JSON ({exc})") from None
    predicates = doc.get("predicates") if isinstance(doc, dict) else None
    if isinstance(predicates, list):
        for predicate in predicates:
            if isinstance(predicate, dict) and "op" in predicate:
                if "operation" in predicate:
                    raise InvalidArgument("Invalid filter predicate: give op or operation, not both")
                predicate["operation"] = predicate.pop("op")
    return json.dumps(doc)
