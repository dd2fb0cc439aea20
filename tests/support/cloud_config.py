"""The cloud configuration in one process, for the event path's tests and `bench/cost_per_run.py`.

Real parts: the app's Lambda handlers (invoked through Chalice's test client, as Lambda would call them), the
DynamoDB tables and S3 bucket on moto, S3 → EventBridge notifications on that bucket and an EventBridge rule
with the app's own `reconcile_result` pattern (plus the bucket, as the template adds), whose target is an SQS
queue standing in for Lambda's async delivery; the Kubernetes executor over HTTP against the fake API server.
Simulated: the step pods (`SimulatedPods`: they run for the `seconds` their task asks, in simulated time, then
write result.json to S3 as the launcher's collect step would and end), and Lambda's async invoke queue
(`QueuedKicks`: kicks wait until the driver delivers them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

from chalicelib import runtime as app_runtime
from chalicelib.executors.k8s import names
from chalicelib.executors.k8s.settings import KubernetesSettings
from chalicelib.run_states import FINAL_RUN_STATES
from chalicelib.runtime import Runtime
from chalicelib.settings import DYNAMODB_STORE, AwsAccess, Settings
from chalicelib.store import open_store
from chalicelib.store.dynamo import provision_dynamo_store
from chalicelib.task_contract import TaskResult, TaskSpec
from tests.executors.k8s_fake.server import FakeKube
from tests.executors.k8s_fake.stack import write_kubeconfig

NAMESPACE = "kfps-steps"
CHALICE_CONFIG = Path(__file__).resolve().parents[2] / ".chalice" / "config.json"


def function_config() -> dict[str, dict[str, int]]:
    """Each function's `lambda_memory_size` (MB) and `lambda_timeout` (s) from `.chalice/config.json`."""
    return json.loads(CHALICE_CONFIG.read_text())["lambda_functions"]


@dataclasses.dataclass(frozen=True)
class Invocation:
    function: str
    seconds: float


class QueuedKicks:
    """Lambda's async invoke queue for the reconcile function: kicks wait for `CloudHarness.deliver`."""

    def __init__(self) -> None:
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self.count = 0

    def kick(self, run_id: str) -> None:
        with self._lock:
            self._pending.append(run_id)
            self.count += 1

    def take(self) -> list[str]:
        with self._lock:
            pending, self._pending = self._pending, []
        return pending


