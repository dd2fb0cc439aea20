"""KFP list conventions: page_size, sort_by, filter and page_token, applied to API-shaped items. Pure.

A list route does three things:

    query = parse_list_query(current_request.query_params, RUN_FIELDS)   # InvalidArgument on a bad query
    page = paginate(store_items, query)                                   # filter, sort, slice
    return list_response("runs", page)                                    # KFP's EmitUnpopulated=false shape

Items are API-shaped dicts (snake_case keys, RFC3339 timestamps, int64 as numbers or strings). A missing
field compares as the empty/zero value. Sorting ties are broken by the resource's id, so paging is stable.

The page token is base64url of a JSON cursor holding the list's scope (e.g. the namespace), the sort order, the
canonical filter, the last item's sort value and id, and how many items the chain served before. A request may
send the token alone (the filter and sort come from the token) or with a sort_by/filter that must match the
token's; a token sent to another scope is refused.

Lists a store serves from an index (runs: `api.run_pages`) read one page and make its token with `index_page`;
the cursor (sort value, id) is the index position after which the next page starts. Every other list is read
whole and paged here (`paginate`), at most MAX_IN_MEMORY_ITEMS items: beyond that the list is refused (400).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.api.errors import InvalidArgument
from chalicelib.timestamps import format_time

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200
DEFAULT_SORT_FIELD = "created_at"
MAX_IN_MEMORY_ITEMS = 10_000  # items read to filter, sort and page in memory before a list is refused
MAX_PAGE_TOKEN_CHARS = 4_096

Scalar = str | int
PredicateValue = Scalar | tuple[Scalar, ...]


@dataclasses.dataclass(frozen=True)
class SortOrder:
    """A sort_by: one API key, ascending unless `descending`."""

    field: str
    descending: bool = False


class FieldKind(enum.Enum):
    """How a field's values are compared."""

    STRING = "string"
    INT = "int"
    TIMESTAMP = "timestamp"  # RFC3339 in items; compared as instants (filters: whole Unix seconds)
    ENUM = "enum"  # enum names such as run `state`; compared case-insensitively


@dataclasses.dataclass(frozen=True)
class Field:
    """One sortable/filterable API key.

    paths: where to read the value in an item, tried in order (default: the top-level `key`).
    """

    key: str
    kind: FieldKind
    paths: tuple[tuple[str, ...], ...] = ()

    def locations(self) -> tuple[tuple[str, ...], ...]:
        return self.paths or ((self.key,),)


@dataclasses.dataclass(frozen=True)
class ResourceFields:
    """The sortable/filterable keys of one resource; `id_key` names the id field used to break ties."""

    resource: str
    id_key: str
    fields: tuple[Field, ...]

    def get(self, key: str) -> Field | None:
        """The field named `key` (case-insensitive), or None."""
        wanted = key.strip().lower()
        return next((f for f in self.fields if f.key == wanted), None)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)

    @property
    def default_sort(self) -> SortOrder:
        """created_at ascending, as KFP; the id for a resource without created_at."""
        return SortOrder(DEFAULT_SORT_FIELD if self.get(DEFAULT_SORT_FIELD) else self.id_key)


def _resource(
    resource: str,
    id_key: str,
    strings: tuple[str, ...] = (),
    timestamps: tuple[str, ...] = (),
    enums: tuple[str, ...] = (),
    extra: tuple[Field, ...] = (),
) -> ResourceFields:
    fields = (
        tuple(Field(k, FieldKind.STRING) for k in strings)
        + tuple(Field(k, FieldKind.TIMESTAMP) for k in timestamps)
        + tuple(Field(k, FieldKind.ENUM) for k in enums)
        + extra
    )
    return ResourceFields(resource, id_key, fields)


