"""The pod's split mode against S3 (moto server): prepare downloads inputs, collect uploads outputs."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from kfp import dsl
from moto.server import ThreadedMotoServer

from tests.launcher.task_specs import REPO, compile_component, launcher_env, task_spec_from_ir

BUCKET = "kfps-test"


@pytest.fixture
def s3_env():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


@dsl.container_component
def copy_and_list(
    data: dsl.Input[dsl.Dataset],
    tree: dsl.Input[dsl.Artifact],
    out: dsl.Output[dsl.Dataset],
    names: dsl.OutputPath(str),
):
    return dsl.ContainerSpec(
        image="alpine:3",
        command=["sh", "-c", 'mkdir -p "$1" && cp "$0" "$1/copy.txt" && ls "$2" > "$3"'],
        args=[data.path, out.path, tree.path, names],
    )


def launcher(*args: str, env: dict[str, str]) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "chalicelib.launcher", *args],
        env=launcher_env(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_prepare_and_collect_move_artifacts_through_s3(tmp_path: Path, s3_env):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=BUCKET, Key="in/data.txt", Body=b"payload")
    s3.put_object(Bucket=BUCKET, Key="in/tree/a.txt", Body=b"a")
    s3.put_object(Bucket=BUCKET, Key="in/tree/sub/b.txt", Body=b"b")
    artifacts = {
        "data": [
            {
                "name": "1",
                "uri": f"s3://{BUCKET}/in/data.txt",
                "type": {"schemaTitle": "system.Dataset"},
                "metadata": {},
            }
        ],
        "tree": [
            {
                "name": "2",
                "uri": f"s3://{BUCKET}/in/tree",
                "type": {"schemaTitle": "system.Artifact"},
                "metadata": {},
            }
        ],
    }
    spec = task_spec_from_ir(compile_component(copy_and_list, tmp_path), f"s3://{BUCKET}/root", {}, artifacts)
    s3.put_object(Bucket=BUCKET, Key="tasks/t.json", Body=spec.to_json().encode())
    workdir, mounts = tmp_path / "work", tmp_path / "mnt"

    launcher(
        "prepare",
        "--task-file",
        f"s3://{BUCKET}/tasks/t.json",
        "--workdir",
        str(workdir),
        "--mount-root",
        str(mounts),
        env=s3_env,
    )
    assert (mounts / "s3" / BUCKET / "in" / "tree" / "sub" / "b.txt").read_text() == "b"
    assert json.loads((workdir / "argv.json").read_text())[0] == "sh"
    exit_code = subprocess.run(["sh", str(workdir / "command.sh")], cwd=workdir, timeout=60).returncode
    launcher(
        "collect", "--task-file", f"s3://{BUCKET}/tasks/t.json", "--workdir", str(workdir), "--exit-code", str(exit_code),
        "--result-file", f"s3://{BUCKET}/results/t.json", "--mount-root", str(mounts), env=s3_env,
    )  # fmt: skip

    result = json.loads(s3.get_object(Bucket=BUCKET, Key="results/t.json")["Body"].read())
    assert (result["exit_code"], result["error"]) == (0, "")
    assert result["parameters"] == {"names": "a.txt\nsub\n"}
    out_uri = result["artifacts"]["out"][0]["uri"]
    assert out_uri == spec.output_artifact_uris["out"] and out_uri.startswith(f"s3://{BUCKET}/root/")
    key = out_uri[len(f"s3://{BUCKET}/") :] + "/copy.txt"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"payload"


def test_collect_of_a_failed_command_uploads_nothing_and_reports_exit_code(tmp_path: Path, s3_env):
    s3 = boto3.client("s3")
    s3.put_object(Bucket=BUCKET, Key="in/data.txt", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key="in/tree/a.txt", Body=b"a")
    artifacts = {
        "data": [{"name": "1", "uri": f"s3://{BUCKET}/in/data.txt", "metadata": {}}],
        "tree": [{"name": "2", "uri": f"s3://{BUCKET}/in/tree", "metadata": {}}],
    }
    spec = task_spec_from_ir(
        compile_component(copy_and_list, tmp_path), f"s3://{BUCKET}/failed-root", {}, artifacts
    )
    task_file, workdir, mounts, log = (
        tmp_path / "t.json",
        tmp_path / "w",
        tmp_path / "m",
        tmp_path / "main.log",
    )
    task_file.write_text(spec.to_json())
    log.write_text("line 1\nsomething broke\n")
    launcher(
        "prepare",
        "--task-file",
        str(task_file),
        "--workdir",
        str(workdir),
        "--mount-root",
        str(mounts),
        env=s3_env,
    )
    launcher(
        "collect", "--task-file", str(task_file), "--workdir", str(workdir), "--exit-code", "3",
        "--result-file", str(tmp_path / "r.json"), "--log-file", str(log), "--mount-root", str(mounts), env=s3_env,
    )  # fmt: skip

    result = json.loads((tmp_path / "r.json").read_text())
    assert (result["exit_code"], result["error"]) == (3, "exit code 3")
    assert result["log_tail"] == "line 1\nsomething broke"
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="failed-root/")


def test_missing_s3_input_fails_prepare_and_collect_reports_it(tmp_path: Path, s3_env):
    artifacts = {
        "data": [{"name": "1", "uri": f"s3://{BUCKET}/nope.txt", "metadata": {}}],
        "tree": [{"name": "2", "uri": f"s3://{BUCKET}/nope", "metadata": {}}],
    }
    spec = task_spec_from_ir(compile_component(copy_and_list, tmp_path), f"s3://{BUCKET}/root", {}, artifacts)
    task_file, workdir = tmp_path / "t.json", tmp_path / "w"
    task_file.write_text(spec.to_json())
    completed = subprocess.run(
        [sys.executable, "-m", "chalicelib.launcher", "prepare", "--task-file", str(task_file), "--workdir", str(workdir)]
        + ["--mount-root", str(tmp_path / "m")],
        env=launcher_env(s3_env), cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 1
    launcher(
        "collect", "--task-file", str(task_file), "--workdir", str(workdir), "--exit-code", "1",
        "--result-file", str(tmp_path / "r.json"), env=s3_env,
    )  # fmt: skip
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["exit_code"] == 125
    assert f"s3://{BUCKET}/nope.txt does not exist" in result["error"]


@dsl.container_component
def read_accuracy(metrics: dsl.Input[dsl.Metrics]):
    return dsl.ContainerSpec(image="alpine:3", command=["cat", metrics.path])


def test_prepare_accepts_a_metrics_input_that_has_no_stored_file(tmp_path: Path, s3_env):
    artifacts = {"metrics": [{"name": "1", "uri": f"s3://{BUCKET}/metrics", "metadata": {"accuracy": 0.9}}]}
    spec = task_spec_from_ir(compile_component(read_accuracy, tmp_path), f"s3://{BUCKET}/root", {}, artifacts)
    task_file, workdir = tmp_path / "t.json", tmp_path / "w"
    task_file.write_text(spec.to_json())
    completed = subprocess.run(
        [sys.executable, "-m", "chalicelib.launcher", "prepare", "--task-file", str(task_file), "--workdir", str(workdir)]
        + ["--mount-root", str(tmp_path / "m")],
        env=launcher_env(s3_env), cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr


def test_local_run_never_imports_boto3(tmp_path: Path):
    @dsl.container_component
    def hello():
        return dsl.ContainerSpec(image="alpine", command=["true"])

    spec = task_spec_from_ir(compile_component(hello, tmp_path), str(tmp_path / "root"), {})
    (tmp_path / "t.json").write_text(spec.to_json())
    code = (
        "import sys; from chalicelib.launcher.__main__ import main; "
        f"main(['run', '--task-file', {str(tmp_path / 't.json')!r}, '--result-file', {str(tmp_path / 'r.json')!r}]); "
        "sys.stderr.write('BOTO3=' + str('boto3' in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], env=launcher_env(), cwd=REPO, capture_output=True, text=True
    )
    assert "BOTO3=False" in completed.stderr, completed.stderr
    assert json.loads((tmp_path / "r.json").read_text())["exit_code"] == 0