def _timestamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class SimulatedPods:
    """Step pods on the fake API server: Running from the first `advance` after their creation, done once
    `seconds` (the task's `seconds` input, default 0) of simulated time have passed: result.json written to S3
    (as collect's last act), then the pod Succeeded. `fail_with(task, reason)` makes a task's pod end that way
    without a result (OOMKilled and friends), the case the tick's backstop is for."""

    def __init__(self, fake: FakeKube, objects: Any, s3: Any, bucket: str) -> None:
        self.fake = fake
        self.objects = objects
        self.s3 = s3
        self.bucket = bucket
        self._started: dict[str, float] = {}
        self._ends: dict[str, float] = {}
        self._done: set[str] = set()
        self._failures: dict[str, str] = {}
        self.start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def fail_with(self, task_id: str, reason: str) -> None:
        self._failures[task_id] = reason

    def next_end(self) -> float | None:
        pending = [end for name, end in self._ends.items() if name not in self._done]
        return min(pending) if pending else None

    def advance(self, now: float) -> int:
        """Start new pods at `now`, end those due; returns how many ended."""
        ended = 0
        for pod in self.fake.pods(NAMESPACE):
            name = pod["metadata"]["name"]
            if name in self._done:
                continue
            annotations, labels = pod["metadata"]["annotations"], pod["metadata"]["labels"]
            key = (annotations[names.ANNOTATION_RUN_ID], annotations[names.ANNOTATION_TASK_ID])
            attempt = int(labels[names.LABEL_ATTEMPT])
            if name not in self._started:
                spec = TaskSpec.from_json(self.objects.get_bytes(names.task_key(*key, attempt)).decode())
                self._started[name] = now
                self._ends[name] = now + float(spec.parameters.get("seconds", 0) or 0)
                self._set(name, now, {"running": {"startedAt": self._at(now)}}, "Running", {"running": {}})
            if self._ends[name] <= now:
                self._finish(name, key, attempt, now)
                ended += 1
        return ended

    def _at(self, seconds: float) -> str:
        return _timestamp(self.start + dt.timedelta(seconds=seconds))

    def _finish(self, name: str, key: tuple[str, str], attempt: int, now: float) -> None:
        self._done.add(name)
        reason = self._failures.get(key[1])
        if reason:
            main = {"terminated": {"exitCode": 137, "reason": reason, "finishedAt": self._at(now)}}
            self._set(name, now, main, "Failed", {"terminated": {"exitCode": 1, "finishedAt": self._at(now)}})
            return
        result = TaskResult(0, started_at=self._at(self._started[name]), finished_at=self._at(now))
        self.s3.put_object(
            Bucket=self.bucket, Key=names.result_key(*key, attempt), Body=result.to_json().encode()
        )
        done = {"terminated": {"exitCode": 0, "reason": "Completed", "finishedAt": self._at(now)}}
        self._set(name, now, done, "Succeeded", done)

    def _set(self, name: str, now: float, main: dict, phase: str, collect: dict) -> None:
        self.fake.set_status(
            NAMESPACE,
            name,
            {
                "phase": phase,
                "startTime": self._at(self._started.get(name, now)),
                "containerStatuses": [
                    {"name": "main", "state": main},
                    {"name": "kfp-collect", "state": collect},
                ],
            },
        )
        self.fake.set_log(NAMESPACE, name, "main", "done\n")


