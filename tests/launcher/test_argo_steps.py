"""KFP v1 steps in the launcher, as local processes: inputs placed at fixed paths, outputs read back and
archived like Argo, and every attempt in its own private view of /tmp (and of any other top directory)."""

from __future__ import annotations

import concurrent.futures
import io
import os
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from chalicelib.launcher import argo_archives
from chalicelib.launcher.argo_local import run_step
from chalicelib.launcher.private_view import namespace_command
from chalicelib.task_contract import TaskSpec

needs_namespaces = pytest.mark.skipif(not namespace_command(), reason="no private mount namespaces here")


def step_spec(tmp_path: Path, command: list[str], **step: Any) -> TaskSpec:
    container = {"image": "alpine", "command": command, **step.pop("container", {})}
    argo_step = {
        "template": "t",
        "workflow_name": "wf-abcde",
        "namespace": "ns",
        "container": container,
        "input_artifacts": [],
        "output_parameters": [],
        "output_artifacts": [],
        "pod": {"volumes": [], "labels": {"app": "demo"}},
        **step,
    }
    return TaskSpec(
        run_id="run",
        task_id=f"task-{uuid.uuid4().hex[:6]}",
        attempt=1,
        task_name="t",
        display_name="t",
        pipeline_name="p",
        pipeline_root=str(tmp_path / "root"),
        container=container,
        input_definitions={},
        output_definitions={},
        parameters={},
        artifacts={},
        output_artifact_uris={},
        argo_step=argo_step,
    )


def workdir(tmp_path: Path) -> Path:
    path = tmp_path / f"work-{uuid.uuid4().hex[:6]}"
    path.mkdir()
    return path


@needs_namespaces
def test_parallel_attempts_writing_the_same_fixed_path_each_read_their_own(tmp_path):
    marker = f"/tmp/outputs/same-{uuid.uuid4().hex[:8]}/data"

    def one(value: str):
        script = f"mkdir -p $(dirname {marker}) && echo {value} > {marker} && sleep 1 && cat {marker}"
        spec = step_spec(tmp_path, ["sh", "-c", script], output_parameters=[{"name": "out", "path": marker}])
        return run_step(spec, workdir(tmp_path))

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, ["a", "b", "c", "d"]))
    assert [result.parameters["out"] for result in results] == ["a", "b", "c", "d"]
    assert not os.path.exists(marker), "the host's /tmp saw a step's write"


@needs_namespaces
def test_inputs_are_placed_at_their_paths_and_output_artifacts_are_gzipped_tars(tmp_path):
    packed_dir = tmp_path / "src" / "data"
    packed_dir.mkdir(parents=True)
    (packed_dir / "a.txt").write_text("A")
    archive = tmp_path / "in.tgz"
    archive.write_bytes(argo_archives.pack(packed_dir))
    out_uri = str(tmp_path / "root" / "out.tgz")
    raw_uri = str(tmp_path / "root" / "raw")
    spec = step_spec(
        tmp_path,
        [
            "sh",
            "-c",
            "mkdir -p /tmp/outputs/o && cat /tmp/inputs/raw/data /tmp/inputs/dir/data/a.txt > /tmp/outputs/o/data "
            "&& printf 'x\\n' > /opt/kfp-test-out.txt",
        ],
        input_artifacts=[
            {"name": "raw", "path": "/tmp/inputs/raw/data", "raw": "hello "},
            {"name": "dir", "path": "/tmp/inputs/dir/data", "uri": str(archive), "archive": "tgz"},
        ],
        output_parameters=[
            {"name": "text", "path": "/tmp/outputs/o/data"},
            {"name": "file", "path": "/opt/kfp-test-out.txt"},
            {"name": "missing", "path": "/tmp/none", "default": "fallback"},
            {"name": "fixed", "value": "wf-abcde"},
        ],
        output_artifacts=[
            {"name": "o", "path": "/tmp/outputs/o/data", "uri": out_uri, "archive": "tgz", "optional": False},
            {
                "name": "r",
                "path": "/tmp/outputs/o/data",
                "uri": raw_uri,
                "archive": "none",
                "optional": False,
            },
            {
                "name": "absent",
                "path": "/tmp/nothing",
                "uri": raw_uri + "2",
                "archive": "tgz",
                "optional": True,
            },
        ],
    )
    result = run_step(spec, workdir(tmp_path))
    assert result.exit_code == 0, result
    assert result.parameters == {"text": "hello A", "file": "x", "missing": "fallback", "fixed": "wf-abcde"}
    with tarfile.open(out_uri) as stored:
        assert stored.getnames() == ["data"]
        assert stored.extractfile("data").read() == b"hello A"
    assert Path(raw_uri).read_text() == "hello A"
    assert set(result.artifacts) == {"o", "r"}
    assert not os.path.exists("/opt/kfp-test-out.txt")


