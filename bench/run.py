"""`make bench`: the same pipelines with kfp.local (SubprocessRunner, no venv) and with our local stack as a
user gets it (`kfps up` defaults: fork server on, admission by requests, no task cap), side by side; prints
wall times, ratios, the control-plane gap and the local executor's per-task overhead (fork vs plain), each
against its target.

    python bench/run.py [--repeat N] [--only chain|parallel|gap|overhead] [--max-parallel N]
                        [--attempts N] [--store embedded|dynamodb] [--no-prewarm] [--json out.json]
                        [--poll SECONDS] [--profile] [--keep]

Runs are interleaved (kfp.local, then ours, per repeat) so background load hits both sides alike; every
figure is the median over the repeats.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gap_profile import Profiler
from gaps import STAGE_LABELS, Gap, dependencies, run_gaps
from pipelines import CHAIN_LENGTH, FAN_OUT, PIPELINES
from reference import init_kfp_local, time_kfp_local
from report import Figure, median, print_table, seconds_list
from stack_bench import StackSession
from task_overhead import MODES, Overhead, measure_overhead

RATIO_TARGETS = {"chain": 0.25, "parallel": 0.25}
GAP_TARGET_MS = 100.0
OVERHEAD_TARGET_MS = 100.0  # a forked task's launch → user code: tens of milliseconds
TITLES = {
    "chain": f"chain: {CHAIN_LENGTH} add-one steps",
    "parallel": f"parallel: ParallelFor × {FAN_OUT} of 1 s",
}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per side and pipeline (median reported)")
    parser.add_argument("--only", choices=("chain", "parallel", "gap", "overhead"), help="one benchmark only")
    parser.add_argument(
        "--max-parallel",
        type=int,
        default=0,
        help="the local executor's task cap (default 0: none, as `kfps up`; admission by requests)",
    )
    parser.add_argument(
        "--attempts", type=int, default=10, help="attempts per mode for the per-task overhead (median)"
    )
    parser.add_argument(
        "--store",
        choices=("embedded", "dynamodb"),
        default="embedded",
        help="the stack's store (default: embedded)",
    )
    parser.add_argument(
        "--no-prewarm",
        dest="prewarm",
        action="store_false",
        help="the stack without its fork server (every task a fresh Python process), for comparison",
    )
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument(
        "--poll", type=float, default=0.05, help="seconds between get_run polls (the wall time's resolution)"
    )
    parser.add_argument("--profile", action="store_true", help="hook the stack and break the gap down")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace, data_dir: Path) -> dict[str, Any]:
    """Run the selected benchmarks `args.repeat` times, interleaved; return the raw measurements."""
    overhead = []
    if args.only in (None, "overhead"):
        overhead = measure_overhead(data_dir / "overhead", args.attempts)
    if args.only == "overhead":
        return {"walls": {}, "gaps": [], "breakdown": {}, "profile": [], "overhead": overhead}
    names = ["chain"] if args.only == "gap" else [args.only] if args.only else ["chain", "parallel"]
    with_reference = args.only != "gap"
    walls: dict[str, dict[str, list[float]]] = {name: {"kfp_local": [], "kfps": []} for name in names}
    gaps: list[Gap] = []
    breakdown: dict[str, list[float]] = {}
    profiler = Profiler() if args.profile else None
    chain_deps = dependencies(PIPELINES["chain"])
    if with_reference:
        init_kfp_local(data_dir / "kfp-local")
    with StackSession(data_dir, args.max_parallel, args.poll, args.store, args.prewarm) as session:
        if profiler is not None:
            profiler.install(session.stack)
        for repeat in range(args.repeat):
            for name in names:
                pipeline = PIPELINES[name]
                if with_reference:
                    walls[name]["kfp_local"].append(time_kfp_local(pipeline))
                run = session.run(pipeline)
                if run.state != "SUCCEEDED":
                    raise RuntimeError(f"{name} run {run.run_id} ended {run.state}")
                walls[name]["kfps"].append(run.wall_seconds)
                if name == "chain":
                    run_dir = session.executor_data_dir / "runs" / run.run_id
                    run_edges = run_gaps(run_dir, run.task_details, chain_deps)
                    gaps += run_edges
                    if profiler is not None:
                        for part, values in profiler.edge_breakdown(run_dir, run_edges).items():
                            breakdown.setdefault(part, []).extend(values)
                print(f"  [{repeat + 1}/{args.repeat}] {name}: " + _progress(walls[name]), file=sys.stderr)
    profile = [] if profiler is None else profiler.call_summary()
    return {"walls": walls, "gaps": gaps, "breakdown": breakdown, "profile": profile, "overhead": overhead}


def _progress(sides: dict[str, list[float]]) -> str:
    return ", ".join(f"{side} {values[-1]:.2f} s" for side, values in sides.items() if values)


def ratio_figures(walls: dict[str, dict[str, list[float]]]) -> list[Figure]:
    figures = []
    for name, sides in walls.items():
        ours, reference = median(sides["kfps"]), median(sides["kfp_local"])
        if ours is None or reference is None or name not in RATIO_TARGETS:
            continue
        detail = f"kfp.local {reference:.2f} s [{seconds_list(sides['kfp_local'])}], ours {ours:.2f} s [{seconds_list(sides['kfps'])}]"
        figures.append(Figure(TITLES[name], ours / reference, RATIO_TARGETS[name], "x", detail))
    return figures


def gap_figures(gaps: list[Gap]) -> tuple[list[Figure], list[str]]:
    figures, notes = [], []
    workdir = median(g.workdir for g in gaps)
    api = median(g.api for g in gaps)
    count = f"median of {len(gaps)} edges"
    if workdir is not None:
        figures.append(Figure("gap: result.json → dependant pid", workdir * 1000, GAP_TARGET_MS, "ms", count))
    if api is not None:
        figures.append(Figure("gap: API end_time → start_time", api * 1000, GAP_TARGET_MS, "ms", count))
    for stage, label in STAGE_LABELS.items():
        value = median(g.stages.get(stage) for g in gaps)
        if value is not None:
            notes.append(f"{label:<58} {value * 1000:7.0f} ms (median)")
    return figures, notes


def overhead_figures(overhead: list[Overhead]) -> tuple[list[Figure], list[str]]:
    """The fork path's launch → user code against its target, the plain path beside it."""
    to_code = {mode: median(o.to_user_code for o in overhead if o.mode == mode) for mode in MODES}
    to_result = {mode: median(o.to_result for o in overhead if o.mode == mode) for mode in MODES}
    fork, plain = to_code["fork"], to_code["plain"]
    if fork is None or plain is None:
        return [], []
    count = sum(1 for o in overhead if o.mode == "fork")
    figures = [
        Figure(
            "overhead: launch → user code, fork",
            fork * 1000,
            OVERHEAD_TARGET_MS,
            "ms",
            f"plain processes {plain * 1000:.0f} ms ({plain / fork:.1f}× the fork), median of {count} each",
        )
    ]
    notes = [
        f"{'launch → result.json, ' + mode:<58} {to_result[mode] * 1000:7.0f} ms (median)"
        for mode in MODES
        if to_result[mode] is not None
    ]
    return figures, notes


