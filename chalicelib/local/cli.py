"""`kfps` — the command line of the local stack.

    kfps up [--port 8000] [--aws-port N] [--data-dir .kfps] [--executor local|kubernetes]
            [--kubeconfig PATH] [--namespace NS] [--max-parallel N]
            [--aws-host ADDR] [--pod-aws-endpoint URL]

Runs in the foreground until Ctrl-C, which stops everything it started.

    kfps deploy --stage NAME --cluster EKS_NAME --namespace NS [...] [--dry-run]
    kfps destroy --stage NAME [--delete-data]

deploy/destroy live in `infra/` (deployment tooling, never in the Lambda package), imported only when used.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kfps", description="KFP Serverless on one machine")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start embedded AWS, the API and the reconciler in the foreground")
    up.add_argument("--port", type=int, default=8000, help="API port (default 8000)")
    up.add_argument("--aws-port", type=int, default=0, help="embedded AWS (moto) port (default: a free port)")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--data-dir", type=Path, default=Path(".kfps"), help="task workdirs, logs, artifacts")
    up.add_argument("--executor", choices=("local", "kubernetes"), default="local")
    up.add_argument("--kubeconfig", default="", help="kubeconfig for --executor kubernetes")
    up.add_argument("--namespace", default="default", help="Kubernetes namespace for task pods")
    up.add_argument(
        "--aws-host",
        default="127.0.0.1",
        help="address the embedded AWS listens on (0.0.0.0 for a real cluster)",
    )
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
    from chalicelib.local.stack import LocalStack, StackOptions

    options = StackOptions(
        port=args.port,
        aws_port=args.aws_port,
        host=args.host,
        data_dir=args.data_dir,
        executor=args.executor,
        kubeconfig=args.kubeconfig,
        namespace=args.namespace,
        max_parallel=args.max_parallel,
        aws_host=args.aws_host,
        pod_aws_endpoint=args.pod_aws_endpoint,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalStack(options) as stack:
        sys.stdout.write(
            f"KFP Serverless is up at {stack.url}\n"
            f"  dashboard: {stack.url}/  (open it in a browser)\n"
            f"  embedded AWS (moto): {stack.aws_endpoint}\n"
            f"  data: {options.data_dir.resolve()}\n\n"
            f"  import kfp; client = kfp.Client(host={stack.url!r})\n\n"
            "Press Ctrl-C to stop.\n"
        )
        sys.stdout.flush()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
