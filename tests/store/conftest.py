"""`any_store`: each store implementation in turn (DynamoDB + S3 on the session's moto server, and the embedded
store in a temporary directory), for the contract tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.settings import DYNAMODB_STORE, EMBEDDED_STORE, AwsAccess, Settings
from chalicelib.store import open_store
from chalicelib.store.protocols import Store


@pytest.fixture(scope="session")
def contract_dynamo_store(aws_access: AwsAccess) -> Store:
    from chalicelib.store.dynamo import provision_dynamo_store

    settings = Settings(
        store=DYNAMODB_STORE, table_prefix="kfps-contract", bucket="kfps-contract-data", aws=aws_access
    )
    provision_dynamo_store(settings)
    return open_store(settings)


@pytest.fixture(scope="session")
def contract_embedded_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    directory: Path = tmp_path_factory.mktemp("contract-store")
    return open_store(Settings(store=EMBEDDED_STORE, local_data_dir=str(directory)))


@pytest.fixture(params=["embedded", "dynamodb"])
def any_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    yield request.getfixturevalue(f"contract_{'dynamo' if request.param == 'dynamodb' else 'embedded'}_store")


@pytest.fixture
def namespace() -> str:
    """A fresh namespace per test: the contract stores are shared by the session."""
    return f"ns-{uuid.uuid4().hex[:10]}"
