"""A run as the Argo Workflow the v1beta1 API reports in `pipeline_runtime.workflow_manifest`. Pure.

kfp 1.8's `wait_for_run_completion` reads the run's `status`; v1 tooling (and KFP's v1 UI) read the Workflow's
`status.phase` and `status.nodes`: one node per task record (container and importer tasks are Pods, DAGs and
loop iterations DAGs, loops TaskGroups), keyed by id, each with its phase, times, display name, type, children
and outputs (parameters as text; artifacts by name, with `s3` where the URI is on S3), and for a KFP v1 run its
template and inputs. The run's root task is the node whose id is the Workflow's name, as Argo's (an exit
handler stays a top-level node beside it, as Argo's `onExit` node); without a root record, a DAG node for the
run holds the top-level tasks. Phases are Argo's (`Error` included, for v1 runs that end in it). `spec` is the
run's Workflow for a KFP v1 package (its arguments set to the run's parameters), else the run's arguments alone.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from chalicelib.api.request_helpers import omit_empty
from chalicelib.api.v1beta1.shapes import parameter_text, run_status_v1
from chalicelib.engine.argo.records import PARAMETERS_KEY, TEMPLATE_KEY
from chalicelib.engine.argo.values import argo_phase, workflow_name
from chalicelib.engine.model import TaskRecord
from chalicelib.engine.task_ids import ROOT_TASK_ID
from chalicelib.spec.argo_workflow import Workflow
from chalicelib.spec.package import PackageFormat, package_format
from chalicelib.store.records import Run

_NODE_TYPES = {
    "container": "Pod",
    "importer": "Pod",
    "resource": "Pod",
    "dag": "DAG",
    "loop": "TaskGroup",
    "iteration": "DAG",
}


def workflow_manifest(run: Run, spec: dict[str, Any], records: Mapping[str, TaskRecord]) -> dict[str, Any]:
    """The Workflow JSON for `run` (its spec snapshot `spec`, its task `records` by task id)."""
    v1_package = package_format(spec) is PackageFormat.ARGO
    # A v1 run's steps saw this name as `{{workflow.name}}`.
    name = workflow_name(Workflow(spec), run.run_id) if v1_package else run.run_id
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": omit_empty(
            {
                "name": name,
                "uid": run.run_id,
                "namespace": run.namespace,
                "creationTimestamp": run.created_at,
                "labels": {"pipeline/runid": run.run_id},
                "annotations": {"pipelines.kubeflow.org/run_name": run.display_name},
            }
        ),
        "spec": _spec(run, spec, v1_package),
        "status": omit_empty(
            {
                "phase": run_phase(run, records),
                "startedAt": run.created_at,
                "finishedAt": run.finished_at,
                "message": (run.error or {}).get("message", ""),
                "nodes": _nodes(name, run, records, v1_package),
            }
        ),
    }


def run_phase(run: Run, records: Mapping[str, TaskRecord]) -> str:
    """The run's v1 status; a failed run whose root node ended in Argo's `Error` phase is `Error`."""
    status = run_status_v1(run.state)
    root = records.get(ROOT_TASK_ID)
    if status == "Failed" and root is not None and argo_phase(root) == "Error":
        return "Error"
    return status


def _spec(run: Run, spec: dict[str, Any], v1_package: bool) -> dict[str, Any]:
    arguments = [{"name": key, "value": parameter_text(value)} for key, value in run.parameters.items()]
    if not v1_package:
        return {"arguments": {"parameters": arguments}}
    workflow_spec = copy.deepcopy(spec.get("spec") or {})
    given = {entry["name"]: entry["value"] for entry in arguments}
    declared = (workflow_spec.get("arguments") or {}).get("parameters") or []
    for parameter in declared:
        if isinstance(parameter, dict) and parameter.get("name") in given:
            parameter["value"] = given[parameter["name"]]
    return workflow_spec


def _nodes(root_id: str, run: Run, records: Mapping[str, TaskRecord], v1_package: bool) -> dict[str, Any]:
    tops = [record for record in records.values() if not record.parent_id or record.parent_id not in records]
    ids = {record.task_id: record.task_id for record in records.values()}
    nodes: dict[str, Any] = {}
    if ROOT_TASK_ID in records:
        ids[ROOT_TASK_ID] = root_id
    elif len(tops) == 1:
        ids[tops[0].task_id] = root_id
    else:
        nodes[root_id] = omit_empty(
            {
                "id": root_id,
                "name": root_id,
                "displayName": run.display_name or root_id,
                "type": "DAG",
                "phase": run_phase(run, records),
                "startedAt": run.created_at,
                "finishedAt": run.finished_at,
                "children": sorted(ids[record.task_id] for record in tops),
            }
        )
    children: dict[str, list[str]] = {}
    for record in records.values():
        if record.parent_id in records:
            children.setdefault(record.parent_id, []).append(ids[record.task_id])
    for record in records.values():
        node_id = ids[record.task_id]
        nodes[node_id] = _node(node_id, record, sorted(children.get(record.task_id, [])), v1_package)
    return nodes


def _node(node_id: str, record: TaskRecord, children: list[str], v1_package: bool) -> dict[str, Any]:
    message = record.error
    if message and record.exit_code is not None and f"exit code {record.exit_code}" not in message:
        message = f"{message} (exit code {record.exit_code})"
    return omit_empty(
        {
            "id": node_id,
            "name": record.task_id,
            "displayName": record.display_name or record.name,
            "templateName": str(record.data.get(TEMPLATE_KEY) or record.name) if v1_package else record.name,
            "type": _NODE_TYPES.get(record.kind, "Pod"),
            "phase": argo_phase(record),
            "startedAt": record.started_at or record.created_at,
            "finishedAt": record.finished_at,
            "message": message,
            "podName": record.pod_name,
            "children": children,
            "inputs": _inputs(record) if v1_package else None,
            "outputs": omit_empty(
                {
                    "parameters": [
                        {"name": key, "value": parameter_text(value)}
                        for key, value in record.parameters.items()
                    ],
                    "artifacts": [
                        _artifact(name, artifact)
                        for name, artifacts in record.artifacts.items()
                        for artifact in artifacts
                    ],
                }
            ),
        }
    )


def _artifact(name: str, artifact: Mapping[str, Any]) -> dict[str, Any]:
    uri = str(artifact.get("uri") or "")
    if uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://") :].partition("/")
        return {"name": name, "s3": {"bucket": bucket, "key": key}}
    return omit_empty({"name": name, "path": uri})


def _inputs(record: TaskRecord) -> dict[str, Any] | None:
    given = record.data.get(PARAMETERS_KEY) or {}
    if not given:
        return None
    return {"parameters": [{"name": key, "value": parameter_text(value)} for key, value in given.items()]}
