from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.settings import EMBEDDED_STORE, Settings
from chalicelib.store import open_store
from chalicelib.store.protocols import TokenStore


@pytest.fixture
def tokens(tmp_path: Path) -> TokenStore:
    return open_store(Settings(store=EMBEDDED_STORE, local_data_dir=str(tmp_path))).tokens
