"""`kfps` — the command line of the local stack.

    kfps up [--port 8000] [--data-dir .kfps] [--aws [--aws-port N] [--aws-host ADDR]]
            [--executor local|kubernetes] [--kubeconfig PATH] [--namespace NS] [--max-parallel N]
            [--no-prewarm] [--pod-aws-endpoint URL] [--multi-user]
    kfps reset [--data-dir .kfps] [--yes]
    kfps token create --namespace NS [--namespace NS2] [--admin] [--expires 30d] [--data-dir .kfps]
    kfps token list [--data-dir .kfps]
    kfps token revoke TOKEN_ID [--data-dir .kfps]

`up` runs in the foreground until Ctrl-C or SIGTERM (or SIGINT to the process alone), which stop everything it
started; without --multi-user it is open: anyone reaching the port has full access. `reset` deletes everything
the stack stored under the data directory. `token` manages API tokens (`local/token_commands.py`).

    kfps deploy --stage NAME --cluster EKS_NAME --namespace NS [...] [--dry-run]
    kfps destroy --stage NAME [--delete-data]

deploy/destroy live in `infra/` (deployment tooling, never in the Lambda package), imported only when used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.limits import Limits
from chalicelib.local.ports import PortInUse
from chalicelib.local.token_commands import add_token_commands, run_token_command
from chalicelib.pod_policy import PodPolicy
from chalicelib.settings import DYNAMODB_STORE, EMBEDDED_STORE

if TYPE_CHECKING:
    from chalicelib.local.stack import LocalStack

DEFAULT_DATA_DIR = Path(".kfps")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kfps", description="KFP Serverless on one machine")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up",
        help="start the API, the reconciler and the store in the foreground",
        description=(
            "Start KFP Serverless on this machine. By default records and objects are kept in the embedded store "
            "under --data-dir (SQLite + files), which survives restarts and crashes. --aws runs the cloud code "
            "path instead: DynamoDB and S3 on an embedded AWS (moto) server, in memory, gone when the stack stops."
        ),
    )
    up.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="where the embedded store, task workdirs, logs and artifacts live (default .kfps)",
    )
    up.add_argument(
        "--aws",
        action="store_true",
        help="use DynamoDB + S3 on an embedded AWS (moto) server instead of the embedded store (data in memory)",
    )
    up.add_argument(
        "--aws-port", type=int, default=0, help="with --aws: the embedded AWS port (default: a free port)"
    )
    up.add_argument(
        "--aws-host",
        default="127.0.0.1",
        help="with --aws: address the embedded AWS listens on (0.0.0.0 for a real cluster)",
    )
    up.add_argument(
        "--executor",
        choices=("local", "kubernetes"),
        default="local",
        help="local processes (default) or Kubernetes pods; kubernetes implies --aws (pods reach the S3 bucket)",
    )
    up.add_argument("--kubeconfig", default="", help="kubeconfig for --executor kubernetes")
    up.add_argument("--namespace", default="default", help="Kubernetes namespace for task pods")
    up.add_argument(
        "--pod-aws-endpoint",
        default="",
        help="with --executor kubernetes: the embedded AWS endpoint as pods see it (default: the local one)",
    )
    up.add_argument(
        "--max-parallel",
        type=int,
        default=0,
        help="local executor: at most N tasks at once (default: no count limit; tasks are admitted by their "
        "CPU and memory requests against this machine)",
    )
    up.add_argument(
        "--no-prewarm",
        dest="prewarm",
        action="store_false",
        help="local executor: no fork server; every task attempt starts a fresh Python process",
    )
    up.add_argument(
        "--multi-user",
        action="store_true",
        help="require API tokens (kfps token create) and keep each token to its namespaces",
    )
    up.add_argument("--pause-at", default="", help=argparse.SUPPRESS)  # test hook (durability tests)
    reset = commands.add_parser("reset", help="delete everything stored under the data directory")
    reset.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    reset.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_token_commands(commands, DEFAULT_DATA_DIR)
    for name, text in DEPLOY_COMMANDS.items():
        commands.add_parser(name, help=text, add_help=False)
    return parser


DEPLOY_COMMANDS = {
    "deploy": "deploy a stage to AWS (kfps deploy --help)",
    "destroy": "remove a stage from AWS (kfps destroy --help)",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in DEPLOY_COMMANDS:
        from infra.cli import main as deploy_main

        return deploy_main(argv)
    args = _parser().parse_args(argv)
    if args.command == "reset":
        return _reset(args.data_dir, args.yes)
    if args.command == "token":
        return run_token_command(args)
    return _up(args)


def _up(args: argparse.Namespace) -> int:
    from chalicelib.local.stack import LocalStack, StackOptions
    from chalicelib.observability.logs import use_plain_lines

    use_plain_lines()  # a terminal's readable lines; Lambda keeps JSON
    moto_backed = args.aws or args.executor == "kubernetes"
    options = StackOptions(
        port=args.port,
        host=args.host,
        data_dir=args.data_dir,
        store=DYNAMODB_STORE if moto_backed else EMBEDDED_STORE,
        aws_port=args.aws_port,
        aws_host=args.aws_host,
        executor=args.executor,
        kubeconfig=args.kubeconfig,
        namespace=args.namespace,
        max_parallel=args.max_parallel,
        prewarm=args.prewarm,
        pod_aws_endpoint=args.pod_aws_endpoint,
        pause_at=args.pause_at,
        multi_user=args.multi_user,
        limits=Limits.from_env(os.environ),
        pod_policy=PodPolicy.from_env(os.environ),
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stack = LocalStack(options, environ=os.environ)
    try:
        stack.start()
    except PortInUse as exc:
        sys.stderr.write(f"kfps: {exc}\n")
        return 2
    try:
        if not args.multi_user:
            sys.stderr.write(OPEN_WARNING)
            sys.stderr.flush()
        sys.stdout.write(_banner(stack, moto_backed))
        sys.stdout.flush()
        stop.wait()
    finally:
        stack.stop()
    return 0


def _banner(stack: LocalStack, moto_backed: bool) -> str:
    data_dir = stack.options.data_dir.resolve()
    if moto_backed:
        storage = (
            f"  store: DynamoDB + S3 on embedded AWS (moto) at {stack.aws_endpoint}, in memory: gone when this stops\n"
            f"  task workdirs and artifacts: {data_dir}\n"
        )
    else:
        storage = (
            f"  data: {data_dir} (embedded store: kept across restarts)\n"
            f"  wipe it: stop, then `kfps reset --data-dir {stack.options.data_dir}` (or `make clean-data`)\n"
            f"  register a pipeline by copying a package into {data_dir / 'store' / 'objects' / 'pipelines'}/\n"
        )
    return (
        f"KFP Serverless is up at {stack.url}\n"
        f"  dashboard: {stack.url}/  (open it in a browser)\n"
        f"{storage}\n"
        f"{_access(stack)}"
        "Press Ctrl-C to stop.\n"
    )


OPEN_WARNING = (
    "WARNING: open mode: no authentication; anyone who can reach this port has full access to every pipeline, "
    "run and artifact (use --multi-user for tokens and namespaces)\n"
)


def _access(stack: LocalStack) -> str:
    if not stack.options.multi_user:
        return f"  import kfp; client = kfp.Client(host={stack.url!r})\n\n"
    return (
        "  multi-user: every request needs an API token; create one with\n"
        f"    kfps token create --data-dir {stack.options.data_dir} --namespace NS\n"
        f"  import kfp; client = kfp.Client(host={stack.url!r}, existing_token=TOKEN)\n\n"
    )


def _reset(data_dir: Path, assume_yes: bool) -> int:
    """Delete the data directory (store, workdirs, artifacts). Refuses what does not look like one."""
    if not data_dir.exists():
        sys.stdout.write(f"nothing to delete: {data_dir} does not exist\n")
        return 0
    known = {"store", "runs", "workspaces", "packages", "pipeline_root"}
    if not data_dir.is_dir() or not (set(os.listdir(data_dir)) & known or not os.listdir(data_dir)):
        sys.stderr.write(f"kfps: {data_dir} does not look like a kfps data directory; not deleting it\n")
        return 2
    if not assume_yes:
        if not sys.stdin.isatty():
            sys.stderr.write("kfps: pass --yes to delete without asking\n")
            return 2
        answer = input(f"Delete everything under {data_dir.resolve()}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            return 1
    shutil.rmtree(data_dir)
    sys.stdout.write(f"deleted {data_dir.resolve()}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
