"""`chalice package` for one stage: a generated Chalice project (the repository's code, linked, plus a
generated stage configuration) packaged with the stage's merge template into `build/<stage>/sam.json` and
`build/<stage>/deployment.zip`. The stage configuration is never hand-edited and holds nothing
account-specific: names and ARNs come from the stack itself."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.template import merge_template

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("app.py", "chalicelib", "requirements.txt", "vendor")
API_GATEWAY_STAGE = "api"


class PackagingError(RuntimeError):
    """`chalice package` (or the vendoring before it) failed; the message carries its output."""


@dataclasses.dataclass(frozen=True)
class PackagedStage:
    stage: str
    template_path: Path  # the SAM template (build/<stage>/sam.json)
    package_path: Path  # build/<stage>/deployment.zip

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


def _project_dir(stage: str, build_root: Path) -> Path:
    """build/.project: links to the code plus the generated config. Chalice's dependency cache
    (`.chalice/deployments`) is kept between packagings."""
    project = build_root / ".project"
    (project / ".chalice").mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        link = project / name
        if link.is_symlink() or link.exists():
            link.unlink()
        if (REPO_ROOT / name).exists():
            link.symlink_to(REPO_ROOT / name)
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


def package(stage: str, build_root: Path | None = None, region: str = "us-east-1") -> PackagedStage:
    """Write build/<stage>/sam.json + deployment.zip. Touches no AWS (chalice only needs a region name)."""
    build_root = build_root or REPO_ROOT / "build"
    vendor_re2()
    out = build_root / stage
    if out.exists():
        shutil.rmtree(out)
    project = _project_dir(stage, build_root)
    merge_path = build_root / f"{stage}-merge.json"
    merge_path.write_text(json.dumps(merge_template(stage), indent=2))
    chalice = Path(sys.executable).parent / "chalice"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_ENDPOINT", "KFPS_"))}
    env["AWS_DEFAULT_REGION"] = region
    result = subprocess.run(
        [
            str(chalice),
            "--project-dir",
            str(project),
            "package",
            "--stage",
            stage,
            "--merge-template",
            str(merge_path),
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise PackagingError(f"chalice package failed:\n{result.stdout}{result.stderr}")
    return PackagedStage(stage, out / "sam.json", out / "deployment.zip")
