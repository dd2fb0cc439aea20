"""What the launcher-image containers run inside a pod: argv.sh quoting, the sh wrapper, prepare → run → collect."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

from chalicelib.executors.k8s import pod_entrypoint
from chalicelib.task_contract import TaskResult
from tests.executors.k8s_fake.support import task_spec

TRICKY = [
    "printf",
    "",
    "two words",
    "it's",
    'say "hi"',
    "$(touch /tmp/pwned)",
    "`id`",
    "back\\slash",
    "line\nbreak",
    "ünï",
    "-n",
    "*",
]


def run_sh(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["/bin/sh", "-c", script], cwd=cwd, capture_output=True, env={"PATH": "/usr/bin:/bin", **env}
    )


def test_argv_script_gives_the_shell_exactly_the_same_arguments(tmp_path):
    (tmp_path / "argv.sh").write_text(pod_entrypoint.argv_script(TRICKY))
    out = run_sh('. ./argv.sh; for a in "$@"; do printf "%s\\0" "$a"; done', tmp_path).stdout
    assert out.decode().split("\0")[:-1] == TRICKY


def test_argv_script_exports_the_command_environment_it_can_name(tmp_path):
    env = {"GREETING": "hello 'world'", "bad-name": "x"}
    (tmp_path / "argv.sh").write_text(pod_entrypoint.argv_script(["sh", "-c", 'printf %s "$GREETING"'], env))
    assert run_sh('. ./argv.sh; "$@"', tmp_path).stdout == b"hello 'world'"


@pytest.mark.parametrize("code", [0, 3])
def test_wrapper_runs_the_command_records_and_returns_its_exit_code(tmp_path, code):
    (tmp_path / "argv.sh").write_text(pod_entrypoint.argv_script(["sh", "-c", f"echo out; exit {code}"]))
    (tmp_path / "run.sh").write_text(pod_entrypoint.WRAPPER)
    completed = run_sh(f"/bin/sh {tmp_path}/run.sh", tmp_path, KFP_LAUNCHER_DIR=str(tmp_path))
    assert completed.returncode == code and completed.stdout == b"out\n"
    assert (tmp_path / "exit_code").read_text().strip() == str(code)


def test_prepare_wrapper_and_collect_run_a_task_like_the_pod_does(tmp_path):
    root = tmp_path / "artifacts"
    out_uri = str(root / "p" / "run" / "t" / "out")
    spec = task_spec(
        pipeline_root=str(root),
        container={
            "image": "alpine",
            "command": ["sh", "-c", 'mkdir -p "$(dirname "$1")"; printf %s "$0" > "$1"'],
            "args": ["{{$.inputs.parameters['text']}}", "{{$.outputs.artifacts['out'].path}}"],
        },
        input_definitions={"parameters": {"text": {"parameterType": "STRING"}}},
        output_definitions={
            "artifacts": {
                "out": {"artifactType": {"schemaTitle": "system.Artifact", "schemaVersion": "0.0.1"}}
            }
        },
        parameters={"text": "it's here"},
        output_artifact_uris={"out": out_uri},
    )
    task_file = tmp_path / "task.json"
    task_file.write_text(spec.to_json())
    launcher_dir = tmp_path / "kfp-launcher"
    result_file = tmp_path / "result.json"

    assert pod_entrypoint.prepare(str(task_file), launcher_dir, "chalicelib.launcher") == 0
    collector = threading.Thread(
        target=pod_entrypoint.collect,
        args=(str(task_file), launcher_dir, "chalicelib.launcher", str(result_file)),
    )
    collector.start()
    completed = run_sh(f"/bin/sh {launcher_dir}/run.sh", tmp_path, KFP_LAUNCHER_DIR=str(launcher_dir))
    collector.join(60)

    assert completed.returncode == 0, completed.stderr
    assert Path(out_uri).read_text() == "it's here"
    result = TaskResult.from_json(result_file.read_text())
    assert result.exit_code == 0 and result.artifacts["out"][0]["uri"] == out_uri


def test_prepare_that_fails_writes_no_wrapper(tmp_path):
    task_file = tmp_path / "task.json"
    task_file.write_text(json.dumps({"not": "a task"}))
    assert pod_entrypoint.prepare(str(task_file), tmp_path / "dir", "chalicelib.launcher") != 0
    assert not (tmp_path / "dir" / "run.sh").exists()
