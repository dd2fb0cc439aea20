"""Large runs on the local stack as `kfps up` starts it (in this process, driven by `kfp.Client`): a ParallelFor
of N trivial tasks, an M-step chain, and R runs of a 3-task pipeline submitted at once. Prints, per scenario,
the wall time (first submit → every run final), the reconciler's pass time per finished task, and the store
requests the reconciler made per task (and the task records it read per task: a pass that re-reads the whole
run shows up there).

    python bench/large_runs_bench.py [--fan-out N] [--chain M] [--runs R] [--only fan-out|chain|runs]
                                     [--store embedded|dynamodb] [--json out.json] [--keep]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import dataclasses
import datetime
import io
import json
import logging
import os
import platform
import pstats
import shutil
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from large_runs import chain_pipeline, fan_out_pipeline, small_pipeline
from stack_bench import StackSession

FINAL_RUN_STATES = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "SKIPPED"})
RECONCILE_THREAD = "kfps-reconcile"
DRAIN_TIMEOUT_SECONDS = 3600.0
STORE_PARTS = ("runs", "objects")


@dataclasses.dataclass
class Counters:
    """What the reconciler did while a scenario ran."""

    passes: int = 0
    pass_seconds: float = 0.0
    requests: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    records_read: int = 0


@dataclasses.dataclass(frozen=True)
class Result:
    scenario: str
    size: int
    runs: int
    tasks: int
    submit_seconds: float
    wall_seconds: float
    passes: int
    pass_seconds: float
    requests: dict[str, int]
    records_read: int

    @property
    def pass_ms_per_task(self) -> float:
        return self.pass_seconds * 1000 / max(self.tasks, 1)

    @property
    def requests_per_task(self) -> float:
        return sum(self.requests.values()) / max(self.tasks, 1)

    @property
    def records_read_per_task(self) -> float:
        return self.records_read / max(self.tasks, 1)


class Instruments:
    """Counts the reconcile thread's store calls and times its passes (by wrapping, nothing else changes)."""

    def __init__(self, profile: bool = False) -> None:
        self.counters = Counters()
        self._lock = threading.Lock()
        self.profiler = cProfile.Profile() if profile else None

    def install(self, stack: Any) -> None:
        from chalicelib.reconciler import Reconciler

        original_pass = Reconciler.run_pass
        instruments = self

        def timed_pass(reconciler: Reconciler, run_ids: Any = None) -> Any:
            started = time.perf_counter()
            if instruments.profiler is not None:
                instruments.profiler.enable()
            try:
                return original_pass(reconciler, run_ids)
            finally:
                if instruments.profiler is not None:
                    instruments.profiler.disable()
                with instruments._lock:
                    instruments.counters.passes += 1
                    instruments.counters.pass_seconds += time.perf_counter() - started

        Reconciler.run_pass = timed_pass  # type: ignore[method-assign]
        store = stack.runtime.store
        for part in STORE_PARTS:
            target = getattr(store, part)
            for name in dir(type(target)):
                if name.startswith("_") or not callable(getattr(target, name)):
                    continue
                setattr(target, name, self._counted(f"{part}.{name}", getattr(target, name)))

    def _counted(self, label: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if threading.current_thread().name == RECONCILE_THREAD:
                with self._lock:
                    self.counters.requests[label] += 1
                    if label.endswith("load_tasks"):
                        self.counters.records_read += len(result)
                    elif label.endswith("load_task_changes"):
                        self.counters.records_read += len(result.records)
            return result

        return counted

    @contextlib.contextmanager
    def measuring(self) -> Iterator[Counters]:
        with self._lock:
            self.counters = Counters()
        yield self.counters


def compile_package(pipeline: Callable[..., object], path: Path) -> Path:
    from kfp import compiler

    compiler.Compiler().compile(pipeline, str(path))
    return path


def submit(client: Any, package: Path, count: int) -> list[str]:
    ids = []
    with contextlib.redirect_stdout(io.StringIO()):  # the client prints the run's dashboard links
        for _ in range(count):
            ids.append(client.create_run_from_pipeline_package(str(package), enable_caching=False).run_id)
    return ids


def wait_final(store: Any, run_ids: list[str], poll_seconds: float) -> dict[str, str]:
    """Poll the store (not the API: a `get_run` with thousands of task details would load the stack) until every
    run is final; returns the final states."""
    pending = set(run_ids)
    states: dict[str, str] = {}
    deadline = time.perf_counter() + DRAIN_TIMEOUT_SECONDS
    while pending:
        for run_id in list(pending):
            state = store.runs.get_run(run_id).state
            if state in FINAL_RUN_STATES:
                states[run_id] = state
                pending.discard(run_id)
        if pending and time.perf_counter() > deadline:
            raise TimeoutError(f"{len(pending)} runs still active after {DRAIN_TIMEOUT_SECONDS} s")
        if pending:
            time.sleep(poll_seconds)
    return states


def container_tasks(store: Any, run_ids: list[str]) -> int:
    return sum(
        1
        for run_id in run_ids
        for record in store.runs.load_tasks(run_id).values()
        if record.kind == "container"
    )


def scenario(
    session: StackSession,
    instruments: Instruments,
    name: str,
    size: int,
    package: Path,
    run_count: int,
    poll_seconds: float,
) -> Result:
    store = session.stack.runtime.store
    with instruments.measuring() as counters:
        started = time.perf_counter()
        run_ids = submit(session.client, package, run_count)
        submitted = time.perf_counter()
        states = wait_final(store, run_ids, poll_seconds)
        wall = time.perf_counter() - started
    failed = {run_id: state for run_id, state in states.items() if state != "SUCCEEDED"}
    if failed:
        raise RuntimeError(f"{name}: {len(failed)} runs did not succeed: {list(failed.items())[:3]}")
    return Result(
        scenario=name,
        size=size,
        runs=run_count,
        tasks=container_tasks(store, run_ids),
        submit_seconds=submitted - started,
        wall_seconds=wall,
        passes=counters.passes,
        pass_seconds=counters.pass_seconds,
        requests=dict(counters.requests),
        records_read=counters.records_read,
    )


def print_results(results: Sequence[Result]) -> None:
    header = (
        f"  {'scenario':<26} {'tasks':>6} {'wall s':>8} {'submit s':>9} {'passes':>7} {'pass s':>8} "
        f"{'pass ms/task':>13} {'store req/task':>15} {'records read/task':>18}"
    )
    print(header)
    for r in results:
        print(
            f"  {r.scenario:<26} {r.tasks:>6} {r.wall_seconds:>8.1f} {r.submit_seconds:>9.1f} {r.passes:>7} "
            f"{r.pass_seconds:>8.1f} {r.pass_ms_per_task:>13.1f} {r.requests_per_task:>15.1f} "
            f"{r.records_read_per_task:>18.1f}"
        )
    for r in results:
        top = sorted(r.requests.items(), key=lambda item: -item[1])[:6]
        print(f"  {r.scenario}: " + ", ".join(f"{label} {count}" for label, count in top))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fan-out", type=int, default=5000, help="ParallelFor width (trivial tasks)")
    parser.add_argument("--chain", type=int, default=2000, help="chain length")
    parser.add_argument("--runs", type=int, default=1000, help="3-task runs submitted at once")
    parser.add_argument("--only", choices=("fan-out", "chain", "runs"), help="one scenario only")
    parser.add_argument("--store", choices=("embedded", "dynamodb"), default="embedded")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between store polls for final runs")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--profile", action="store_true", help="profile the passes; print the top functions")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore")
    logging.disable(logging.INFO)  # one line per state change would swamp the figures
    data_dir = Path(tempfile.mkdtemp(prefix="kfps-large-bench-"))
    plans = {
        "fan-out": (f"ParallelFor × {args.fan_out}", args.fan_out, fan_out_pipeline(args.fan_out), 1),
        "chain": (f"chain × {args.chain}", args.chain, chain_pipeline(args.chain), 1),
        "runs": (f"{args.runs} runs × 3 tasks", args.runs, small_pipeline(), args.runs),
    }
    names = [args.only] if args.only else list(plans)
    results = []
    instruments = Instruments(args.profile)
    try:
        with StackSession(data_dir, max_parallel=0, store=args.store) as session:
            instruments.install(session.stack)
            for name in names:
                title, size, pipeline, run_count = plans[name]
                package = compile_package(pipeline, data_dir / f"{name}.yaml")
                result = scenario(session, instruments, title, size, package, run_count, args.poll)
                print(f"  {title}: {result.wall_seconds:.1f} s", file=sys.stderr)
                results.append(result)
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    print(f"\nKFP Serverless large runs — {date} — {machine} — {args.store} store — load {load:.1f}")
    print_results(results)
    if instruments.profiler is not None:
        pstats.Stats(instruments.profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(35)
    if args.json:
        rows = [{**dataclasses.asdict(r), "pass_ms_per_task": r.pass_ms_per_task} for r in results]
        args.json.write_text(json.dumps({"date": date, "machine": machine, "results": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
