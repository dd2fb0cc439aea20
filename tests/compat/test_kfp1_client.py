"""The unmodified kfp 1.8.22 `kfp.Client` against the local stack's v1beta1 API over HTTP, from its own venv
(`tests/compat/kfp1_driver.py` in a subprocess), and the same objects seen through v2beta1 by kfp 2.17.3."""

import json
import os
import subprocess
from pathlib import Path

from kfp import compiler, dsl

from tests.support.kfp1 import kfp1_python

DRIVER = Path(__file__).resolve().parent / "kfp1_driver.py"


@dsl.component
def greet(name: str) -> str:
    return f"hello {name}"


@dsl.pipeline(name="v1beta1-hello")
def hello(name: str = "world"):
    greet(name=name)


def drive(scenario: str, host: str, inputs: dict, home: Path) -> dict:
    """Run one driver scenario with kfp 1.8 (its own HOME: kfp.Client keeps a context file there)."""
    home.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(kfp1_python()), str(DRIVER), scenario, host, json.dumps(inputs)],
        capture_output=True,
        text=True,
        timeout=1500,
        env={**os.environ, "HOME": str(home)},
    )
    if done.returncode != 0:
        raise AssertionError(f"kfp 1.8 driver {scenario} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_kfp1_client_drives_a_v2_ir_pipeline_end_to_end(local_stack, kfp_client, tmp_path, unique):
    package = tmp_path / "hello.yaml"
    compiler.Compiler().compile(hello, str(package))
    seen = drive("ir_flow", local_stack.url, {"package": str(package), "unique": unique}, tmp_path / "home")

    assert seen["multi_user"] is False
    assert seen["same_experiment"] and seen["experiment_listed"]
    assert seen["pipeline_parameters"] == [["name", "world"]]
    assert seen["found_by_name"] and seen["missing_by_name"] is None
    assert seen["versions"] == ["second", f"v1p-{unique}"]
    assert seen["default_version"] == seen["version_id"]
    for key, name in (("from_version", "bob"), ("from_package", "alice")):
        view = seen[key]
        assert view["status"] == "Succeeded" and view["phase"] == "Succeeded" and view["root"], view
        assert ["greet", "Pod", "Succeeded", True] in view["nodes"], view
        assert ["greet", "Output", f"hello {name}"] in view["outputs"], view
    assert sorted(seen["runs"]) == [["from-package", "Succeeded"], ["from-version", "Succeeded"]]
    assert seen["job_created"] == [False, "2", "3600"]
    assert seen["job_enabled"] is True and seen["job_disabled"] is False
    assert seen["jobs"] == [seen["job_id"]]
    assert seen["archived"] == "STORAGESTATE_ARCHIVED"
    assert seen["deleted_run_status"] == 404
    assert seen["pipeline_gone"] is True
    assert seen["experiment_archived"] == "STORAGESTATE_ARCHIVED"

    # The same objects through v2beta1, with kfp 2.17.3.
    experiment = kfp_client.get_experiment(experiment_id=seen["experiment_id"])
    assert experiment.display_name == f"v1c-{unique}" and experiment.storage_state == "ARCHIVED"
    run = kfp_client.get_run(seen["from_package_id"])
    assert run.state == "SUCCEEDED" and run.experiment_id == seen["experiment_id"]
    assert run.runtime_config.parameters == {"name": "alice"}


def test_kfp1_client_runs_v1_argo_packages(local_stack, kfp_client, tmp_path, unique):
    seen = drive("v1_flow", local_stack.url, {"unique": unique}, tmp_path / "home")
    for key, run_name, total in (
        ("from_func", "v1-from-func", "42"),
        ("from_pipeline", "v1-from-pipeline", "11"),
    ):
        view = seen[key]
        assert view["status"] == "Succeeded" and view["phase"] == "Succeeded" and view["root"], view
        assert view["nodes"] == [
            ["add", "Pod", "Succeeded", True],
            ["condition-1", "DAG", "Skipped", True],
            ["echo", "Pod", "Succeeded", True],
            [run_name, "DAG", "Succeeded", True],
        ], view
        assert view["outputs"] == [["add", "add-Output", total]], view
        assert ["echo", "echo-said", True] in view["artifacts"], view
    assert seen["pipeline_parameters"] == [["a", "1"], ["b", "2"]]
    assert seen["template_kind"] == "Workflow"
    assert seen["bad_parameter"][0] == 400 and "'b'" in seen["bad_parameter"][1]
    assert seen["running"] == "Running" and seen["terminated"] == "Failed"
    assert seen["retried"] == "Running" and seen["terminated_again"] == "Failed"
    assert seen["runs"] == ["v1-from-func", "v1-from-pipeline", "v1-sleeper"]

    run = kfp_client.get_run(seen["from_func_id"])
    assert run.state == "SUCCEEDED" and run.runtime_config.parameters == {"a": "40", "b": "2"}
    assert [t.display_name for t in run.run_details.task_details if t.display_name == "add"] == ["add"]
