"""`page_runs` on both stores: index-served run list pages in (created_at, run_id) order, scoped to a namespace or
an experiment, with one equality filter, keyset continuation, and runs pending deletion left out."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from chalicelib.store.protocols import Store
from chalicelib.store.records import Run, RunListing, moved_to
from chalicelib.timestamps import now_text

# Two runs share each creation time, so the id breaks ties.
CREATED = [f"2026-01-01T00:00:{second:02d}.000000Z" for second in range(6) for _ in range(2)]


def _run(namespace: str, created_at: str, experiment_id: str) -> Run:
    run_id = str(uuid.uuid4())
    return Run(run_id, "run", experiment_id, namespace, f"runs/{run_id}/spec.json", created_at)


@pytest.fixture
def stored(any_store: Store, namespace: str) -> list[Run]:
    """12 runs of `namespace`: experiments alternate a/b, every third one SUCCEEDED."""
    runs = []
    for n, created_at in enumerate(CREATED):
        run = any_store.runs.create_run(
            _run(namespace, created_at, f"{namespace}-a" if n % 2 else f"{namespace}-b")
        )
        if n % 3 == 0:
            run = any_store.runs.update_run(moved_to(run, "SUCCEEDED", now_text()))
        runs.append(run)
    return runs


def _order(runs: list[Run], descending: bool = False) -> list[str]:
    return [r.run_id for r in sorted(runs, key=lambda r: (r.created_at, r.run_id), reverse=descending)]


def _all_pages(store: Store, listing: RunListing) -> tuple[list[list[str]], list[int | None]]:
    pages, totals = [], []
    while True:
        page = store.runs.page_runs(listing)
        pages.append([r.run_id for r in page.runs])
        totals.append(page.total)
        if not page.more:
            return pages, totals
        last = page.runs[-1]
        listing = dataclasses.replace(listing, after=(last.created_at, last.run_id))


@pytest.mark.parametrize("descending", [False, True])
def test_pages_follow_creation_order_with_ties_broken_by_id(
    any_store: Store, namespace: str, stored: list[Run], descending: bool
):
    pages, totals = _all_pages(any_store, RunListing(namespace, descending=descending, limit=5))

    assert [len(p) for p in pages] == [5, 5, 2]
    assert [rid for p in pages for rid in p] == _order(stored, descending)
    assert all(total in (None, 12) for total in totals)


def test_a_state_filter_reads_only_matching_runs(any_store: Store, namespace: str, stored: list[Run]):
    succeeded = [r for r in stored if r.state == "SUCCEEDED"]

    pages, _ = _all_pages(any_store, RunListing(namespace, state="SUCCEEDED", limit=3))

    assert pages == [_order(succeeded)[:3], _order(succeeded)[3:]]


def test_an_experiments_runs_by_storage_state(any_store: Store, namespace: str, stored: list[Run]):
    archived = any_store.runs.update_run(dataclasses.replace(stored[1], storage_state="ARCHIVED"))
    exp_a = f"{namespace}-a"
    in_a = [r for r in stored if r.experiment_id == exp_a and r.run_id != archived.run_id]

    available, _ = _all_pages(any_store, RunListing(namespace, exp_a, True, storage_state="AVAILABLE"))
    archived_page = any_store.runs.page_runs(RunListing(namespace, exp_a, storage_state="ARCHIVED"))

    assert available == [_order(in_a, descending=True)]
    assert [r.run_id for r in archived_page.runs] == [archived.run_id] and not archived_page.more


def test_a_state_and_a_storage_state_together(any_store: Store, namespace: str, stored: list[Run]):
    archived = any_store.runs.update_run(dataclasses.replace(stored[3], storage_state="ARCHIVED"))
    wanted = [r for r in stored if r.state == "SUCCEEDED" and r.run_id != archived.run_id]

    available, _ = _all_pages(any_store, RunListing(namespace, state="SUCCEEDED", storage_state="AVAILABLE"))
    gone = any_store.runs.page_runs(RunListing(namespace, state="SUCCEEDED", storage_state="ARCHIVED"))

    assert available == [_order(wanted)]
    assert [r.run_id for r in gone.runs] == [archived.run_id]


def test_a_run_pending_deletion_is_not_listed_and_a_state_change_moves_it(
    any_store: Store, namespace: str, stored: list[Run]
):
    any_store.runs.update_run(dataclasses.replace(stored[2], delete_requested=True))
    any_store.runs.update_run(moved_to(stored[4], "RUNNING", now_text()))

    listed, _ = _all_pages(any_store, RunListing(namespace, limit=100))
    running = any_store.runs.page_runs(RunListing(namespace, state="RUNNING"))

    assert stored[2].run_id not in listed[0] and len(listed[0]) == 11
    assert [r.run_id for r in running.runs] == [stored[4].run_id]


def test_another_namespace_sees_none_of_them(any_store: Store, stored: list[Run]):
    page = any_store.runs.page_runs(RunListing(f"other-{uuid.uuid4().hex[:6]}"))
    assert page.runs == () and not page.more


def test_an_embedded_database_from_before_the_list_columns_gets_them_filled(tmp_path):
    """Runs stored before `state`, `storage_state` and `listed` existed are listed after the upgrade."""
    import sqlite3

    from chalicelib.store.embedded.codec import encode
    from chalicelib.store.embedded.database import Database
    from chalicelib.store.embedded.runs import EmbeddedRunStore

    kept = _run("old", CREATED[0], "exp-old")
    kept = dataclasses.replace(kept, state="FAILED", version=1)
    hidden = dataclasses.replace(_run("old", CREATED[1], "exp-old"), delete_requested=True, version=1)
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, namespace TEXT NOT NULL, experiment_id TEXT NOT NULL, "
            "recurring_run_id TEXT NOT NULL, active INTEGER, created_at TEXT NOT NULL, version INTEGER NOT NULL, "
            "record TEXT NOT NULL)"
        )
        for run in (kept, hidden):
            connection.execute(
                "INSERT INTO runs VALUES (?, ?, ?, '', NULL, ?, 1, ?)",
                (run.run_id, run.namespace, run.experiment_id, run.created_at, encode(run)),
            )

    runs = EmbeddedRunStore(Database(path))

    assert [r.run_id for r in runs.page_runs(RunListing("old")).runs] == [kept.run_id]
    assert [r.run_id for r in runs.page_runs(RunListing("old", state="FAILED")).runs] == [kept.run_id]
    assert runs.page_runs(RunListing("old", storage_state="AVAILABLE")).total == 1
