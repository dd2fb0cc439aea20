"""The DynamoDB tables of a stack, generated from the pynamodb models (`chalicelib/store/tables.py`), so keys
and indexes are declared in one place. Table names are `<stack name>-<kind>`, the prefix the functions get as
`KFPS_TABLE_PREFIX`."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from infra import template_parts as parts

# Records that expire carry this attribute (epoch seconds); DynamoDB deletes them some time after.
TTL_ATTRIBUTE = "expires_at"
TABLES_WITH_TTL = frozenset({"cache"})
_RENDER_PREFIX = "kfps-render"


@dataclasses.dataclass(frozen=True)
class TableShape:
    kind: str  # "runs", "recurring-runs", ...
    key_schema: tuple[dict[str, str], ...]
    attribute_definitions: tuple[dict[str, str], ...]
    indexes: tuple[dict[str, Any], ...]

    @property
    def logical_id(self) -> str:
        return "".join(part.capitalize() for part in self.kind.split("-")) + "Table"


def table_shapes() -> tuple[TableShape, ...]:
    """Every table the app uses, read from the models."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    previous = os.environ.get("KFPS_TABLE_PREFIX")
    os.environ["KFPS_TABLE_PREFIX"] = _RENDER_PREFIX
    try:
        from chalicelib.store.tables import ALL_MODELS
    finally:
        if previous is None:
            os.environ.pop("KFPS_TABLE_PREFIX", None)
        else:
            os.environ["KFPS_TABLE_PREFIX"] = previous
    shapes = []
    for model in ALL_MODELS:
        schema = model._get_schema()
        prefix = _model_prefix(model.Meta.table_name)
        kind = model.Meta.table_name.removeprefix(prefix + "-")
        indexes = tuple(
            {
                "IndexName": index["index_name"],
                "KeySchema": sorted(index["key_schema"], key=lambda k: k["KeyType"] != "HASH"),
                "Projection": index["projection"],
            }
            for index in schema.get("global_secondary_indexes", [])
        )
        shapes.append(
            TableShape(
                kind=kind,
                key_schema=tuple(schema["key_schema"]),
                attribute_definitions=tuple(schema["attribute_definitions"]),
                indexes=indexes,
            )
        )
    return tuple(shapes)


def table_names(stack: str) -> list[str]:
    """The names the stack `stack` gives its tables (as `table_resource` builds them)."""
    return [f"{stack}-{shape.kind}" for shape in table_shapes()]


def _model_prefix(table_name: str) -> str:
    """The prefix the models were imported with (the render prefix, or the caller's when already imported)."""
    from chalicelib.settings import Settings

    for known in (_RENDER_PREFIX, Settings.from_env().table_prefix):
        if known and table_name.startswith(known + "-"):
            return known
    raise RuntimeError(f"cannot tell the table kind of {table_name!r}")


def table_resource(shape: TableShape, tags: dict[str, str]) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "TableName": {"Fn::Sub": f"${{AWS::StackName}}-{shape.kind}"},
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": list(shape.attribute_definitions),
        "KeySchema": list(shape.key_schema),
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": {"Fn::If": ["ProtectData", True, False]},
        "Tags": parts.tag_list(tags),
    }
    if shape.indexes:
        properties["GlobalSecondaryIndexes"] = list(shape.indexes)
    if shape.kind in TABLES_WITH_TTL:
        properties["TimeToLiveSpecification"] = {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }
