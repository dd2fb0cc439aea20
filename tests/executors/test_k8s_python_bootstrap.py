"""The pip bootstrap of lightweight Python components in a pod: argv.sh keeps or drops it at run time,
depending on whether the container's `python3` already imports kfp of the pinned major version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.executors.k8s import pod_entrypoint
from chalicelib.launcher.python_env import PipBootstrap


def bootstrap(*requirements: str, kfp: str = "kfp==2.15.2") -> str:
    """A bootstrap script shaped like the one kfp 2.x compiles."""
    packages = " ".join(f"'{r}'" for r in (kfp, *requirements))
    return (
        '\nif ! [ -x "$(command -v pip)" ]; then\n    python3 -m ensurepip || python3 -m ensurepip --user\nfi\n\n'
        "PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location "
        f'{packages} \'--no-deps\' && "$0" "$@"\n'
    )


PROGRAM = ["sh", "-ec", 'python3 -m kfp.dsl.executor_main "$@"', "--executor_input", "{}"]


def arguments_after(script: str, tmp_path: Path, python3_dir: Path) -> tuple[list[str], str]:
    """(the positional parameters, PYTHONPATH) after sourcing argv.sh the way the wrapper does."""
    (tmp_path / "argv.sh").write_text(script)
    probe = '. "$dir/argv.sh"; printf "%s\\n" "$PYTHONPATH"; for a in "$@"; do printf "%s\\0" "$a"; done'
    completed = subprocess.run(
        ["/bin/sh", "-c", f"dir={tmp_path}; {probe}"],
        capture_output=True,
        env={"PATH": f"{python3_dir}:/usr/bin:/bin"},
        check=True,
    )
    pythonpath, _, rest = completed.stdout.decode().partition("\n")
    return rest.split("\0")[:-1], pythonpath


@pytest.fixture
def python3_with_kfp(tmp_path) -> Path:
    """A PATH directory whose python3 is this interpreter (which imports kfp 2)."""
    directory = tmp_path / "with-kfp"
    directory.mkdir()
    launcher = directory / "python3"
    launcher.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    launcher.chmod(0o755)
    return directory


@pytest.fixture
def python3_without_kfp(tmp_path) -> Path:
    """A PATH directory whose python3 cannot import kfp (a stock python image)."""
    directory = tmp_path / "without-kfp"
    directory.mkdir()
    stub = directory / "python3"
    stub.write_text("#!/bin/sh\nexit 1\n")
    stub.chmod(0o755)
    return directory


def test_kfp_only_bootstrap_is_dropped_when_python3_has_kfp(tmp_path, python3_with_kfp):
    argv = ["sh", "-c", bootstrap(), *PROGRAM]
    args, pythonpath = arguments_after(pod_entrypoint.argv_script(argv), tmp_path, python3_with_kfp)
    assert (args, pythonpath) == (PROGRAM, "")


def test_bootstrap_runs_as_compiled_when_python3_lacks_kfp(tmp_path, python3_without_kfp):
    argv = ["sh", "-c", bootstrap("pandas"), *PROGRAM]
    args, _ = arguments_after(pod_entrypoint.argv_script(argv), tmp_path, python3_without_kfp)
    assert args == argv


def test_bootstrap_pinning_another_kfp_major_version_runs_as_compiled(tmp_path, python3_with_kfp):
    argv = ["sh", "-c", bootstrap(kfp="kfp==1.8.22"), *PROGRAM]
    args, _ = arguments_after(pod_entrypoint.argv_script(argv), tmp_path, python3_with_kfp)
    assert args == argv


def test_extra_packages_go_to_a_target_dir_in_the_launcher_dir(tmp_path, python3_with_kfp):
    argv = ["sh", "-c", bootstrap("pandas==2.2.0", "/wheels/tool.whl"), *PROGRAM]
    args, pythonpath = arguments_after(pod_entrypoint.argv_script(argv), tmp_path, python3_with_kfp)

    package_dir = f"{tmp_path}/packages/{PipBootstrap(('pandas==2.2.0', '/wheels/tool.whl')).key}"
    assert pythonpath == package_dir
    assert args[:2] == ["sh", "-c"] and args[3:] == PROGRAM
    assert '--target "$KFP_PACKAGE_DIR"' in args[2] and "'kfp" not in args[2]
    assert args[2].startswith("python3 -m pip install") and "pandas==2.2.0 /wheels/tool.whl" in args[2]


def test_commands_without_a_bootstrap_are_left_alone(tmp_path, python3_with_kfp):
    argv = ["sh", "-c", "echo hi"]
    args, _ = arguments_after(pod_entrypoint.argv_script(argv), tmp_path, python3_with_kfp)
    assert args == argv


@pytest.mark.parametrize(
    ("script", "major"),
    [
        ("pip install 'kfp==2.15.2' '--no-deps'", "2"),
        ("pip install kfp==1.8.22", "1"),
        ("pip install kfp", "2"),
    ],
)
def test_kfp_major_version_of_the_bootstrap(script, major):
    assert pod_entrypoint.kfp_major_version(script) == major
