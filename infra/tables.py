"""The DynamoDB tables of a stack, generated from the pynamodb models (`chalicelib/store/dynamo/tables.py`), so keys
and indexes are declared in one place. Table names are `<stack name>-<kind>`, the prefix the functions get as
`KFPS_TABLE_PREFIX`."""

from __future__ import annotations

import dataclasses
from typing import Any

from infra import template_parts as parts

# Records that expire carry this attribute (epoch seconds); DynamoDB deletes them some time after.
TTL_ATTRIBUTE = "expires_at"
TABLES_WITH_TTL = frozenset({"cache", "leases"})
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
    """Every table the app uses, read from the models (`chalicelib/store/dynamo/tables.py`)."""
    from chalicelib.settings import AwsAccess
    from chalicelib.store.dynamo.tables import tables_for

    shapes = []
    for model in tables_for(_RENDER_PREFIX, AwsAccess()).models:
        schema = model._get_schema()
        kind = model.Meta.table_name.removeprefix(_RENDER_PREFIX + "-")
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
