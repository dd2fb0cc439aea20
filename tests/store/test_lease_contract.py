"""The pass lease contract (`RunLeases`) on both stores: one holder at a time, a mark made while it is held
fails the holder's release (so no event is lost), an expired lease is taken over, and the last pass is kept."""

from __future__ import annotations

import threading
import uuid

from chalicelib.store.protocols import Store


def _run_id() -> str:
    return f"run-{uuid.uuid4().hex[:12]}"


def test_a_free_lease_is_taken_and_a_held_one_refused(any_store: Store) -> None:
    leases, run_id = any_store.leases, _run_id()
    first = leases.acquire([run_id], "a", now=100.0, seconds=60)[run_id]
    assert first.owner == "a" and first.until == 160.0
    assert leases.acquire([run_id], "b", now=110.0, seconds=60) == {}


def test_a_mark_while_held_fails_the_release_until_renewed(any_store: Store) -> None:
    leases, run_id = any_store.leases, _run_id()
    held = leases.acquire([run_id], "a", now=100.0, seconds=60)[run_id]
    assert leases.acquire([run_id], "b", now=101.0, seconds=60) == {}  # marks the run
    assert leases.release([held], now=102.0) == set()
    renewed = leases.acquire([run_id], "a", now=103.0, seconds=60)[run_id]
    assert renewed.marks > held.marks
    assert leases.release([renewed], now=104.0) == {run_id}
    assert leases.last_passes([run_id]) == {run_id: 104.0}
    assert run_id in leases.acquire([run_id], "b", now=105.0, seconds=60)


def test_an_expired_lease_is_taken_over_and_its_old_holder_cannot_release(any_store: Store) -> None:
    leases, run_id = any_store.leases, _run_id()
    crashed = leases.acquire([run_id], "a", now=100.0, seconds=10)[run_id]
    taken = leases.acquire([run_id], "b", now=111.0, seconds=10)[run_id]
    assert taken.owner == "b"
    assert leases.release([crashed], now=112.0) == set()
    assert leases.acquire([run_id], "c", now=112.0, seconds=10) == {}


def test_abandon_frees_the_lease_whatever_the_marks_and_forgets_the_last_pass(any_store: Store) -> None:
    leases, run_id = any_store.leases, _run_id()
    first = leases.acquire([run_id], "a", now=90.0, seconds=60)[run_id]
    assert leases.release([first], now=95.0) == {run_id}
    held = leases.acquire([run_id], "a", now=100.0, seconds=60)[run_id]
    assert leases.acquire([run_id], "b", now=101.0, seconds=60) == {}
    leases.abandon([held])
    assert run_id in leases.acquire([run_id], "b", now=102.0, seconds=60)
    assert leases.last_passes([run_id]) == {}


def test_many_runs_at_once_take_only_the_free_leases(any_store: Store) -> None:
    leases = any_store.leases
    free, busy = _run_id(), _run_id()
    leases.acquire([busy], "other", now=100.0, seconds=60)
    taken = leases.acquire([free, busy, free], "a", now=100.0, seconds=60)
    assert set(taken) == {free}
    assert leases.release(list(taken.values()), now=120.0) == {free}
    assert leases.last_passes([free, busy, _run_id()]) == {free: 120.0}


def test_concurrent_takers_get_one_lease(any_store: Store) -> None:
    leases, run_id = any_store.leases, _run_id()
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def take(owner: str) -> None:
        barrier.wait()
        if leases.acquire([run_id], owner, now=100.0, seconds=60):
            winners.append(owner)

    threads = [threading.Thread(target=take, args=(f"owner-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