EXPERIMENT_FIELDS = _resource(
    "experiment",
    "experiment_id",
    strings=("experiment_id", "display_name", "description", "namespace"),
    timestamps=("created_at", "last_run_created_at"),
    enums=("storage_state",),
)
PIPELINE_FIELDS = _resource(
    "pipeline",
    "pipeline_id",
    strings=("pipeline_id", "display_name", "name", "description", "namespace"),
    timestamps=("created_at",),
)
PIPELINE_VERSION_FIELDS = _resource(
    "pipeline_version",
    "pipeline_version_id",
    strings=("pipeline_version_id", "display_name", "name", "description", "pipeline_spec"),
    timestamps=("created_at",),
)
RUN_FIELDS = _resource(
    "run",
    "run_id",
    strings=("run_id", "display_name", "description", "namespace", "experiment_id", "recurring_run_id"),
    timestamps=("created_at", "finished_at", "scheduled_at"),
    enums=("storage_state", "state"),
)
RECURRING_RUN_FIELDS = _resource(
    "recurring_run",
    "recurring_run_id",
    strings=("recurring_run_id", "display_name", "description"),
    timestamps=("created_at", "updated_at"),
    extra=(
        Field(
            "pipeline_id",
            FieldKind.STRING,
            paths=(("pipeline_id",), ("pipeline_version_reference", "pipeline_id")),
        ),
    ),
)


class Operation(enum.IntEnum):
    """KFP v2beta1 Predicate.Operation (there is no 4)."""

    EQUALS = 1
    NOT_EQUALS = 2
    GREATER_THAN = 3
    GREATER_THAN_EQUALS = 5
    LESS_THAN = 6
    LESS_THAN_EQUALS = 7
    IN = 8
    IS_SUBSTRING = 9


@dataclasses.dataclass(frozen=True)
class Predicate:
    """One filter condition, its value already normalised to the field's kind.

    value: str (string/enum fields; enums upper-cased), int (int fields; timestamps as Unix seconds), or a
    tuple of those for IN.
    """

    key: str
    operation: Operation
    value: PredicateValue


@dataclasses.dataclass(frozen=True)
class Cursor:
    """The last item of the previous page: its sort value (normalised) and id."""

    value: Scalar
    id: str


@dataclasses.dataclass(frozen=True)
class ListQuery:
    """A validated list request. `after` is None on the first page."""

    fields: ResourceFields
    page_size: int = DEFAULT_PAGE_SIZE
    sort: SortOrder = SortOrder(DEFAULT_SORT_FIELD)
    predicates: tuple[Predicate, ...] = ()
    after: Cursor | None = None
    scope: str = ""
    seen: int = 0  # items the page chain served before this page (0 on the first page)

    def equals(self, key: str) -> Scalar | None:
        """The value of an EQUALS predicate on `key`, if any: lets a store narrow its read (e.g. by name)."""
        for p in self.predicates:
            if p.key == key and p.operation is Operation.EQUALS and not isinstance(p.value, tuple):
                return p.value
        return None


@dataclasses.dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total_size: int
    next_page_token: str


# ----------------------------------------------------------------------------------------------------------
# Parsing the query


def parse_list_query(
    query_params: Mapping[str, str] | None, fields: ResourceFields, scope: str = ""
) -> ListQuery:
    """Validate `page_size`, `sort_by`, `filter` and `page_token` from a list request's query string.

    Empty values count as absent. With a `page_token`, the sort order and filter come from the token; a
    `sort_by` or `filter` sent with it must match, and the token must have been issued for `scope` (the list's
    namespace, experiment, ...). Raises InvalidArgument naming the problem.
    """
    params = query_params or {}
    page_size = parse_page_size(params.get("page_size"))
    raw_sort = (params.get("sort_by") or "").strip()
    raw_filter = (params.get("filter") or "").strip()
    raw_token = (params.get("page_token") or "").strip()

    sort = parse_sort_by(raw_sort, fields) if raw_sort else None
    predicates = parse_filter(raw_filter, fields) if raw_filter else None
    if not raw_token:
        return ListQuery(
            fields=fields,
            page_size=page_size,
            sort=sort or fields.default_sort,
            predicates=predicates or (),
            scope=scope,
        )

    token = _decode_page_token(raw_token, fields)
    if token.scope != scope:
        raise InvalidArgument("page_token was issued for another list (namespace, experiment or resource)")
    if sort is not None and sort != token.sort:
        raise InvalidArgument(f"sort_by {raw_sort!r} does not match the page_token's sort order")
    if predicates is not None and _canonical_filter(predicates) != _canonical_filter(token.predicates):
        raise InvalidArgument("filter does not match the page_token's filter")
    return ListQuery(
        fields=fields,
        page_size=page_size,
        sort=token.sort,
        predicates=token.predicates,
        after=token.cursor,
        scope=scope,
        seen=token.seen,
    )


