"""What each Lambda function of a deployed stage does, run the way Lambda runs it: in a process of its own
whose environment is the function's deployed environment and whose AWS credentials are its role's (assumed
by the test), with every AWS call recorded (tests/infra/aws_calls.py).

    python -m tests.infra.function_flows FLOW INPUT.json OUTPUT.json

FLOW is `api`, `fire`, `register`, `reconcile` or `api-after`; INPUT carries what earlier flows produced; OUTPUT gets the
flow's results, the recorded calls, and the outcome of calls the function's policy must refuse (each is made
on purpose and recorded under the principal "refused"). Driven by tests/infra/test_least_privilege.py.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.infra.aws_calls import acting_as, record_calls
from tests.support.multipart import multipart_upload

REFUSED = "refused"


def _refusals(attempts: dict[str, Callable[[], Any]]) -> dict[str, str]:
    """Make each call outside the policy: "AccessDenied" for each IAM refused, else what happened. (moto
    answers a refused DynamoDB call with IAM's XML error, which botocore's JSON parser reads as code 403.)"""
    from botocore.exceptions import ClientError

    outcome = {}
    with acting_as(REFUSED):
        for name, attempt in attempts.items():
            try:
                attempt()
                outcome[name] = "allowed"
            except ClientError as exc:
                error = exc.response.get("Error", {})
                status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                denied = error.get("Code", "").startswith("AccessDenied") or (
                    status == 403 and "not authorized to perform" in str(exc)
                )
                outcome[name] = "AccessDenied" if denied else f"{error.get('Code')}: {error.get('Message')}"
    return outcome


class _Http:
    """JSON over the app's routes in process (chalice.test.Client), failing loudly on any non-200."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.authorization = {"Authorization": f"Bearer {token}"}

    def call(
        self, method: str, path: str, body: Any = None, raw: bytes = b"", headers: dict | None = None
    ) -> Any:
        data = raw or (json.dumps(body).encode() if body is not None else b"")
        response = getattr(self.client.http, method.lower())(
            "/apis/v2beta1" + path,
            body=data,
            headers={**(headers or {"Content-Type": "application/json"}), **self.authorization},
        )
        assert response.status_code == 200, (method, path, response.status_code, response.body)
        return json.loads(response.body) if response.body else None

    def upload(self, path: str, data: bytes, filename: str) -> Any:
        body, content_type = multipart_upload(data, filename)
        return self.call("POST", path, raw=body, headers={"Content-Type": content_type})


