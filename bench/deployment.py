"""Deployment figures: the Lambda package's size and cold imports from the package itself.

    python bench/deployment.py [--stage bench] [--repeat 5]

Packages the stage with `kfps deploy --dry-run` (a no-op when nothing changed), unpacks the code package and
its dependency layer as Lambda does (/var/task and /opt/python/...), and in fresh interpreters (`python -S`,
so only those are importable) times, interleaved:
bare `import boto3` (the floor), the API function's handler module (`import app`), the same plus what its
first request builds before any AWS call (runtime and logger), and the reconciler's (`import app` +
`chalicelib.reconcile_entry` + building its executor's Kubernetes client modules).
Prints medians and ratios against the targets (package ≤ 30 MB zipped; API cold import ≤ 1.5× boto3).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PROBES = {
    "boto3": "import boto3",
    "api": "import app",
    # What the API's first request adds before any AWS call: its runtime (settings, the DynamoDB store's
    # models with botocore, the kicker) and the logger. Not part of the target; printed for the full picture.
    "api_first_use": (
        "import app; from chalicelib import runtime; from chalicelib.observability import logs; "
        "runtime.current(); logs.logger()"
    ),
    "reconciler": "import app, chalicelib.reconcile_entry, kubernetes.client",
}


LAYER_SITE = Path("python") / "lib" / "python3.11" / "site-packages"


def _time_import(lambda_dir: Path, statement: str) -> float:
    paths = [str(lambda_dir / "task"), str(lambda_dir / "opt" / LAYER_SITE)]
    code = (
        f"import sys, time; sys.path[:0] = {paths!r}; t = time.perf_counter(); {statement}; "
        "print(time.perf_counter() - t)"
    )
    env = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": "/usr/bin:/bin",
        "KFPS_BUCKET": "bench",
        "KFPS_TABLE_PREFIX": "bench",
        "KFPS_RECONCILE_KICK": "lambda:bench",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=lambda_dir / "task",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="bench")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    out = REPO_ROOT / "build" / args.stage
    subprocess.run(
        [
            str(Path(sys.executable).parent / "kfps"),
            "deploy",
            "--stage",
            args.stage,
            "--cluster",
            "bench",
            "--namespace",
            "bench",
            "--dry-run",
        ],
        check=True,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
    )
    code_mb = (out / "deployment.zip").stat().st_size / 2**20
    layer_mb = (out / "layer-deployment.zip").stat().st_size / 2**20
    size_mb = code_mb + layer_mb
    with tempfile.TemporaryDirectory() as tmp:
        lambda_dir = Path(tmp)
        for name, target in (("deployment.zip", "task"), ("layer-deployment.zip", "opt")):
            with zipfile.ZipFile(out / name) as archive:
                archive.extractall(lambda_dir / target)
        unzipped_mb = sum(f.stat().st_size for f in lambda_dir.rglob("*") if f.is_file()) / 2**20
        samples: dict[str, list[float]] = {name: [] for name in PROBES}
        _time_import(lambda_dir, "import boto3")  # warm the page cache
        for _ in range(args.repeat):
            for name, statement in PROBES.items():
                samples[name].append(_time_import(lambda_dir, statement))
    median = {name: statistics.median(values) for name, values in samples.items()}
    api_ratio = median["api"] / median["boto3"]
    print(
        f"deployment package: {size_mb:.1f} MB zipped (code {code_mb:.2f} MB + dependency layer "
        f"{layer_mb:.1f} MB), {unzipped_mb:.0f} MB unzipped (target ≤ 30 MB zipped) "
        f"{'PASS' if size_mb <= 30 else 'FAIL'}"
    )
    print(
        f"cold import, median of {args.repeat}: boto3 {median['boto3'] * 1000:.0f} ms, "
        f"API {median['api'] * 1000:.0f} ms ({api_ratio:.2f}× boto3, target ≤ 1.5×) "
        f"{'PASS' if api_ratio <= 1.5 else 'FAIL'}, "
        f"reconciler {median['reconciler'] * 1000:.0f} ms ({median['reconciler'] / median['boto3']:.2f}× boto3); "
        f"API import + first use (runtime, logger) {median['api_first_use'] * 1000:.0f} ms "
        f"({median['api_first_use'] / median['boto3']:.2f}× boto3)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