def parse_page_size(raw: str | None) -> int:
    """Absent, empty or 0 → 20; above 200 → 200; negative or not an integer → InvalidArgument."""
    text = (raw or "").strip()
    if not text:
        return DEFAULT_PAGE_SIZE
    try:
        size = int(text)
    except ValueError:
        raise InvalidArgument(f"Invalid page_size {raw!r}: must be a non-negative integer") from None
    if size < 0:
        raise InvalidArgument(f"Invalid page_size {size}: must not be negative")
    if size == 0:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE)


def parse_sort_by(raw: str, fields: ResourceFields) -> SortOrder:
    """`"field"`, `"field asc"` or `"field desc"`, case-insensitive; empty → created_at ascending."""
    parts = raw.split()
    if not parts:
        return fields.default_sort
    if len(parts) > 2:
        raise InvalidArgument(f"Invalid sort_by {raw!r}: expected 'field', 'field asc' or 'field desc'")
    field = fields.get(parts[0])
    if field is None:
        raise InvalidArgument(
            f"Invalid sort_by field {parts[0]!r} for {fields.resource}; sortable: {', '.join(fields.keys)}"
        )
    direction = parts[1].lower() if len(parts) == 2 else "asc"
    if direction not in ("asc", "desc"):
        raise InvalidArgument(f"Invalid sort_by direction {parts[1]!r}: expected 'asc' or 'desc'")
    return SortOrder(field.key, descending=direction == "desc")


# Proto field name → JSON spellings accepted (protojson accepts both; the client sends camelCase).
_VALUE_KEYS = {
    "string_value": "string_value",
    "stringValue": "string_value",
    "int_value": "int_value",
    "intValue": "int_value",
    "long_value": "long_value",
    "longValue": "long_value",
    "timestamp_value": "timestamp_value",
    "timestampValue": "timestamp_value",
    "string_values": "string_values",
    "stringValues": "string_values",
    "int_values": "int_values",
    "intValues": "int_values",
    "long_values": "long_values",
    "longValues": "long_values",
}
_LIST_VALUE_KEYS = frozenset({"string_values", "int_values", "long_values"})
# Which value kinds each field kind accepts. Timestamps also take Unix seconds as int/long, as KFP's
# Go server compares them against integer columns.
_ACCEPTED_VALUES = {
    FieldKind.STRING: frozenset({"string_value", "string_values"}),
    FieldKind.ENUM: frozenset({"string_value", "string_values"}),
    FieldKind.INT: frozenset({"int_value", "long_value", "int_values", "long_values"}),
    FieldKind.TIMESTAMP: frozenset(
        {"timestamp_value", "int_value", "long_value", "int_values", "long_values"}
    ),
}