def api_flow(inputs: dict[str, Any]) -> dict[str, Any]:
    """Upload, create a run, recurring runs through create/disable/enable/delete, a version from an s3://
    package_url, and a large package through the presigned route."""
    import boto3
    import yaml
    from chalice.test import Client

    from app import app

    package = Path(inputs["package"]).read_bytes()
    with Client(app, stage_name="api") as client:
        http = _Http(client, inputs["token"])
        pipeline = http.upload(f"/pipelines/upload?name={inputs['name']}", package, "shout.yaml")
        (version,) = http.call("GET", f"/pipelines/{pipeline['pipeline_id']}/versions")["pipeline_versions"]
        reference = {
            "pipeline_id": pipeline["pipeline_id"],
            "pipeline_version_id": version["pipeline_version_id"],
        }
        experiment = http.call("POST", "/experiments", {"display_name": inputs["name"]})
        run = http.call(
            "POST",
            "/runs",
            {
                "display_name": "first",
                "experiment_id": experiment["experiment_id"],
                "pipeline_version_reference": reference,
                "runtime_config": {"parameters": {"text": "hello"}},
            },
        )
        http.call("GET", f"/runs/{run['run_id']}")
        recurring = {
            "experiment_id": experiment["experiment_id"],
            "runtime_config": {"parameters": {"text": "hello"}},
            "trigger": {"cron_schedule": {"cron": "0 0 * * * *"}},
            "mode": "ENABLE",
            "max_concurrency": 1,
        }
        on_version = {**recurring, "pipeline_version_reference": reference}
        inline = {**recurring, "pipeline_spec": yaml.safe_load(package)}  # kept as a snapshot in S3
        kept = [
            http.call("POST", "/recurringruns", {"display_name": "on-version", **on_version}),
            http.call("POST", "/recurringruns", {"display_name": "inline", **inline}),
        ]
        dropped = http.call("POST", "/recurringruns", {"display_name": "dropped", **on_version})
        for recurring_run in (*kept, dropped):
            http.call("POST", f"/recurringruns/{recurring_run['recurring_run_id']}:disable")
            http.call("POST", f"/recurringruns/{recurring_run['recurring_run_id']}:enable")
        http.call("DELETE", f"/recurringruns/{dropped['recurring_run_id']}")
        from_url = http.call(
            "POST",
            f"/pipelines/{pipeline['pipeline_id']}/versions",
            {"display_name": "from-url", "package_url": {"pipeline_url": inputs["package_url"]}},
        )
        ticket = http.call("POST", "/pipelines/uploads", {"filename": "large.yaml"})
        put = urllib.request.Request(
            ticket["upload_url"], data=package, method="PUT", headers={"Content-Type": "application/x-yaml"}
        )
        with urllib.request.urlopen(put, timeout=30):
            pass
        large = http.call(
            "POST", ticket["register_path"].removeprefix("/apis/v2beta1") + f"?name={inputs['name']}-large"
        )

    refused = _refusals(
        {
            "eks:DescribeCluster": lambda: boto3.client("eks").describe_cluster(name=inputs["cluster"]),
            "s3:PutObject artifacts/": lambda: boto3.client("s3").put_object(
                Bucket=inputs["bucket"], Key="artifacts/forged", Body=b"x"
            ),
            "dynamodb:PutItem another stage's table": lambda: boto3.client("dynamodb").put_item(
                TableName=inputs["foreign_table"], Item={"run_id": {"S": "x"}}
            ),
        }
    )
    return {
        "pipeline_id": pipeline["pipeline_id"],
        "run_id": run["run_id"],
        "recurring_run_ids": [recurring_run["recurring_run_id"] for recurring_run in kept],
        "package_url_version": from_url["pipeline_version_id"],
        "large_pipeline_id": large["pipeline_id"],
        "refused": refused,
    }


def fire_flow(inputs: dict[str, Any]) -> dict[str, Any]:
    """One Scheduler delivery for each kept recurring run (on a version, on a spec snapshot): a run each."""
    import boto3
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="api") as client:
        outcomes = [
            client.lambda_.invoke(
                "fire_recurring_run",
                {"recurring_run_id": recurring_run_id, "scheduled_time": datetime.now(UTC).isoformat()},
            ).payload
            for recurring_run_id in inputs["recurring_run_ids"]
        ]
    refused = _refusals(
        {
            "scheduler:CreateSchedule": lambda: boto3.client("scheduler").create_schedule(
                Name="forged",
                ScheduleExpression="rate(1 hour)",
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": inputs["any_function_arn"], "RoleArn": inputs["any_role_arn"]},
            ),
            "s3:PutObject packages/": lambda: boto3.client("s3").put_object(
                Bucket=inputs["bucket"], Key="packages/forged", Body=b"x"
            ),
        }
    )
    return {"outcomes": outcomes, "refused": refused}


def register_flow(inputs: dict[str, Any]) -> dict[str, Any]:
    """The S3 "Object Created" event of a package put under pipelines/, delivered twice."""
    import boto3
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="api") as client:
        event = client.events.generate_cw_event(
            source="aws.s3",
            detail_type="Object Created",
            detail={
                "bucket": {"name": inputs["bucket"]},
                "object": {"key": inputs["key"], "etag": inputs["etag"], "version-id": inputs["version_id"]},
            },
            resources=[f"arn:aws:s3:::{inputs['bucket']}"],
        )
        outcomes = [client.lambda_.invoke("register_uploaded_pipeline", event).payload for _ in range(2)]
    refused = _refusals(
        {
            "dynamodb:PutItem runs": lambda: boto3.client("dynamodb").put_item(
                TableName=inputs["runs_table"], Item={"run_id": {"S": "forged"}}
            ),
            "s3:PutObject runs/": lambda: boto3.client("s3").put_object(
                Bucket=inputs["bucket"], Key="runs/forged/spec.json", Body=b"{}"
            ),
        }
    )
    return {"outcomes": outcomes, "refused": refused}


