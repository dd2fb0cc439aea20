"""The embedded store behind `kfps up`: records in one SQLite database (WAL, synchronous=FULL) and objects as
files (written to a temporary file, fsync'd, renamed, directory fsync'd), both under
`<data dir>/store/`. Nothing to run beside the app, and nothing acknowledged is lost: see `database.py` and
`file_objects.py` for why."""

from __future__ import annotations

import functools
from pathlib import Path

from chalicelib.settings import Settings
from chalicelib.store.embedded.catalog import EmbeddedCatalog
from chalicelib.store.embedded.database import Database
from chalicelib.store.embedded.file_objects import FileObjectStore
from chalicelib.store.embedded.leases import EmbeddedRunLeases
from chalicelib.store.embedded.recurring_runs import EmbeddedRecurringRunStore
from chalicelib.store.embedded.runs import EmbeddedRunStore
from chalicelib.store.embedded.tokens import EmbeddedTokenStore
from chalicelib.store.protocols import Store

DATABASE_FILE = "records.sqlite3"
OBJECTS_DIR = "objects"


def store_directory(data_dir: Path) -> Path:
    return data_dir / "store"


def open_embedded_store(settings: Settings) -> Store:
    """The embedded store under `settings.local_data_dir` (one per directory and process)."""
    if not settings.local_data_dir:
        raise ValueError("the embedded store needs a data directory (KFPS_DATA_DIR / --data-dir)")
    return _open(Path(settings.local_data_dir).resolve())


@functools.cache
def _open(data_dir: Path) -> Store:
    root = store_directory(data_dir)
    database = Database(root / DATABASE_FILE)
    return Store(
        kind="embedded",
        catalog=EmbeddedCatalog(database),
        runs=EmbeddedRunStore(database),
        recurring_runs=EmbeddedRecurringRunStore(database),
        objects=FileObjectStore(root / OBJECTS_DIR),
        tokens=EmbeddedTokenStore(database),
        leases=EmbeddedRunLeases(database),
    )