def parse_filter(raw: str, fields: ResourceFields) -> tuple[Predicate, ...]:
    """Parse a JSON `Filter` proto (`{"predicates": [...]}`) into predicates, validated against `fields`."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise InvalidArgument(f"Invalid filter: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidArgument("Invalid filter: expected a JSON object with 'predicates'")
    unknown = sorted(set(doc) - {"predicates"})
    if unknown:
        raise InvalidArgument(f"Invalid filter: unknown field {unknown[0]!r}")
    items = doc.get("predicates")
    items = [] if items is None else items
    if not isinstance(items, list):
        raise InvalidArgument("Invalid filter: 'predicates' must be a list")
    return tuple(_parse_predicate(item, fields) for item in items)


def _parse_predicate(item: Any, fields: ResourceFields) -> Predicate:
    if not isinstance(item, dict):
        raise InvalidArgument("Invalid filter: each predicate must be a JSON object")
    unknown = sorted(k for k in item if k not in ("key", "operation") and k not in _VALUE_KEYS)
    if unknown:
        raise InvalidArgument(f"Invalid filter predicate: unknown field {unknown[0]!r}")

    key = item.get("key")
    if not isinstance(key, str) or not key.strip():
        raise InvalidArgument("Invalid filter predicate: missing 'key'")
    field = fields.get(key)
    if field is None:
        raise InvalidArgument(
            f"Invalid filter key {key!r} for {fields.resource}; filterable: {', '.join(fields.keys)}"
        )
    operation = _parse_operation(item.get("operation"), key)

    present = [(name, value) for name, value in item.items() if name in _VALUE_KEYS and value is not None]
    if not present:
        raise _predicate_error(key, "missing value")
    if len(present) > 1:
        names = ", ".join(name for name, _ in present)
        raise _predicate_error(key, f"more than one value ({names})")
    spelled, raw_value = present[0]
    value_kind = _VALUE_KEYS[spelled]

    if operation is Operation.IN and value_kind not in _LIST_VALUE_KEYS:
        raise _predicate_error(key, "IN needs string_values, int_values or long_values")
    if operation is not Operation.IN and value_kind in _LIST_VALUE_KEYS:
        raise _predicate_error(key, f"{spelled} is only allowed with IN")
    if operation is Operation.IS_SUBSTRING and (
        field.kind not in (FieldKind.STRING, FieldKind.ENUM) or value_kind != "string_value"
    ):
        raise _predicate_error(key, "IS_SUBSTRING needs a string field and value")
    if value_kind not in _ACCEPTED_VALUES[field.kind]:
        raise _predicate_error(key, f"{spelled} does not fit a {field.kind.value} field")

    if value_kind in _LIST_VALUE_KEYS:
        value: PredicateValue = tuple(
            _normalise_filter_scalar(v, value_kind[:-1], field, key) for v in _list_values(raw_value, key)
        )
    else:
        value = _normalise_filter_scalar(raw_value, value_kind, field, key)
    return Predicate(field.key, operation, value)


def _predicate_error(key: str, problem: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid filter predicate on {key!r}: {problem}")


def _parse_operation(raw: Any, key: str) -> Operation:
    """An operation given as enum name (any case) or number."""
    if isinstance(raw, str) and raw.strip():
        try:
            return Operation[raw.strip().upper()]
        except KeyError:
            pass
    elif isinstance(raw, int) and not isinstance(raw, bool):
        try:
            return Operation(raw)
        except ValueError:
            pass
    elif raw is None:
        raise _predicate_error(key, "missing operation")
    raise _predicate_error(key, f"unknown operation {raw!r}")


def _list_values(raw: Any, key: str) -> list[Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("values", []), list):
        raise _predicate_error(key, "list values must be {'values': [...]}")
    return raw.get("values", [])


def _normalise_filter_scalar(raw: Any, value_kind: str, field: Field, key: str) -> Scalar:
    """A filter value as compared: str for string/enum fields, int for int fields and timestamps (seconds)."""
    if value_kind == "string_value":
        if not isinstance(raw, str):
            raise _predicate_error(key, f"string value expected, got {raw!r}")
        return raw.upper() if field.kind is FieldKind.ENUM else raw
    if value_kind == "timestamp_value":
        if not isinstance(raw, str):
            raise _predicate_error(key, "RFC3339 timestamp expected")
        try:
            return _timestamp_micros(raw) // 1_000_000
        except ValueError:
            raise _predicate_error(key, f"bad timestamp {raw!r}") from None
    # int_value / long_value: a JSON integer or a decimal string (protojson accepts both).
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise _predicate_error(key, f"integer value expected, got {raw!r}")
    try:
        return int(raw)
    except ValueError:
        raise _predicate_error(key, f"integer value expected, got {raw!r}") from None


def _jsonable(value: PredicateValue) -> Scalar | list[Scalar]:
    return list(value) if isinstance(value, tuple) else value


def _canonical_filter(predicates: Iterable[Predicate]) -> list[list[Any]]:
    """An order-independent, JSON-able form of the predicates (AND is commutative)."""
    rows = [[p.key, p.operation.name, _jsonable(p.value)] for p in predicates]
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True))


# ----------------------------------------------------------------------------------------------------------
# Page tokens


@dataclasses.dataclass(frozen=True)
class _PageToken:
    sort: SortOrder
    predicates: tuple[Predicate, ...]
    cursor: Cursor
    scope: str
    seen: int


def _encode_page_token(query: ListQuery, cursor: Cursor, seen: int) -> str:
    doc = {
        "sort": query.sort.field,
        "desc": query.sort.descending,
        "filter": _canonical_filter(query.predicates),
        "value": cursor.value,
        "id": cursor.id,
        "scope": query.scope,
        "seen": seen,
    }
    raw = json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_page_token(token: str, fields: ResourceFields) -> _PageToken:
    """Decode and validate a token made by `_encode_page_token` for the same resource."""
    invalid = InvalidArgument(f"Invalid page_token {token[:40]!r}")
    if len(token) > MAX_PAGE_TOKEN_CHARS:
        raise InvalidArgument(f"Invalid page_token: longer than {MAX_PAGE_TOKEN_CHARS} characters")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = json.loads(raw)
    except (binascii.Error, ValueError):
        raise invalid from None
    if not isinstance(doc, dict):
        raise invalid
    field = fields.get(doc.get("sort") or "") if isinstance(doc.get("sort"), str) else None
    value, item_id, rows = doc.get("value"), doc.get("id"), doc.get("filter")
    scope, seen = doc.get("scope", ""), doc.get("seen", 0)
    expected_type = str if field is not None and field.kind in (FieldKind.STRING, FieldKind.ENUM) else int
    if (
        field is None
        or not isinstance(doc.get("desc"), bool)
        or not isinstance(item_id, str)
        or isinstance(value, bool)
        or not isinstance(value, expected_type)
        or not isinstance(rows, list)
        or not isinstance(scope, str)
        or isinstance(seen, bool)
        or not isinstance(seen, int)
        or seen < 0
    ):
        raise invalid
    predicates = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 3):
            raise invalid
        key, op_name, p_value = row
        if not (isinstance(key, str) and isinstance(op_name, str)):
            raise invalid
        if fields.get(key) is None or op_name not in Operation.__members__:
            raise invalid
        if isinstance(p_value, list):
            p_value = tuple(p_value)
        if not all(isinstance(v, str | int) for v in (p_value if isinstance(p_value, tuple) else (p_value,))):
            raise invalid
        predicates.append(Predicate(key, Operation[op_name], p_value))
    return _PageToken(
        SortOrder(field.key, doc["desc"]), tuple(predicates), Cursor(value, item_id), scope, seen
    )


# ----------------------------------------------------------------------------------------------------------
# Applying a query


def paginate(items: Iterable[dict[str, Any]], query: ListQuery, served: str = "") -> Page:
    """Filter, sort (ties by id) and slice `items` after the query's cursor.

    total_size counts every match of the filter, not just this page; next_page_token is "" on the last page.
    Reads at most MAX_IN_MEMORY_ITEMS items: a list with more is refused (InvalidArgument) with `served`, the
    sorts and filters an index serves at any size.
    """
    fields = query.fields
    predicates = [(p, _require_field(fields, p.key)) for p in query.predicates]
    matches = [
        item
        for item in _bounded(items, query, served)
        if all(_matches(item, field, p) for p, field in predicates)
    ]

    sort_field = _require_field(fields, query.sort.field)
    id_field = Field(fields.id_key, FieldKind.STRING)

    def sort_key(item: dict[str, Any]) -> tuple[Scalar, str]:
        return (_sort_value(item, sort_field), str(_sort_value(item, id_field)))

    keyed = sorted(((sort_key(item), item) for item in matches), key=lambda pair: pair[0])
    if query.sort.descending:
        keyed.reverse()
    if query.after is not None:
        mark = (query.after.value, query.after.id)
        keyed = [pair for pair in keyed if (pair[0] < mark if query.sort.descending else pair[0] > mark)]

    page = keyed[: query.page_size]
    token = ""
    if len(keyed) > query.page_size:
        (last_value, last_id), _ = page[-1]
        token = _encode_page_token(query, Cursor(last_value, last_id), query.seen + len(page))
    return Page(items=[item for _, item in page], total_size=len(matches), next_page_token=token)


def _bounded(items: Iterable[dict[str, Any]], query: ListQuery, served: str) -> Iterator[dict[str, Any]]:
    for count, item in enumerate(items, start=1):
        if count > MAX_IN_MEMORY_ITEMS:
            resource = query.fields.resource
            raise InvalidArgument(
                f"Listing {resource}s with this sort_by/filter reads every {resource} of the list, and it has more "
                f"than {MAX_IN_MEMORY_ITEMS}: "
                + (f"use {served}" if served else "narrow it (e.g. by experiment or namespace)")
            )
        yield item


def index_page(
    items: list[dict[str, Any]], query: ListQuery, last: Cursor | None, more: bool, total: int | None
) -> Page:
    """A page a store read from an index: `items` (API-shaped, in order), `last` the cursor of the last one
    (the index position the next page starts after), `more` when items follow. total_size is `total` when the
    store counted the list, else the items the page chain served so far (exact on the last page)."""
    served_so_far = query.seen + len(items)
    token = _encode_page_token(query, last, served_so_far) if more and last is not None else ""
    return Page(items=items, total_size=served_so_far if total is None else total, next_page_token=token)


def timestamp_cursor_value(text: str) -> int:
    """A timestamp as a cursor (and sort) value: Unix microseconds."""
    return _timestamp_micros(text)


def cursor_timestamp(value: Scalar) -> str:
    """The timestamp text (in `chalicelib.timestamps`' one format) of a timestamp cursor value."""
    if not isinstance(value, int):
        raise InvalidArgument("Invalid page_token: not a timestamp position")
    try:
        return format_time(datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value))
    except (OverflowError, ValueError):
        raise InvalidArgument("Invalid page_token: timestamp position out of range") from None


