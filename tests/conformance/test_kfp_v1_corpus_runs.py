"""KFP's v1 corpus (../shared/corpus/kfp-v1-compiled: Argo Workflows compiled by kfp 1.8.22) through the kfp
2.17.3 `kfp.Client`: every file whose outcome depends neither on the internet nor on a real image runs to
its expected outcome on the Kubernetes executor (fake API + process kubelet), and those without Kubernetes
objects on the local executor too. Runs are submitted together and awaited together.

FEATURES.tsv's `expected` is a judgement for a real cluster; `depends:` entries get the outcome this
environment gives them, with the reason beside each.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest
import run_waiting
import v1_submitting

REPO_ROOT = Path(__file__).resolve().parents[2]
V1_CORPUS = Path(os.environ.get("KFPS_V1_CORPUS", REPO_ROOT.parent / "shared" / "corpus" / "kfp-v1-compiled"))
CORPUS_TIMEOUT = 600.0
RANDOM = frozenset({"SUCCEEDED", "FAILED"})

# Files whose outcome needs the internet or a specific image (file → why they are only uploaded).
NOT_RUN = {
    "basic.yaml": "gsutil, GCS credentials and a GPU/TPU node",
    "compose__download_save_most_frequent_word.yaml": "gsutil and GCS",
    "compose__save_most_frequent_word.yaml": "gsutil and GCS",
    "default_value.yaml": "gsutil and a public GCS object",
    "immediate_value.yaml": "gsutil and a public GCS object",
    "nb_gpu.yaml": "a GPU and tensorflow's image",
    "nb_lightweight_component.yaml": "numpy and tensorflow in tensorflow:1.11.0-py3",
    "param_op_transform.yaml": "the placeholder image 'image', which no registry has",
    "param_substitutions.yaml": "the placeholder image 'image', which no registry has",
    "pipelineparams.yaml": "the http-echo sidecar image",
    "sample_exit_handler.yaml": "gsutil and a public GCS object",
    "sample_parallel_join.yaml": "gsutil and a public GCS object",
    "sample_runtime_resource_request_gpu.yaml": "pytorch with CUDA on a GPU node",
    "sample_sequential.yaml": "gsutil and a public GCS object",
    "sample_sidecar.yaml": "the nginx sidecar image",
    "sample_tensorboard_minio.yaml": "pip, MNIST downloads and a KFP MinIO",
    "sample_train_until_good.yaml": "curl to data.cityofchicago.org and pip",
    "sample_use_run_id.yaml": "pip and KFP's API server inside the cluster",
    "sample_volume_snapshot_ops.yaml": "gsutil (besides VolumeSnapshot v1alpha1)",
    "sample_xgboost_sample.yaml": "curl to data.cityofchicago.org and pip",
    "sidecar.yaml": "the http-echo sidecar image",
    "uri_artifacts.yaml": "gsutil and GCS write access (a V2-compatible test compiled as v1)",
    "volume_snapshotop_sequential.yaml": "gsutil (besides VolumeSnapshot v1alpha1)",
}

# Outcomes here where FEATURES.tsv says "depends:" or judges for a real cluster (file → (state, why)).
ON_KUBERNETES = {
    "artifact_passing_using_volume.yaml": (
        "SUCCEEDED",
        "the process kubelet backs every claim, data-volume too",
    ),
    "coin.yaml": (RANDOM, "heads succeeds; tails refers to an output of a skipped task, an error"),
    "ct_affinity.yaml": ("FAILED", "the process kubelet schedules anywhere; 'sleep 1' is no executable"),
    "ct_delete_resource_op.yaml": ("FAILED", "its manifest names namespace default, not the run's"),
    "ct_set_default_pod_node_selector.yaml": ("FAILED", "scheduled anyway; 'sleep 1' is no executable"),
    "parallelfor_name_clashes.yaml": (
        "FAILED",
        "produce_list_of_dicts returns a 1-tuple, so the loop's one item is a list and {{item.aaa}} cannot resolve",
    ),
    "resourceop_basic.yaml": ("SUCCEEDED", "the arguments are base64 and the fake API serves Secrets"),
    "sample_resource_ops.yaml": ("SUCCEEDED", "the fake API serves batch/v1 Jobs"),
    "sample_preemptible_tpu_gpu.yaml": ("SUCCEEDED", "the process kubelet runs it without a GPU node"),
    "sample_retry.yaml": (RANDOM, "random exit codes; succeeds with probability 0.94"),
    "sample_volume_ops.yaml": ("SUCCEEDED", "the fake API binds every claim"),
    "timeout.yaml": (RANDOM, "random exit codes; succeeds with probability 1/8"),
    "tutorial_dsl_control_structures__flipcoin_exit_pipeline.yaml": (RANDOM, "tails fails by design"),
    "volume.yaml": ("SUCCEEDED", "only runs ls; the process kubelet mounts the missing secret as empty"),
    "volumeop_basic.yaml": ("SUCCEEDED", "the fake API binds ReadWriteMany claims"),
    "volumeop_dag.yaml": ("SUCCEEDED", "the fake API binds ReadWriteMany claims"),
    "volumeop_parallel.yaml": ("SUCCEEDED", "the fake API binds ReadWriteMany claims"),
    "volumeop_sequential.yaml": ("SUCCEEDED", "the fake API binds ReadWriteMany claims"),
}
LOCALLY = {
    **{file: outcome for file, outcome in ON_KUBERNETES.items() if "resource" not in file},
    "ct_set_display_name.yaml": ("FAILED", "no command: a local process cannot run the image's entrypoint"),
    "volume.yaml": ("FAILED", "a secret volume needs the kubernetes executor"),
}

# What must hold besides the final state (file → display name → state of every task of that name).
TASK_STATES = {
    "tutorial_dsl_control_structures__flipcoin_exit_pipeline.yaml": {"print-op": {"SUCCEEDED"}},
    "sample_condition.yaml": {"flip-coin": {"SUCCEEDED"}},
    "withparam_output_dict.yaml": {"my-in-cop1": {"SUCCEEDED"}},
    "recursive_while.yaml": {"flip": {"SUCCEEDED"}},
}


def _features() -> list[dict[str, str]]:
    table = V1_CORPUS / "FEATURES.tsv"
    if not table.is_file():
        return []
    with table.open(newline="") as stream:
        return list(csv.DictReader(stream, delimiter="\t"))


def expected_outcome(row: dict[str, str], executor: str) -> tuple[frozenset[str] | str, str] | None:
    """The state(s) a corpus file ends in on `executor`, and why; None when it is not run there."""
    file = row["file"]
    if file in NOT_RUN:
        return None
    if executor == "local" and row["needs_kubernetes_object"] == "yes":
        return None
    overrides = LOCALLY if executor == "local" else ON_KUBERNETES
    if file in overrides:
        return overrides[file]
    if row["expected"] in ("SUCCEEDED", "FAILED"):
        return row["expected"], "as FEATURES.tsv expects"
    raise AssertionError(f"{file}: no expected outcome for {row['expected']!r}")


def _cases() -> list[Any]:
    return [pytest.param(row["file"], id=row["file"]) for row in _features()]


@pytest.fixture(scope="module")
def v1_outcomes(request, local_stack, executor_stack) -> dict[str, dict[str, Any]]:
    """Upload and run every selected file that runs on this executor at once; the final runs by file."""
    if executor_stack.executor == "local" and local_stack.settings.store == "dynamodb":
        # Like KFP's v2 corpus, each store runs it once (`make test` runs both): the local executor on the
        # embedded store, the Kubernetes executor on DynamoDB + S3.
        pytest.skip("the local executor runs the v1 corpus on the embedded store (--store embedded)")
    if not V1_CORPUS.is_dir():
        pytest.skip(f"KFP v1 corpus not found at {V1_CORPUS} (set KFPS_V1_CORPUS)")
    selected = {
        item.callspec.params["file"]
        for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    }
    run_ids = {}
    for row in _features():
        if row["file"] in selected and expected_outcome(row, executor_stack.executor) is not None:
            params = json.loads(row["arguments"] or "{}")
            run_ids[row["file"]] = v1_submitting.run_v1(
                executor_stack.client, V1_CORPUS / row["file"], params
            )
    finished = executor_stack.wait_for_runs(run_ids.values(), timeout=CORPUS_TIMEOUT)
    return {file: finished[run_id] for file, run_id in run_ids.items()}


@pytest.mark.timeout(1500)  # the module's first test also waits for every run of the module
@pytest.mark.parametrize("file", _cases())
def test_v1_corpus_file_reaches_its_expected_outcome(file, v1_outcomes, executor_stack):
    row = next(row for row in _features() if row["file"] == file)
    expected = expected_outcome(row, executor_stack.executor)
    if expected is None:
        reason = NOT_RUN.get(file, "it creates Kubernetes objects")
        pytest.skip(f"uploaded only on {executor_stack.executor}: needs {reason}")
    states, why = expected
    run = v1_outcomes[file]
    failed = [
        (task.get("display_name"), (task.get("error") or {}).get("message", "")[-400:])
        for task in run.get("run_details", {}).get("task_details", [])
        if task.get("state") == "FAILED"
    ]
    allowed = states if isinstance(states, frozenset) else {states}
    assert run["state"] in allowed, (why, run.get("error"), failed)
    for name, wanted in TASK_STATES.get(file, {}).items():
        found = {task["state"] for task in run_waiting.tasks_by_name(run).get(name, [])}
        assert found and found <= wanted, (name, found)
