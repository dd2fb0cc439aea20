"""What the launcher-image containers of a task pod run (`python -m chalicelib.executors.k8s.pod_entrypoint`).

`prepare` (init container): runs `python -m <launcher> prepare --task-file F --workdir <dir>/task`, then turns
the launcher's `argv.json` into `<dir>/argv.sh` (`export` lines from `env.json`, then a `set -- 'arg' ...` line, POSIX single-quoted) and writes
`<dir>/run.sh`, the wrapper the main container runs with the user's image. The wrapper needs only `/bin/sh`
(no Python, no jq): it sources argv.sh, runs the command, writes the exit code to `<dir>/exit_code` and exits
with it, so the pod and container statuses show the user's exit code.

`collect` (second container): waits for `<dir>/exit_code`, then runs
`python -m <launcher> collect --task-file F --workdir <dir>/task --exit-code N --result-file R`.

Lightweight Python components: their pip bootstrap (`sh -c '<pip install kfp==X ...> && "$0" "$@"' ...`) is
kept, but argv.sh decides at run time, in the user's container: when the `python3` on PATH already imports
`kfp` of the bootstrap's major version (images that ship kfp, and the test's process kubelet, whose python3 is
the stack's own venv), the kfp install is dropped and any other `packages_to_install` go with
`pip install --target` into `<dir>/packages/<key>` (the pod's emptyDir, first on PYTHONPATH). So a pod never
installs into an existing Python environment it did not bring; otherwise the bootstrap runs as compiled.

S3 access in the pod comes from the pod's service account (IRSA or EKS Pod Identity inject credentials into
every container); nothing here talks to the Kubernetes API.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

from chalicelib.launcher.python_env import split_pip_bootstrap

logger = logging.getLogger(__name__)
_SHELL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KFP_PIN = re.compile(r"(?<![\w.-])kfp\s*(?:\[[^\]]*\])?\s*(?:==|~=|>=)\s*(\d+)")

WRAPPER = """\
#!/bin/sh
# Runs the user command prepared by kfp-prepare and records its exit code for kfp-collect.
dir="${KFP_LAUNCHER_DIR:-/kfp-launcher}"
. "$dir/argv.sh"
"$@"
rc=$?
echo "$rc" > "$dir/exit_code.tmp"
mv -f "$dir/exit_code.tmp" "$dir/exit_code" 2>/dev/null || echo "$rc" > "$dir/exit_code"
exit "$rc"
"""


def _set_argv(argv: list[str]) -> str:
    return "set -- " + " ".join(shlex.quote(str(a)) for a in argv) + "\n"


def kfp_major_version(bootstrap_script: str) -> str:
    """The major version the bootstrap pins kfp to (`kfp==2.15.2` → "2"); "2" when it names none."""
    match = _KFP_PIN.search(bootstrap_script)
    return match.group(1) if match else "2"


def bootstrap_choice(argv: list[str]) -> str:
    """Lines that set the positional parameters: without the kfp install when the container's `python3`
    already imports kfp of the pinned major version (extra packages into the pod's own --target dir), else
    `argv` as compiled; just `argv` when it has no pip bootstrap."""
    bootstrap, rest = split_pip_bootstrap(argv)
    if bootstrap is None:
        return _set_argv(argv)
    check = f"import sys, kfp; sys.exit(kfp.__version__.split('.')[0] != {kfp_major_version(argv[2])!r})"
    stripped = rest
    lines = [f"if python3 -c {shlex.quote(check)} >/dev/null 2>&1; then\n"]
    if bootstrap.requirements:
        install = shlex.join(
            ["python3", "-m", "pip", "install", "--quiet", "--no-warn-script-location"]
            + ["--disable-pip-version-check", *bootstrap.pip_options, *bootstrap.requirements]
        )
        install_script = f'{install} --target "$KFP_PACKAGE_DIR" && exec "$0" "$@"'
        stripped = ["sh", "-c", install_script, *rest]
        lines.append(f'KFP_PACKAGE_DIR="$dir/packages/{bootstrap.key}"\nexport KFP_PACKAGE_DIR\n')
        lines.append('PYTHONPATH="$KFP_PACKAGE_DIR${PYTHONPATH:+:$PYTHONPATH}"\nexport PYTHONPATH\n')
    lines += [_set_argv(stripped), "else\n", _set_argv(argv), "fi\n"]
    return "".join(lines)


def argv_script(argv: list[str], env: dict[str, str] | None = None) -> str:
    """POSIX-sh lines that export `env` and set the positional parameters to `argv` (see `bootstrap_choice`).

    Sourced by the wrapper, which defines `$dir` (the launcher directory) first."""
    # Names a shell cannot export are still set: the pod manifest puts the same env on the main container.
    exports = "".join(
        f"export {name}={shlex.quote(str(value))}\n"
        for name, value in (env or {}).items()
        if _SHELL_NAME.match(name)
    )
    return exports + bootstrap_choice(argv)


def _launcher(module: str, step: str, *args: str) -> int:
    return subprocess.call([sys.executable, "-m", module, step, *args])


def prepare(task_file: str, launcher_dir: Path, module: str) -> int:
    """Run the launcher's prepare, then write argv.sh and run.sh; returns the process exit code."""
    os.umask(0)  # the user's image may run as another uid; it must write into the shared volumes
    workdir = launcher_dir / "task"
    workdir.mkdir(parents=True, exist_ok=True)
    code = _launcher(module, "prepare", "--task-file", task_file, "--workdir", str(workdir))
    if code:
        return code
    argv = json.loads((workdir / "argv.json").read_text())
    env_file = workdir / "env.json"
    env = json.loads(env_file.read_text()) if env_file.exists() else {}
    (launcher_dir / "argv.sh").write_text(argv_script(argv, env))
    (launcher_dir / "run.sh").write_text(WRAPPER)
    return 0


def wait_for_exit_code(path: Path, poll_seconds: float = 0.2) -> int:
    """Block until the wrapper has written `path` (the pod's activeDeadline bounds the wait)."""
    while True:
        text = path.read_text().strip() if path.exists() else ""
        if text:
            return int(text)
        time.sleep(poll_seconds)


def collect(task_file: str, launcher_dir: Path, module: str, result_file: str) -> int:
    """Wait for the user command to end, then run the launcher's collect; returns its exit code."""
    exit_code = wait_for_exit_code(launcher_dir / "exit_code")
    workdir = str(launcher_dir / "task")
    args = ["--task-file", task_file, "--workdir", workdir, "--exit-code", str(exit_code)]
    return _launcher(module, "collect", *args, "--result-file", result_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pod_entrypoint", description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("prepare", "collect"))
    parser.add_argument("--task-file", required=True)
    parser.add_argument("--launcher-dir", type=Path, required=True)
    parser.add_argument("--launcher-module", default="chalicelib.launcher")
    parser.add_argument("--result-file", default="")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    if args.step == "prepare":
        return prepare(args.task_file, args.launcher_dir, args.launcher_module)
    if not args.result_file:
        parser.error("collect needs --result-file")
    return collect(args.task_file, args.launcher_dir, args.launcher_module, args.result_file)


if __name__ == "__main__":
    sys.exit(main())