def list_response(key: str, page: Page) -> dict[str, Any]:
    """`{key: [...], "total_size": N, "next_page_token": "..."}` without empty members, as KFP marshals it."""
    body: dict[str, Any] = {}
    if page.items:
        body[key] = page.items
    if page.total_size:
        body["total_size"] = page.total_size
    if page.next_page_token:
        body["next_page_token"] = page.next_page_token
    return body


def _require_field(fields: ResourceFields, key: str) -> Field:
    field = fields.get(key)
    if field is None:
        raise InvalidArgument(f"Unknown field {key!r} for {fields.resource}")
    return field


def _raw_value(item: Mapping[str, Any], field: Field) -> Any:
    for path in field.locations():
        node: Any = item
        for part in path:
            node = node.get(part) if isinstance(node, Mapping) else None
        if node is not None:
            return node
    return None


def _sort_value(item: Mapping[str, Any], field: Field) -> Scalar:
    """The item's value of `field` as sorted: str, int, or a timestamp in Unix microseconds."""
    raw = _raw_value(item, field)
    if field.kind is FieldKind.TIMESTAMP:
        return _timestamp_micros(raw)
    if field.kind is FieldKind.INT:
        return 0 if raw is None or raw == "" else int(raw)
    if raw is None:
        return ""
    if isinstance(raw, dict | list):
        text = json.dumps(raw, sort_keys=True, separators=(",", ":"))
    else:
        text = str(raw)
    return text.upper() if field.kind is FieldKind.ENUM else text


