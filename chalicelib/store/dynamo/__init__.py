"""The cloud store: DynamoDB tables (pynamodb) for records and the S3 bucket (boto3) for objects."""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

from chalicelib.settings import Settings
from chalicelib.store.dynamo.catalog import DynamoCatalog
from chalicelib.store.dynamo.leases import DynamoRunLeases
from chalicelib.store.dynamo.recurring_runs import DynamoRecurringRunStore
from chalicelib.store.dynamo.runs import DynamoRunStore
from chalicelib.store.dynamo.s3_objects import S3ObjectStore
from chalicelib.store.dynamo.tables import create_tables, tables_for
from chalicelib.store.dynamo.tokens import DynamoTokenStore
from chalicelib.store.errors import StoreError
from chalicelib.store.protocols import Store


def open_dynamo_store(settings: Settings) -> Store:
    """The store of the deployment `settings` name (no request is made until first use)."""
    tables = tables_for(settings.table_prefix, settings.aws)
    objects = S3ObjectStore(settings.bucket, settings.aws)
    return Store(
        kind="dynamodb",
        catalog=DynamoCatalog(tables),
        runs=DynamoRunStore(tables, objects),
        recurring_runs=DynamoRecurringRunStore(tables),
        objects=objects,
        tokens=DynamoTokenStore(tables),
        leases=DynamoRunLeases(tables),
    )


def provision_dynamo_store(settings: Settings) -> None:
    """Create the tables and the bucket if missing (the local stack and tests; the cloud uses infra/)."""
    try:
        create_tables(tables_for(settings.table_prefix, settings.aws))
    except PynamoDBException as exc:
        raise StoreError(f"cannot create the tables {settings.table_prefix}-*: {exc}") from exc
    S3ObjectStore(settings.bucket, settings.aws).create_bucket()
