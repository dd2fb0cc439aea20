"""Crash safety for KFP v1 runs: reconcile passes die between any two writes, and the run still finishes with
every step executed once and every Kubernetes object of its resource steps created once."""

from __future__ import annotations

import collections
import dataclasses
from pathlib import Path

import pytest

from chalicelib.executors.local import LocalExecutor
from chalicelib.launcher.private_view import namespace_command
from chalicelib.pod_policy import PodPolicy
from chalicelib.runtime import Runtime
from chalicelib.services.experiments import create_experiment
from chalicelib.services.runs import RunRequest, submit_run
from chalicelib.spec import spec_from_struct
from tests.support.crashing_passes import drive_with_crashes


def _step(name: str, record: str) -> dict:
    return {
        "name": name,
        "inputs": {"parameters": [{"name": "value"}]},
        "container": {
            "image": "alpine",
            "command": [
                "sh",
                "-c",
                f"echo {record} >> /tmp/marker/log && echo $(({{{{inputs.parameters.value}}}} + 1)) > /tmp/out",
            ],
            "volumeMounts": [{"name": "marker", "mountPath": "/tmp/marker"}],
        },
        "outputs": {"parameters": [{"name": "next", "valueFrom": {"path": "/tmp/out"}}]},
    }


def workflow(marker_dir: Path) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "crash-v1-"},
        "spec": {
            "entrypoint": "main",
            "onExit": "bye",
            "volumes": [{"name": "marker", "hostPath": {"path": str(marker_dir)}}],
            "templates": [
                {
                    "name": "main",
                    "dag": {
                        "tasks": [
                            {
                                "name": "first",
                                "template": "first",
                                "arguments": {"parameters": [{"name": "value", "value": "1"}]},
                            },
                            {
                                "name": "loop",
                                "template": "loop",
                                "dependencies": ["first"],
                                "withItems": [1, 2, 3],
                                "arguments": {"parameters": [{"name": "value", "value": "{{item}}"}]},
                            },
                            {
                                "name": "last",
                                "template": "last",
                                "dependencies": ["loop"],
                                "when": "{{tasks.first.outputs.parameters.next}} == 2",
                                "arguments": {
                                    "parameters": [
                                        {"name": "value", "value": "{{tasks.first.outputs.parameters.next}}"}
                                    ]
                                },
                            },
                        ]
                    },
                },
                _step("first", "first"),
                _step("loop", "loop"),
                _step("last", "last"),
                {
                    "name": "bye",
                    "container": {
                        "image": "alpine",
                        "command": ["sh", "-c", "echo bye >> /tmp/marker/log"],
                        "volumeMounts": [{"name": "marker", "mountPath": "/tmp/marker"}],
                    },
                },
            ],
        },
    }


EXPECTED = collections.Counter({"first": 1, "loop": 3, "last": 1, "bye": 1})


def _submit(runtime: Runtime, spec: dict, unique: str) -> str:
    experiment = create_experiment(runtime, f"crash-v1-{unique}", "", "")
    request = RunRequest(
        display_name="crash v1",
        experiment_id=experiment.experiment_id,
        namespace="",
        package=spec_from_struct(spec),
        parameters={},
    )
    # The marker volume is a hostPath: an admin setting allows it for this run (the default pod policy refuses).
    allowing = dataclasses.replace(runtime.settings, pod_policy=PodPolicy(allow_privileged=True))
    return submit_run(dataclasses.replace(runtime, settings=allowing), request).run_id


@pytest.mark.skipif(not namespace_command(), reason="no private mount namespaces here")
@pytest.mark.parametrize("span", [4, 9])
def test_a_v1_run_finishes_with_each_step_once_when_passes_die_between_writes(
    tmp_path, unique, quiet_stack, app_runtime, span
):
    runs = app_runtime.store.runs
    marker_dir = tmp_path / "marker"
    marker_dir.mkdir()
    run_id = _submit(app_runtime, workflow(marker_dir), unique)
    crashes = drive_with_crashes(app_runtime, run_id, lambda: LocalExecutor(tmp_path / "executor"), span)
    run = runs.get_run(run_id)
    assert run.state == "SUCCEEDED", run.error
    assert crashes > 0
    log = marker_dir / "log"
    assert collections.Counter(log.read_text().split()) == EXPECTED
    tasks = runs.load_tasks(run_id)
    assert all(t.attempt == 1 for t in tasks.values() if t.kind == "container")