def print_profile(breakdown: dict[str, list[float]], calls: list[str]) -> None:
    print("\nProfile: the gap's reconcile side, medians over all chain edges")
    for part, values in breakdown.items():
        value = median(values) or 0.0
        shown = f"{value:.0f}" if "(count)" in part else f"{value * 1000:.0f} ms"
        print(f"  {part:<40} {shown:>8}")
    print("\nProfile: AWS (moto) round trips by thread and operation")
    for line in calls:
        print(f"  {line}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    data_dir = Path(tempfile.mkdtemp(prefix="kfps-bench-"))
    try:
        raw = measure(args, data_dir)
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"\nKFP Serverless bench — {date} — {machine} — median of {args.repeat}")
    ratios = ratio_figures(raw["walls"])
    if ratios:
        title = (
            f"Wall time, ours ÷ kfp.local (submit → final state seen, polled every {args.poll * 1000:.0f} ms)"
        )
        print_table(title, ratios)
    gaps, notes = gap_figures(raw["gaps"])
    if gaps and args.only in (None, "gap"):
        print_table("Control-plane gap, upstream end → dependant process start (chain runs)", gaps, notes)
    overheads, overhead_notes = overhead_figures(raw["overhead"])
    if overheads:
        print_table(
            "Local executor per-task overhead (a Python step, one attempt at a time)",
            overheads,
            overhead_notes,
        )
    if args.profile:
        print_profile(raw["breakdown"], raw["profile"])
    if args.json:
        document = {
            "date": date,
            "machine": machine,
            "repeat": args.repeat,
            "max_parallel": args.max_parallel,
            "prewarm": args.prewarm,
            "store": args.store,
            "poll_seconds": args.poll,
            "walls": raw["walls"],
            "figures": [f.as_dict() for f in [*ratios, *gaps, *overheads]],
            "gaps": [g.__dict__ for g in raw["gaps"]],
            "overhead": [o.__dict__ for o in raw["overhead"]],
            "profile": {"breakdown": raw["breakdown"], "calls": raw["profile"]},
        }
        args.json.write_text(json.dumps(document, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
