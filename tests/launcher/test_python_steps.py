"""Which steps the prewarmed launcher may fork: kfp's lightweight program, exactly, in this interpreter."""

import os
import sys
from pathlib import Path

import pytest
import yaml
from kfp import dsl

from chalicelib.launcher.python_env import split_pip_bootstrap
from chalicelib.launcher.python_steps import (
    STARTED_WITH,
    interpreter_start_env,
    is_prewarmable,
    runs_in_this_interpreter,
    step_of,
)
from tests.launcher.task_specs import compile_component, launcher_env


@dsl.component(base_image="python:3.11")
def plain(x: int) -> int:
    return x


@dsl.component(base_image="python:3.11", packages_to_install=["six==1.16.0"])
def with_packages(x: int) -> int:
    return x


@dsl.container_component
def shell(text: str):
    return dsl.ContainerSpec(image="alpine:3", command=["sh", "-c"], args=["echo", text])


def container_of(component, tmp_path: Path) -> dict:
    ir = compile_component(component, tmp_path)
    (executor,) = ir["deploymentSpec"]["executors"].values()
    return executor["container"]


def argv_of(container: dict) -> list[str]:
    return [*container.get("command", []), *container.get("args", [])]


def test_every_lightweight_step_of_the_corpus_is_recognised(corpus: Path):
    programs = 0
    for path in sorted(corpus.rglob("*.yaml")):
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError:
            continue
        for document in documents:
            if not isinstance(document, dict):
                continue
            for executor in ((document.get("deploymentSpec") or {}).get("executors") or {}).values():
                argv = argv_of((executor or {}).get("container") or {})
                _, rest = split_pip_bootstrap(argv)
                if rest[:2] == ["sh", "-ec"] and "kfp.dsl.executor_main" in rest[2]:
                    programs += 1
                    step = step_of(rest)
                    assert step is not None, f"{path}: {rest[:3]}"
                    assert step.source == rest[3] and step.arguments == tuple(rest[4:])
                elif rest[:3] == ["python3", "-m", "kfp.dsl.executor_main"]:
                    assert step_of(rest) is None  # a containerized component: its code is in its image
    assert programs > 100


def test_compiled_component_is_prewarmable_and_its_step_splits_source_from_arguments(tmp_path):
    container = container_of(plain, tmp_path)
    _, rest = split_pip_bootstrap(argv_of(container))

    step = step_of(rest)

    assert step is not None and "def plain(x: int) -> int:" in step.source
    assert step.arguments[0] == "--executor_input" and "--function_to_execute" in step.arguments
    assert is_prewarmable(container, {})


def test_a_changed_program_or_another_shell_is_not_a_step(tmp_path):
    _, rest = split_pip_bootstrap(argv_of(container_of(plain, tmp_path)))

    assert step_of([rest[0], rest[1], rest[2].replace("python3", "python3 -X dev"), *rest[3:]]) is None
    assert step_of(["bash", *rest[1:]]) is None
    assert step_of(rest[:3]) is None


def test_packages_to_install_container_commands_and_interpreter_settings_are_not_prewarmable(tmp_path):
    container = container_of(plain, tmp_path)

    assert not is_prewarmable(container_of(with_packages, tmp_path), {})
    assert not is_prewarmable(container_of(shell, tmp_path), {})
    assert not is_prewarmable({**container, "env": [{"name": "PYTHONPATH", "value": "/x"}]}, {})
    assert not is_prewarmable(container, {"PATH": "/opt/other/bin"})
    assert not is_prewarmable(container, {"LC_ALL": "C"})
    assert is_prewarmable({**container, "env": [{"name": "GREETING", "value": "hi"}]}, {"RUN_LABEL": "x"})


def test_this_interpreter_only_with_its_own_python3_and_start_variables(tmp_path):
    env = {name: value for name, value in launcher_env().items() if not interpreter_start_env({name: value})}
    env.update(STARTED_WITH)

    assert runs_in_this_interpreter(env)
    assert not runs_in_this_interpreter(
        {**env, "PYTHONPATH": f"/elsewhere{os.pathsep}{env.get('PYTHONPATH', '')}"}
    )
    other = tmp_path / "bin"
    other.mkdir()
    (other / "python3").symlink_to(os.path.realpath(sys.executable))
    # the same binary outside this venv is another environment (no venv site-packages)
    assert not runs_in_this_interpreter({**env, "PATH": f"{other}{os.pathsep}{env['PATH']}"})
    assert not runs_in_this_interpreter({**env, "PATH": "/nonexistent"})


@pytest.mark.parametrize(
    ("name", "start"), [("PYTHONHASHSEED", True), ("LANG", True), ("TZ", True), ("GREETING", False)]
)
def test_start_variables(name, start):
    assert bool(interpreter_start_env({name: "x"})) is start