def test_a_missing_output_file_fails_the_attempt_naming_it(tmp_path):
    spec = step_spec(
        tmp_path, ["true"], output_parameters=[{"name": "out", "path": "/tmp/outputs/never/data"}]
    )
    result = run_step(spec, workdir(tmp_path))
    assert result.exit_code != 0
    assert "output parameter 'out': the step wrote no file at /tmp/outputs/never/data" in result.error


def test_a_failing_command_reports_its_exit_code_and_log(tmp_path):
    result = run_step(step_spec(tmp_path, ["sh", "-c", "echo broken; exit 3"]), workdir(tmp_path))
    assert result.exit_code == 3 and "broken" in result.log_tail


def test_a_step_without_a_command_cannot_run_locally(tmp_path):
    spec = step_spec(tmp_path, [])
    result = run_step(spec, workdir(tmp_path))
    assert result.exit_code != 0 and "no command" in result.error


@needs_namespaces
def test_field_env_and_volumes_work_locally_and_secrets_do_not(tmp_path, monkeypatch):
    monkeypatch.setenv("KFP_POD_NAME", "kfps-123")
    monkeypatch.setenv("KFPS_VOLUME_ROOT", str(tmp_path / "volumes"))
    env = [
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
    ]
    mounts = [
        {"name": "claim", "mountPath": "/mnt/kfp-test-claim"},
        {"name": "scratch", "mountPath": "/tmp/scratch"},
    ]
    spec = step_spec(
        tmp_path,
        [
            "sh",
            "-c",
            "echo $POD-$APP > /mnt/kfp-test-claim/f && touch /tmp/scratch/x && cat /mnt/kfp-test-claim/f",
        ],
        container={"env": env, "volumeMounts": mounts},
        pod={
            "labels": {"app": "demo"},
            "volumes": [
                {"name": "claim", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "scratch", "emptyDir": {}},
            ],
        },
    )
    result = run_step(spec, workdir(tmp_path))
    assert result.exit_code == 0, result
    assert (tmp_path / "volumes" / "claims" / "data" / "f").read_text() == "kfps-123-demo\n"
    secret = step_spec(
        tmp_path,
        ["true"],
        container={"env": [{"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]},
    )
    refused = run_step(secret, workdir(tmp_path))
    assert refused.exit_code != 0 and "secretKeyRef, which needs the kubernetes executor" in refused.error


def test_archives_hold_one_top_entry_and_unpack_to_the_destination(tmp_path):
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "x").write_text("x")
    archive = tmp_path / "a.tgz"
    archive.write_bytes(argo_archives.pack(folder))
    assert argo_archives.is_tar_gz(archive)
    argo_archives.unpack(archive, tmp_path / "out" / "renamed")
    assert (tmp_path / "out" / "renamed" / "sub" / "x").read_text() == "x"
    plain = tmp_path / "plain"
    plain.write_text("not an archive")
    assert not argo_archives.is_tar_gz(plain)


def test_archives_with_links_or_escaping_paths_are_refused(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        link = tarfile.TarInfo("evil")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(buffer.getvalue())
    from chalicelib.launcher.errors import LauncherError

    with pytest.raises(LauncherError, match="not a file or directory"):
        argo_archives.unpack(bad, tmp_path / "dest")


def test_without_mount_namespaces_the_step_still_runs_and_its_log_warns(tmp_path, monkeypatch, capsys):
    from chalicelib.launcher import private_view

    monkeypatch.setattr(private_view, "namespace_command", lambda: ())
    marker = f"/tmp/kfp-shared-{uuid.uuid4().hex[:8]}"
    spec = step_spec(
        tmp_path, ["sh", "-c", f"echo shared > {marker}"], output_parameters=[{"name": "o", "path": marker}]
    )
    try:
        result = run_step(spec, workdir(tmp_path))
        assert result.exit_code == 0 and result.parameters == {"o": "shared"}
        assert "no private mount namespace" in capsys.readouterr().out
        assert os.path.exists(marker), "without a private view the write reaches the host"
    finally:
        Path(marker).unlink(missing_ok=True)
