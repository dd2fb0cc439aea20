import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kfp import dsl

from chalicelib.launcher.python_env import (
    PipBootstrap,
    ensure_package_dir,
    env_with_package_dir,
    parse_pip_bootstrap,
    split_pip_bootstrap,
)
from tests.launcher.task_specs import compile_component

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "kfp-compiled"


def command_of(component, tmp_path: Path) -> list[str]:
    ir = compile_component(component, tmp_path)
    (executor,) = ir["deploymentSpec"]["executors"].values()
    return executor["container"]["command"] + executor["container"]["args"]


def test_kfp_only_bootstrap_is_stripped_to_the_program(tmp_path: Path):
    @dsl.component(base_image="python:3.11")
    def plain(a: int) -> int:
        return a

    argv = command_of(plain, tmp_path)
    bootstrap, rest = split_pip_bootstrap(argv)
    assert bootstrap == PipBootstrap()
    assert rest == argv[3:] and rest[:2] == ["sh", "-ec"]


def test_extra_packages_and_index_options_are_parsed(tmp_path: Path):
    @dsl.component(
        base_image="python:3.11",
        packages_to_install=["six==1.16.0", "requests"],
        pip_index_urls=["https://example.org/simple"],
    )
    def extra(a: int) -> int:
        return a

    bootstrap, _ = split_pip_bootstrap(command_of(extra, tmp_path))
    assert bootstrap is not None
    assert bootstrap.requirements == ("six==1.16.0", "requests")
    assert bootstrap.pip_options[:2] == ("--index-url", "https://example.org/simple")


def test_container_command_without_bootstrap_is_unchanged():
    argv = ["sh", "-c", "echo hi"]
    assert split_pip_bootstrap(argv) == (None, argv)


def test_old_style_user_fallback_bootstrap_keeps_requirements_once():
    script = (
        "(PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet --no-warn-script-location "
        "'xgboost==1.1.1' 'pandas==1.0.5' || PIP_DISABLE_PIP_VERSION_CHECK=1 python3 -m pip install --quiet "
        "--no-warn-script-location 'xgboost==1.1.1' 'pandas==1.0.5' --user) && \"$0\" \"$@\""
    )
    assert parse_pip_bootstrap(script).requirements == ("xgboost==1.1.1", "pandas==1.0.5")


def test_every_corpus_bootstrap_parses():
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    parsed = 0
    for package in sorted(CORPUS.glob("valid/**/*.yaml")):
        for document in yaml.safe_load_all(package.read_text()):
            for executor in ((document or {}).get("deploymentSpec") or {}).get("executors", {}).values():
                container = executor.get("container") or {}
                bootstrap, _ = split_pip_bootstrap(container.get("command", []) + container.get("args", []))
                if bootstrap is not None:
                    assert not any(r.startswith("kfp") for r in bootstrap.requirements), package
                    parsed += 1
    assert parsed > 100


def pip_can_reach_an_index(tmp_path: Path) -> bool:
    probe = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "-d",
            str(tmp_path / "probe"),
            "six",
        ],
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(tmp_path / "probe", ignore_errors=True)
    return probe.returncode == 0


def test_extra_packages_are_installed_once_into_their_own_target_dir(tmp_path: Path):
    if not pip_can_reach_an_index(tmp_path):
        pytest.skip("pip cannot reach a package index to install 'six'")
    bootstrap = PipBootstrap(("six",))
    first = ensure_package_dir(bootstrap, tmp_path / "cache")
    assert (first / "six.py").exists()
    stamp = (first / ".complete").stat().st_mtime_ns
    assert ensure_package_dir(bootstrap, tmp_path / "cache") == first
    assert (first / ".complete").stat().st_mtime_ns == stamp  # not installed twice
    env = env_with_package_dir({"PATH": "/usr/bin"}, first)
    assert env["PYTHONPATH"].split(":")[0] == str(first)