class CloudHarness:
    """See the module doc. `invocations` lists every handler call with its measured duration."""

    def __init__(self, access: AwsAccess, workdir: Path, bucket: str, table_prefix: str) -> None:
        from chalice.test import Client

        from app import app

        self.fake = FakeKube()
        url = self.fake.start()
        kubeconfig = write_kubeconfig(workdir / "kubeconfig", url, NAMESPACE)
        settings = Settings(
            store=DYNAMODB_STORE,
            table_prefix=table_prefix,
            bucket=bucket,
            aws=access,
            executor="kubernetes",
            namespace=NAMESPACE,
            kubeconfig=str(kubeconfig),
            reconcile_kick="lambda:reconcile",
        )
        settings = dataclasses.replace(
            settings, kubernetes=KubernetesSettings.from_app_settings(settings, {})
        )
        provision_dynamo_store(settings)
        self.settings = settings
        self.kicks = QueuedKicks()
        self.runtime = Runtime(settings, open_store(settings), self.kicks)
        clients = {
            "endpoint_url": access.endpoint_url,
            "region_name": access.region,
            "aws_access_key_id": access.access_key_id,
            "aws_secret_access_key": access.secret_access_key,
        }
        self.s3 = boto3.client("s3", **clients)
        self.sqs = boto3.client("sqs", **clients)
        self.events = boto3.client("events", **clients)
        self.queue_url = self._result_rule(app, bucket, table_prefix)
        self.pods = SimulatedPods(self.fake, self.runtime.store.objects, self.s3, bucket)
        self.invocations: list[Invocation] = []
        self.functions = function_config()
        self._app = app
        self.result_events = 0
        self._previous = app_runtime.installed()
        app_runtime.install(self.runtime)
        self._client = Client(app, stage_name="cost")
        self._client.__enter__()

    def _result_rule(self, app: Any, bucket: str, name: str) -> str:
        """S3 → EventBridge on the bucket; a rule with the app's `reconcile_result` pattern and the bucket →
        an SQS queue (Lambda's async delivery, here read by `deliver`)."""
        (source,) = [s for s in app.event_sources if getattr(s, "name", "") == "reconcile_result"]
        pattern = json.loads(json.dumps(source.event_pattern))
        pattern["detail"]["bucket"] = {"name": [bucket]}
        self.s3.put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        queue_url = self.sqs.create_queue(QueueName=f"{name}-results")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]
        self.events.put_rule(Name=f"{name}-results", EventPattern=json.dumps(pattern))
        self.events.put_targets(Rule=f"{name}-results", Targets=[{"Id": "q", "Arn": arn["QueueArn"]}])
        return queue_url

    def close(self) -> None:
        self._client.__exit__(None, None, None)
        app_runtime.install(self._previous)
        self.fake.stop()

    # -- Lambda, as the service would call the handlers -------------------------------------------------------
    def invoke(self, function: str, event: dict[str, Any], timeout_ms: int | None = None) -> Any:
        """Call the function's handler as Lambda would, with a context whose remaining time starts at the
        function's configured timeout (or `timeout_ms`)."""
        from chalice.local import LambdaContext

        config = self.functions[function]
        context = LambdaContext(
            function,
            memory_size=config["lambda_memory_size"],
            max_runtime_ms=timeout_ms if timeout_ms is not None else config["lambda_timeout"] * 1000,
        )
        started = time.perf_counter()
        payload = self._app.handler_map[function](event, context)
        self.invocations.append(Invocation(function, time.perf_counter() - started))
        return payload

    def call_api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        started = time.perf_counter()
        data = json.dumps(body).encode() if body is not None else b""
        response = getattr(self._client.http, method.lower())(
            "/apis/v2beta1" + path, body=data, headers={"Content-Type": "application/json"}
        )
        self.invocations.append(Invocation("api_handler", time.perf_counter() - started))
        return response.status_code, json.loads(response.body) if response.body else None

    def result_event_messages(self) -> list[dict[str, Any]]:
        """The S3 result events waiting in the rule's queue (taken off it)."""
        events = []
        while True:
            received = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = received.get("Messages") or []
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def deliver(self) -> int:
        """Deliver queued kicks and result events until none is left; returns how many handler calls ran."""
        delivered = 0
        while True:
            kicks = self.kicks.take()
            events = self.result_event_messages()
            if not kicks and not events:
                return delivered
            for run_id in kicks:
                self.invoke("reconcile", {"run_id": run_id})
            for event in events:
                self.result_events += 1
                self.invoke("reconcile_result", event)
            delivered += len(kicks) + len(events)

    def drive(self, run_id: str, tick_every: float = 60.0, limit: float = 24 * 3600.0) -> str:
        """Run the cloud until the run is final; returns its state. Simulated time jumps to the next pod end or
        tick; events a pod end causes are delivered before the tick at the same moment."""
        now, next_tick = 0.0, tick_every
        while True:
            self.deliver()
            state = self.runtime.store.runs.get_run(run_id).state
            if state in FINAL_RUN_STATES:
                return state
            self.pods.advance(now)
            end = self.pods.next_end()
            now = min(end, next_tick) if end is not None else next_tick
            assert now <= limit, f"run {run_id} is still {state} after {limit:g} simulated seconds"
            self.pods.advance(now)
            self.deliver()
            if now >= next_tick:
                self.tick()
                next_tick += tick_every

    def tick(self) -> Any:
        event = self._client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        return self.invoke("reconcile_tick", event)


@contextlib.contextmanager
def cloud_harness(access: AwsAccess, workdir: Path) -> Iterator[CloudHarness]:
    suffix = uuid.uuid4().hex[:8]
    harness = CloudHarness(
        access, workdir, bucket=f"kfps-cloud-{suffix}", table_prefix=f"kfps-cloud-{suffix}"
    )
    try:
        yield harness
    finally:
        harness.close()


def create_run(harness: CloudHarness, spec: dict[str, Any], seconds: int) -> str:
    status, run = harness.call_api(
        "POST",
        "/runs",
        {
            "display_name": f"cost-{uuid.uuid4().hex[:6]}",
            "pipeline_spec": spec,
            "runtime_config": {"parameters": {"seconds": seconds}},
        },
    )
    assert status == 200, run
    return str(run["run_id"])