def _matches(item: Mapping[str, Any], field: Field, predicate: Predicate) -> bool:
    value = _sort_value(item, field)
    if field.kind is FieldKind.TIMESTAMP:
        value = int(value) // 1_000_000  # filters compare whole Unix seconds, as KFP's integer columns do
    target = predicate.value
    op = predicate.operation
    if op is Operation.IN:
        return isinstance(target, tuple) and value in target
    if isinstance(target, tuple):
        return False
    if op is Operation.IS_SUBSTRING:
        return isinstance(value, str) and isinstance(target, str) and target in value
    if type(value) is not type(target):
        return False
    if op is Operation.EQUALS:
        return value == target
    if op is Operation.NOT_EQUALS:
        return value != target
    if op is Operation.GREATER_THAN:
        return value > target  # type: ignore[operator]
    if op is Operation.GREATER_THAN_EQUALS:
        return value >= target  # type: ignore[operator]
    if op is Operation.LESS_THAN:
        return value < target  # type: ignore[operator]
    return value <= target  # type: ignore[operator]


def _timestamp_micros(raw: Any) -> int:
    """An instant as Unix microseconds: RFC3339/ISO string, datetime, or Unix seconds. Missing → 0."""
    if raw is None or raw == "":
        return 0
    if isinstance(raw, datetime):
        moment = raw
    elif isinstance(raw, bool):
        raise ValueError(f"not a timestamp: {raw!r}")
    elif isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError(f"not a timestamp: {raw!r}")
        return int(round(raw * 1_000_000))
    elif isinstance(raw, str):
        moment = datetime.fromisoformat(raw.strip().upper())
    else:
        raise ValueError(f"not a timestamp: {raw!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
