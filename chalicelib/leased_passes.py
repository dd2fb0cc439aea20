"""Reconcile passes under the runs' pass leases (`store.protocols.RunLeases`), for the cloud's event-driven
Lambdas and the local stack's loop alike.

A pass of runs: take their leases (runs another owner holds are marked for it and skipped), pass the taken runs
once, release. A release fails when the run was marked during the pass (a kick or an S3 result event arrived
meanwhile): the lease is renewed and the run passed again at once, so the event is handled by the holder, never
dropped. Nothing waits: the loop goes on only while marks keep arriving and time is left; runs still marked when
time runs out are abandoned (the lease freed, the last pass forgotten: the tick kicks such a run) and returned,
for the caller to kick a fresh pass. A pass that raises frees its leases before the error goes on.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Sequence

from chalicelib.reconciler import PassReport, Reconciler
from chalicelib.store.protocols import RunLeases


@dataclasses.dataclass(frozen=True)
class LeasedReport:
    """What a leased pass did: the reconciler's counts over all its passes, and where runs went."""

    passes: int
    launched: int
    finished: int
    changed: bool
    active: bool
    held_elsewhere: tuple[str, ...]  # another owner holds their lease (and was told to pass them again)
    handed_over: tuple[str, ...]  # marked again when time ran out: the caller kicks a new pass

    def to_log(self) -> dict[str, object]:
        return {
            "passes": self.passes,
            "launched": self.launched,
            "finished": self.finished,
            "held_elsewhere": len(self.held_elsewhere),
            "handed_over": len(self.handed_over),
        }


def new_owner(prefix: str) -> str:
    """A lease owner id unique to one pass loop (an invocation, a local loop)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class LeasedPasses:
    """Passes `reconciler` over runs under their leases, as `owner`. `time_left()` says whether another pass
    may start (a Lambda's remaining time); `clock()` is epoch seconds (the leases' time)."""

    def __init__(
        self,
        reconciler: Reconciler,
        leases: RunLeases,
        owner: str,
        lease_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.reconciler = reconciler
        self.leases = leases
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.clock = clock

    def run(self, run_ids: Sequence[str], time_left: Callable[[], bool] = lambda: True) -> LeasedReport:
        wanted = list(dict.fromkeys(run_ids))
        held = self.leases.acquire(wanted, self.owner, self.clock(), self.lease_seconds)
        elsewhere = tuple(run_id for run_id in wanted if run_id not in held)
        total = PassReport(active=bool(elsewhere))
        passes = 0
        handed_over: tuple[str, ...] = ()
        pending = sorted(held)
        while pending:
            try:
                report = self.reconciler.run_pass(pending)
            except BaseException:
                # A failed pass frees its leases at once, so the retried event (or the next kick) passes the
                # runs now rather than after the leases expire.
                self.leases.abandon([held[run_id] for run_id in pending])
                raise
            passes += 1
            _add(total, report)
            released = self.leases.release([held[run_id] for run_id in pending], self.clock())
            marked = [run_id for run_id in pending if run_id not in released]
            if not marked:
                break
            held = self.leases.acquire(marked, self.owner, self.clock(), self.lease_seconds)
            pending = sorted(held)
            if pending and not time_left():
                self.leases.abandon([held[run_id] for run_id in pending])
                handed_over = tuple(pending)
                break
        return LeasedReport(
            passes=passes,
            launched=total.launched,
            finished=total.finished,
            changed=total.changed,
            active=total.active or bool(handed_over),
            held_elsewhere=elsewhere,
            handed_over=handed_over,
        )


def _add(total: PassReport, report: PassReport) -> None:
    total.runs += report.runs
    total.launched += report.launched
    total.finished += report.finished
    total.changed = total.changed or report.changed
    total.active = total.active or report.active