class _Pods:
    """What the step pods would do, under the pods' own role: read the task, write its result (each output
    parameter and artifact is the upper-cased `text` input), and end Succeeded with a log."""

    def __init__(self, fake: Any, namespace: str, credentials: dict[str, str]) -> None:
        import boto3

        self.fake = fake
        self.namespace = namespace
        self.s3 = boto3.client("s3", **credentials)
        self.done: set[str] = set()

    def finish_all(self) -> int:
        from chalicelib.executors.k8s import names
        from chalicelib.task_contract import TaskResult, TaskSpec

        finished = 0
        for pod in self.fake.pods(self.namespace):
            name = pod["metadata"]["name"]
            if name in self.done:
                continue
            annotations, labels = pod["metadata"]["annotations"], pod["metadata"]["labels"]
            run_id, task_id = annotations[names.ANNOTATION_RUN_ID], annotations[names.ANNOTATION_TASK_ID]
            attempt = int(labels[names.LABEL_ATTEMPT])
            bucket, _, result_key = (
                annotations[names.ANNOTATION_RESULT_URI].removeprefix("s3://").partition("/")
            )
            with acting_as("PodRole"):
                body = self.s3.get_object(Bucket=bucket, Key=names.task_key(run_id, task_id, attempt))["Body"]
                spec = TaskSpec.from_json(body.read().decode())
                outputs = (spec.output_definitions or {}).get("parameters", {})
                shouted = str(spec.parameters.get("text", "")).upper()
                artifacts = {}
                for output, uri in spec.output_artifact_uris.items():
                    artifact_bucket, _, key = uri.removeprefix("s3://").partition("/")
                    self.s3.put_object(Bucket=artifact_bucket, Key=key, Body=shouted.encode())
                    kind = spec.output_definitions["artifacts"][output]["artifactType"]
                    artifacts[output] = [{"name": output, "uri": uri, "type": kind, "metadata": {}}]
                result = TaskResult(
                    0, parameters={output: shouted for output in outputs}, artifacts=artifacts
                )
                self.s3.put_object(Bucket=bucket, Key=result_key, Body=result.to_json().encode())
            finished_state = {
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": _now(),
                    "finishedAt": _now(),
                }
            }
            self.fake.set_log(self.namespace, name, "main", f"{shouted}\n")
            self.fake.set_status(
                self.namespace,
                name,
                {
                    "phase": "Succeeded",
                    "startTime": _now(),
                    "containerStatuses": [
                        {"name": "main", "state": finished_state},
                        {"name": "kfp-collect", "state": finished_state},
                    ],
                },
            )
            self.done.add(name)
            finished += 1
        return finished


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reconcile_flow(inputs: dict[str, Any]) -> dict[str, Any]:
    """Reconcile passes with the Kubernetes executor (EKS auth against the stage's cluster, pods on the fake
    API server) until the API's run has finished, then until the fired runs have, from the cache."""
    import boto3

    from chalicelib.executors.eks_auth import eks_configuration
    from chalicelib.executors.k8s.executor import KubernetesExecutor
    from chalicelib.executors.k8s.settings import KubernetesSettings
    from chalicelib.leased_passes import LeasedPasses, new_owner
    from chalicelib.reconciler import Reconciler
    from chalicelib.settings import Settings
    from chalicelib.store import open_store
    from tests.executors.k8s_fake.server import FakeKube
    from tests.executors.k8s_fake.support import core_api

    settings = Settings.from_env()
    store = open_store(settings)
    eks_configuration(settings.eks_cluster)  # DescribeCluster + a token, as the executor's client does
    fake = FakeKube()
    url = fake.start()
    try:
        kubernetes = settings.kubernetes or KubernetesSettings.from_app_settings(settings)
        executor = KubernetesExecutor(kubernetes, store.objects, core_api=core_api(url))
        reconciler = Reconciler(settings, store, executor)
        # Under the runs' pass leases, as the reconcile functions pass runs (the leases table is theirs).
        passes = LeasedPasses(reconciler, store.leases, new_owner("flow"), settings.reconcile_lease_seconds)
        pods = _Pods(fake, settings.namespace, inputs["pod_credentials"])
        launched = 0
        for run_ids in ([inputs["run_id"]], inputs["fired_run_ids"]):
            for _ in range(30):
                report = passes.run(run_ids)
                launched += pods.finish_all()
                if not report.active:
                    break
        states = {}
        for run_id in (inputs["run_id"], *inputs["fired_run_ids"]):
            tasks = store.runs.load_tasks(run_id)
            states[run_id] = {
                "run": store.runs.get_run(run_id).state,
                "tasks": sorted(str(record.state) for record in tasks.values()),
            }
    finally:
        fake.stop()
    refused = _refusals(
        {
            "s3:PutObject packages/": lambda: boto3.client("s3").put_object(
                Bucket=settings.bucket, Key="packages/forged", Body=b"x"
            ),
            "dynamodb:PutItem names": lambda: boto3.client("dynamodb").put_item(
                TableName=inputs["names_table"], Item={"claim": {"S": "forged"}}
            ),
            "scheduler:CreateSchedule": lambda: boto3.client("scheduler").create_schedule(
                Name="forged",
                ScheduleExpression="rate(1 hour)",
                FlexibleTimeWindow={"Mode": "OFF"},
                Target={"Arn": inputs["any_function_arn"], "RoleArn": inputs["any_role_arn"]},
            ),
        }
    )
    return {"states": states, "pods": launched, "refused": refused}


