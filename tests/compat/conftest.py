from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.local.stack import LocalStack, StackOptions


@pytest.fixture(scope="session")
def local_stack(aws_endpoint: str) -> Iterator[LocalStack]:
    """The local stack (API over HTTP on a free port + reconciler) sharing the session's moto server."""
    options = StackOptions(
        port=0,
        data_dir=Path(os.environ["KFPS_DATA_DIR"]),
        table_prefix=os.environ["KFPS_TABLE_PREFIX"],
        bucket=os.environ["KFPS_BUCKET"],
        aws_endpoint=aws_endpoint,
    )
    with LocalStack(options) as stack:
        yield stack


@pytest.fixture(scope="session")
def kfp_client(local_stack: LocalStack):
    import kfp

    return kfp.Client(host=local_stack.url)