RESOURCE_WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"generateName": "crash-objects-"},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "dag": {
                    "tasks": [
                        {"name": "config", "template": "config"},
                        {"name": "job", "template": "job", "dependencies": ["config"]},
                    ]
                },
            },
            {
                "name": "config",
                "resource": {
                    "action": "create",
                    "manifest": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: cfg-\ndata:\n  a: b\n",
                },
                "outputs": {"parameters": [{"name": "name", "valueFrom": {"jsonPath": "{.metadata.name}"}}]},
            },
            {
                "name": "job",
                "resource": {
                    "action": "apply",
                    "successCondition": "status.succeeded > 0",
                    "manifest": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: '{{workflow.name}}-job'\nspec: {}\n",
                },
            },
        ],
    },
}


def test_resource_steps_create_each_object_once_when_passes_die_between_writes(
    unique, quiet_stack, app_runtime
):
    from chalicelib.executors.k8s.executor import KubernetesExecutor
    from tests.executors.k8s_fake.server import FakeKube
    from tests.executors.k8s_fake.support import core_api
    from tests.executors.k8s_fake.support import settings as kubernetes_settings

    fake = FakeKube()
    url = fake.start()
    try:
        run_id = _submit(app_runtime, RESOURCE_WORKFLOW, unique)
        bucket = app_runtime.settings.bucket

        def executor():
            jobs = fake.objects_of("batch/jobs")
            for job in jobs:  # a controller finishing the job once it exists
                fake.set_object_status(
                    "batch/jobs", job["metadata"]["namespace"], job["metadata"]["name"], {"succeeded": 1}
                )
            settings = kubernetes_settings(bucket=bucket, namespace="default")
            return KubernetesExecutor(settings, app_runtime.store.objects, core_api=core_api(url))

        drive_with_crashes(app_runtime, run_id, executor, span=3)
        assert app_runtime.store.runs.get_run(run_id).state == "SUCCEEDED"
        creates = [
            r for r in fake.requests if r.method == "POST" and ("/configmaps" in r.path or "/jobs" in r.path)
        ]
        assert len(fake.objects_of("configmaps")) == 1 and len(fake.objects_of("batch/jobs")) == 1
        assert len(creates) >= 2
    finally:
        fake.stop()


class ObjectDeletions:
    """A stand-in executor that only records the object deletions a reconcile pass asks for."""

    def __init__(self) -> None:
        self.deleted: list[tuple[str, str, str, str]] = []

    def poll(self, run_ids):
        return []

    def apply_object(self, namespace, action, manifest, merge_strategy):
        raise AssertionError("nothing is applied while a run is deleted")

    def read_object(self, namespace, api_version, kind, name):
        return None

    def delete_object(self, namespace, api_version, kind, name):
        self.deleted.append((namespace, api_version, kind, name))


def test_deleting_a_finished_run_with_owned_objects_hides_it_until_the_reconciler_deleted_them(
    unique, quiet_stack, app_runtime
):
    from chalicelib.engine.argo.records import OBJECT_KEY
    from chalicelib.engine.model import TaskRecord
    from chalicelib.reconciler import Reconciler
    from chalicelib.services.runs import delete_run, visible_run
    from chalicelib.store.errors import NotFound
    from chalicelib.store.records import moved_to
    from chalicelib.task_contract import TaskState
    from chalicelib.timestamps import now_text

    runs = app_runtime.store.runs
    run_id = _submit(app_runtime, RESOURCE_WORKFLOW, unique)
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg-x", "namespace": "ns", "owned": True}
    kept = {**reference, "name": "shared", "owned": False}
    for task_id, ref in (("root.config", reference), ("root.job", kept)):
        runs.save_task(
            run_id,
            TaskRecord(
                task_id=task_id,
                name=task_id,
                kind="resource",
                state=TaskState.SUCCEEDED,
                data={OBJECT_KEY: ref},
            ),
        )
    running = runs.update_run(moved_to(runs.get_run(run_id), "RUNNING", now_text()))
    runs.update_run(moved_to(running, "SUCCEEDED", now_text()))

    delete_run(app_runtime, run_id)
    with pytest.raises(NotFound):
        visible_run(app_runtime, run_id)
    assert run_id in runs.active_run_ids()

    executor = ObjectDeletions()
    Reconciler(app_runtime.settings, app_runtime.store, executor).run_pass([run_id])
    assert executor.deleted == [("ns", "v1", "ConfigMap", "cfg-x")]
    with pytest.raises(NotFound):
        runs.get_run(run_id)
    assert run_id not in runs.active_run_ids()