def api_after_flow(inputs: dict[str, Any]) -> dict[str, Any]:
    """The API once the runs have run: task details, a task's log, an artifact's bytes, then deletions (the
    recurring runs, a run, a pipeline version)."""
    import base64

    from chalice.test import Client

    from app import app

    with Client(app, stage_name="api") as client:
        http = _Http(client, inputs["token"])
        run = http.call("GET", f"/runs/{inputs['run_id']}")
        tasks = {t["display_name"]: t["task_id"] for t in run["run_details"]["task_details"]}
        log = client.http.get(
            f"/apis/v2beta1/runs/{inputs['run_id']}/tasks/{tasks['shout']}/logs", headers=http.authorization
        )
        assert log.status_code == 200, log.body
        path = f"/runs/{inputs['run_id']}/nodes/{tasks['keep']}/artifacts/kept:read"
        artifact = base64.b64decode(http.call("GET", path)["data"]).decode()
        for recurring_run_id in inputs["recurring_run_ids"]:
            http.call("DELETE", f"/recurringruns/{recurring_run_id}")
        http.call("DELETE", f"/runs/{inputs['fired_run_ids'][0]}")
        http.call("DELETE", f"/pipelines/{inputs['pipeline_id']}/versions/{inputs['package_url_version']}")
    return {"log": log.body.decode(), "artifact": artifact, "refused": {}}


FLOWS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "api": api_flow,
    "fire": fire_flow,
    "register": register_flow,
    "reconcile": reconcile_flow,
    "api-after": api_after_flow,
}


def main(flow: str, input_path: str, output_path: str) -> None:
    inputs = json.loads(Path(input_path).read_text())
    with record_calls() as calls:
        result = FLOWS[flow](inputs)
    result["calls"] = [call.to_json() for call in calls]
    Path(output_path).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main(*sys.argv[1:4])
