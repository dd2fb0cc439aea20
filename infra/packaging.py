"""`chalice package` for one stage: a generated Chalice project (the repository's code, linked, plus a
generated stage configuration) packaged with the stage's merge template into `build/<stage>/`:

    sam.json               the SAM template
    deployment.zip         the functions' code (app.py, chalicelib/), a few hundred KB
    layer-deployment.zip   the dependencies (requirements.txt + vendor/) as one Lambda layer

The stage configuration is never hand-edited and holds nothing account-specific: names and ARNs come from
the stack itself. Chalice's `automatic_layer` keys the dependency layer on requirements.txt and vendor/ only,
and the layer is cached in `build/package-cache/` across stages, build directories and code changes, so only a
change of the dependencies downloads wheels again. A stage whose inputs did not change since its last
packaging is not packaged again (`build/<stage>/inputs.sha256`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infra.template import merge_template

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("app.py", "chalicelib", "requirements.txt", "vendor")
API_GATEWAY_STAGE = "api"
DEFAULT_CACHE_DIR = REPO_ROOT / "build" / "package-cache"
OUTPUT_FILES = ("sam.json", "deployment.zip", "layer-deployment.zip")
INPUTS_FILE = "inputs.sha256"
# Cached packages kept per kind (newest first); older ones are removed after each packaging.
KEEP_CACHED = {"appcode-": 10, "managed-layer-": 2}


class PackagingError(RuntimeError):
    """`chalice package` (or the vendoring before it) failed; the message carries its output."""


@dataclasses.dataclass(frozen=True)
class PackagedStage:
    stage: str
    directory: Path  # build/<stage>/
    reused: bool = False  # the inputs were unchanged since the last packaging

    @property
    def template_path(self) -> Path:
        return self.directory / "sam.json"

    @property
    def package_path(self) -> Path:
        return self.directory / "deployment.zip"

    @property
    def layer_path(self) -> Path:
        return self.directory / "layer-deployment.zip"

    def template(self) -> dict[str, Any]:
        return json.loads(self.template_path.read_text())


def stage_config(stage: str) -> dict[str, Any]:
    """The repository's `.chalice/config.json` (functions' memory and timeouts, no stages) plus the one
    generated stage: its policies and environment come from the merge template."""
    config = json.loads((REPO_ROOT / ".chalice" / "config.json").read_text())
    config["stages"] = {
        stage: {
            "api_gateway_stage": API_GATEWAY_STAGE,
            "autogen_policy": False,
            "automatic_layer": True,
            "iam_policy_file": "policy-generated.json",
            "environment_variables": {"KFPS_STAGE": stage},
        }
    }
    return config


def _placeholder_policy() -> dict[str, Any]:
    # Replaced per function by the merge template's least-privilege policies.
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["logs:CreateLogStream"], "Resource": "arn:aws:logs:*:*:*"}
        ],
    }


def _project_dir(stage: str, build_root: Path, cache_dir: Path) -> Path:
    """build/.project: links to the code, the generated config, and Chalice's package cache
    (`.chalice/deployments`) linked to `cache_dir`."""
    project = build_root / ".project"
    (project / ".chalice").mkdir(parents=True, exist_ok=True)
    links = {name: REPO_ROOT / name for name in PROJECT_FILES} | {".chalice/deployments": cache_dir}
    for name, target in links.items():
        link = project / name
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.is_dir():
            shutil.rmtree(link)
        if target.exists():
            link.symlink_to(target)
    (project / ".chalice" / "config.json").write_text(json.dumps(stage_config(stage), indent=2))
    (project / ".chalice" / "policy-generated.json").write_text(json.dumps(_placeholder_policy()))
    return project


def vendor_re2() -> None:
    """`make vendor-re2` when vendor/ lacks it (google-re2 for the Lambda's glibc; see the Makefile)."""
    if any((REPO_ROOT / "vendor").glob("re2*")):
        return
    result = subprocess.run(["make", "-s", "vendor-re2"], cwd=REPO_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackagingError(f"make vendor-re2 failed:\n{result.stdout}{result.stderr}")


def inputs_digest(stage: str, merge: dict[str, Any], region: str) -> str:
    """sha256 over everything the packaged stage is made of: the code and dependency files, the generated
    stage configuration and merge template, the region and the Chalice version."""
    from chalice import __version__ as chalice_version

    digest = hashlib.sha256()
    header = {"stage": stage, "region": region, "chalice": chalice_version, "config": stage_config(stage)}
    for part in (header, merge):
        digest.update(json.dumps(part, sort_keys=True).encode())
    for name in PROJECT_FILES:
        root = REPO_ROOT / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            if "__pycache__" in path.parts or not path.exists():
                continue
            digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(cache_dir: Path) -> Iterator[None]:
    """One packaging at a time per cache: Chalice writes its cached zips in place."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _prune(cache_dir: Path) -> None:
    for prefix, keep in KEEP_CACHED.items():
        cached = sorted(cache_dir.glob(f"{prefix}*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in cached[keep:]:
            stale.unlink(missing_ok=True)


def package(
    stage: str,
    build_root: Path | None = None,
    region: str = "us-east-1",
    cache_dir: Path = DEFAULT_CACHE_DIR,
    pod_namespaces: tuple[str, ...] = (),
) -> PackagedStage:
    """Write build/<stage>/ (sam.json, deployment.zip, layer-deployment.zip), or keep it when its inputs
    are unchanged. Touches no AWS (chalice only needs a region name)."""
    build_root = build_root or REPO_ROOT / "build"
    vendor_re2()
    out = build_root / stage
    merge = merge_template(stage, pod_namespaces)
    digest = inputs_digest(stage, merge, region)
    inputs_file = out / INPUTS_FILE
    if all((out / name).is_file() for name in OUTPUT_FILES) and inputs_file.is_file():
        if inputs_file.read_text().strip() == digest:
            return PackagedStage(stage, out, reused=True)
    with _locked(cache_dir):
        if out.exists():
            shutil.rmtree(out)
        project = _project_dir(stage, build_root, cache_dir)
        merge_path = build_root / f"{stage}-merge.json"
        merge_path.write_text(json.dumps(merge, indent=2))
        chalice = Path(sys.executable).parent / "chalice"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "KFPS_"))}
        env["AWS_DEFAULT_REGION"] = region
        command = [str(chalice), "--project-dir", str(project), "package", "--stage", stage]
        command += ["--merge-template", str(merge_path), str(out)]
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise PackagingError(f"chalice package failed:\n{result.stdout}{result.stderr}")
        _prune(cache_dir)
    missing = [name for name in OUTPUT_FILES if not (out / name).is_file()]
    if missing:
        raise PackagingError(f"chalice package wrote no {', '.join(missing)} in {out}")
    inputs_file.write_text(digest + "\n")
    return PackagedStage(stage, out)
