"""Command line of the task launcher.

    python -m chalicelib.launcher run --task-file F --result-file R [--workdir D] [--fork-python-steps]
    python -m chalicelib.launcher prepare --task-file F --workdir D
    python -m chalicelib.launcher collect --task-file F --workdir D --exit-code N --result-file R [--log-file L]

F and R may be local paths or `s3://bucket/key`. `run` is the local executor's one-process mode (pip
bootstrap stripped, host `python3`; with `--fork-python-steps`, set in the local fork server, a lightweight
Python step runs in a fork of the launcher); `prepare`/`collect` are the pod's init container and sidecar.
Heavy modules are imported only inside the subcommands, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

LOG_FORMAT = "[launcher] %(levelname)s %(message)s"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m chalicelib.launcher", description="Run one KFP task attempt."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="prepare, run the command and collect, in this process")
    run.add_argument("--task-file", required=True, help="TaskSpec JSON (path or s3://bucket/key)")
    run.add_argument("--result-file", required=True, help="where to write the TaskResult JSON")
    run.add_argument("--workdir", type=Path, help="scratch directory (default: a new temporary one)")
    run.add_argument("--package-cache", type=Path, help="per-requirements package dirs (default from env)")
    run.add_argument("--mount-root", help="root of the /s3, /gcs, /minio mount directories (default /)")
    run.add_argument(
        "--fork-python-steps",
        action="store_true",
        help="run a lightweight Python step in a fork of this process (the local fork server sets it)",
    )

    prepare = commands.add_parser("prepare", help="fetch inputs, write executor_input.json and argv.json")
    prepare.add_argument("--task-file", required=True)
    prepare.add_argument("--workdir", type=Path, required=True)
    prepare.add_argument("--mount-root")
    prepare.add_argument(
        "--host-python",
        action="store_true",
        help="strip the pip bootstrap (the command runs with host python3)",
    )
    prepare.add_argument("--package-cache", type=Path)

    collect = commands.add_parser("collect", help="read and store outputs, write the TaskResult")
    collect.add_argument("--task-file", required=True)
    collect.add_argument("--workdir", type=Path, required=True)
    collect.add_argument("--exit-code", type=int, required=True)
    collect.add_argument("--result-file", required=True)
    collect.add_argument("--log-file", type=Path, help="the command's log, for the result's log tail")
    collect.add_argument("--mount-root")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; the process exit code is 0 once a result (even a failed one) was written."""
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format=LOG_FORMAT, force=True)
    from chalicelib.launcher import commands

    return commands.dispatch(arguments)


if __name__ == "__main__":
    code = main()
    # The result file is written and closed by now: skip interpreter teardown, so the executor sees the
    # process end (and the dependant can start) a few tens of milliseconds sooner.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
