"""Lightweight Python components on the host: strip the pip bootstrap, give extra packages their own dir.

A lightweight component's command is `sh -c <pip bootstrap> sh -ec <program> <source>` (kfp-ir.md §2.7).
The bootstrap installs `kfp==<sdk version> --no-deps` (and, with `packages_to_install`, more packages), then
`exec "$0" "$@"`. On the host the step's `python3` already has kfp, so the bootstrap is dropped; extra
packages go once into `<cache_dir>/<sha of the sorted requirements>` with `pip install --target`, under a
file lock, and that directory is prepended to PYTHONPATH — never into the system Python or the stack's venv.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from chalicelib.launcher.errors import LauncherError

logger = logging.getLogger(__name__)

SHELLS = frozenset({"sh", "/bin/sh", "bash", "/bin/bash"})
EXEC_TAIL = '"$0" "$@"'
SEGMENT_SEPARATORS = re.compile(r"&&|\|\||\n|\(|\)")
KFP_REQUIREMENT = re.compile(r"^kfp\s*(?:[=<>!~\[;]|$)")
OPTIONS_WITH_VALUE = frozenset(
    {"--index-url", "-i", "--extra-index-url", "--trusted-host", "--find-links", "-f"}
)
COMPLETE_MARKER = ".complete"


@dataclasses.dataclass(frozen=True)
class PipBootstrap:
    """What a lightweight component's bootstrap installs beyond kfp itself.

    requirements: requirement strings other than kfp and kfp's own typing-extensions shim.
    pip_options: index options (`--index-url U`, `--trusted-host H`, ...) as argv items.
    """

    requirements: tuple[str, ...] = ()
    pip_options: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A stable name for the environment these requirements make (sha256 of the sorted inputs)."""
        payload = json.dumps({"requirements": sorted(set(self.requirements)), "options": self.pip_options})
        return hashlib.sha256(payload.encode()).hexdigest()[:24]


def split_pip_bootstrap(argv: Sequence[str]) -> tuple[PipBootstrap | None, list[str]]:
    """`(bootstrap, argv after it)` when `argv` starts with a pip bootstrap, else `(None, argv)`."""
    if (
        len(argv) < 4
        or argv[0] not in SHELLS
        or argv[1] != "-c"
        or "pip install" not in argv[2]
        or not argv[2].rstrip().endswith(EXEC_TAIL)
    ):
        return None, list(argv)
    return parse_pip_bootstrap(argv[2]), list(argv[3:])


def parse_pip_bootstrap(script: str) -> PipBootstrap:
    """The requirements and index options of every `pip install` in a bootstrap script."""
    requirements: list[str] = []
    options: list[str] = []
    for segment in SEGMENT_SEPARATORS.split(script):
        if "pip install" not in segment:
            continue
        try:
            tokens = shlex.split(segment)
        except ValueError as error:
            raise LauncherError(
                f"cannot parse the pip bootstrap line {segment.strip()!r}: {error}"
            ) from error
        words = iter(tokens[tokens.index("install") + 1 :])
        for word in words:
            if word in OPTIONS_WITH_VALUE:
                pair = (word, next(words, ""))
                if not _contains_pair(options, pair):
                    options.extend(pair)
            elif word.startswith("-"):
                continue
            elif not is_kfp_requirement(word) and word not in requirements:
                requirements.append(word)
    return PipBootstrap(tuple(requirements), tuple(options))


def is_kfp_requirement(requirement: str) -> bool:
    """True for kfp itself and the typing-extensions shim kfp's bootstrap adds for Python < 3.9."""
    text = requirement.strip()
    if KFP_REQUIREMENT.match(text):
        return True
    return text.startswith("typing-extensions") and 'python_version<"3.9"' in text.replace(" ", "")


def _contains_pair(options: list[str], pair: tuple[str, str]) -> bool:
    return any(tuple(options[i : i + 2]) == pair for i in range(0, len(options), 2))


def ensure_package_dir(bootstrap: PipBootstrap, cache_dir: Path, python: str = sys.executable) -> Path:
    """The directory holding `bootstrap.requirements`, installing them there first if needed.

    Two tasks needing the same set wait for one another on a lock file; a finished directory carries a
    marker file, so a crashed install is redone.
    """
    target = cache_dir / bootstrap.key
    if (target / COMPLETE_MARKER).exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f"{bootstrap.key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / COMPLETE_MARKER).exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        command = [python, "-m", "pip", "install", "--quiet", "--no-warn-script-location", "--target"]
        command += [str(target), *bootstrap.pip_options, *bootstrap.requirements]
        logger.info("installing %s into %s", " ".join(bootstrap.requirements), target)
        sys.stdout.flush()
        completed = subprocess.run(command, stdout=sys.stdout, stderr=subprocess.STDOUT, check=False)
        if completed.returncode != 0:
            raise LauncherError(
                f"pip install of {' '.join(bootstrap.requirements)} failed (exit code {completed.returncode})"
            )
        (target / COMPLETE_MARKER).touch()
    return target


def env_with_package_dir(env: Mapping[str, str], package_dir: Path) -> dict[str, str]:
    """`env` with `package_dir` first on PYTHONPATH (and its `bin` first on PATH)."""
    result = dict(env)
    result["PYTHONPATH"] = os.pathsep.join(p for p in (str(package_dir), env.get("PYTHONPATH", "")) if p)
    scripts = package_dir / "bin"
    if scripts.is_dir():
        result["PATH"] = os.pathsep.join(p for p in (str(scripts), env.get("PATH", "")) if p)
    return result
