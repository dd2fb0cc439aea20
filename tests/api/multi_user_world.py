"""A multi-user app for the API tests: the session's runtime with `multi_user` on, tokens of every kind, and
objects of namespace team-a (and a shared pipeline) made through the API by an admin."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chalicelib import runtime
from chalicelib.auth.tokens import issue_token
from chalicelib.engine.model import TaskRecord
from chalicelib.runtime import Runtime
from chalicelib.store.object_keys import log_key
from chalicelib.task_contract import TaskState
from chalicelib.timestamps import now_text
from tests.api.conftest import Api
from tests.support.specs import HELLO

OWN = "team-a"
OTHER = "team-b"
PAST = "2000-01-01T00:00:00.000000Z"
IDENTITIES = ("none", "malformed", "expired", "revoked", "other", "own", "admin")
UNAUTHENTICATED = ("none", "malformed", "expired", "revoked")
TASK_ID = "hello"
ARTIFACT = "out"


@dataclasses.dataclass(frozen=True)
class Tokens:
    own: str
    other: str
    admin: str
    expired: str
    revoked: str

    def headers(self, identity: str) -> dict[str, str]:
        if identity == "none":
            return {}
        if identity == "malformed":
            return {"Authorization": "Bearer kfps_not-a-token"}
        return {"Authorization": f"Bearer {getattr(self, identity)}"}


def issue_tokens(current: Runtime) -> Tokens:
    store = current.store.tokens
    now = now_text()
    revoked = issue_token(store, (OWN,), False, now)
    store.revoke_token(revoked.record.token_id)
    return Tokens(
        own=issue_token(store, (OWN,), False, now).text,
        other=issue_token(store, (OTHER,), False, now).text,
        admin=issue_token(store, (), True, now).text,
        expired=issue_token(store, (OWN,), False, PAST, expires_at=PAST).text,
        revoked=revoked.text,
    )


@contextlib.contextmanager
def multi_user_app(app_runtime: Runtime) -> Iterator[Runtime]:
    """The app (in process and the session stack's HTTP server) with authentication and namespaces on."""
    settings = dataclasses.replace(app_runtime.settings, multi_user=True)
    multi = dataclasses.replace(app_runtime, settings=settings)
    runtime.install(multi)
    try:
        yield multi
    finally:
        runtime.install(app_runtime)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Maker:
    """Makes objects through the API as one identity (an admin, for the fixtures)."""

    def __init__(self, api: Api, headers: dict[str, str], current: Runtime) -> None:
        self.api = api
        self.headers = headers
        self.current = current

    def _ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        status, payload = self.api.call(method, path, body, headers=self.headers, **kwargs)
        assert status == 200, (method, path, payload)
        return payload

    def experiment(self, namespace: str = OWN) -> str:
        body = {"display_name": unique_name("exp"), "namespace": namespace}
        return self._ok("POST", "/experiments", body)["experiment_id"]

    def pipeline(self, namespace: str = OWN) -> tuple[str, str]:
        from tests.support.multipart import multipart_upload

        body, content_type = multipart_upload(HELLO.encode(), "hello.yaml")
        query = f"name={unique_name('pipe')}" + (f"&namespace={namespace}" if namespace else "")
        status, pipeline = self.api.call(
            "POST",
            f"/pipelines/upload?{query}",
            raw=body,
            headers={**self.headers, "Content-Type": content_type},
        )
        assert status == 200, pipeline
        versions = self._ok("GET", f"/pipelines/{pipeline['pipeline_id']}/versions")["pipeline_versions"]
        return pipeline["pipeline_id"], versions[0]["pipeline_version_id"]

    def bare_pipeline(self, namespace: str = OWN) -> str:
        body = {"name": unique_name("bare"), "namespace": namespace}
        return self._ok("POST", "/pipelines", body)["pipeline_id"]

    def run(self, experiment_id: str, pipeline_id: str, version_id: str) -> str:
        body = {
            "display_name": unique_name("run"),
            "experiment_id": experiment_id,
            "pipeline_version_reference": {"pipeline_id": pipeline_id, "pipeline_version_id": version_id},
        }
        return self._ok("POST", "/runs", body)["run_id"]

    def recurring_run(self, experiment_id: str, pipeline_id: str, version_id: str) -> str:
        body = recurring_run_body(experiment_id, pipeline_id, version_id)
        return self._ok("POST", "/recurringruns", body)["recurring_run_id"]

    def finished_task(self, run_id: str) -> None:
        """A finished task with an output artifact and a log, as the reconciler would leave them."""
        root = Path(self.current.settings.default_pipeline_root or "/nonexistent")
        artifact = root / "multi-user" / run_id / ARTIFACT
        artifact.parent.mkdir(parents=True, exist_ok=True)
        artifact.write_text("artifact bytes")
        record = TaskRecord(
            TASK_ID,
            TASK_ID,
            "container",
            TaskState.SUCCEEDED,
            attempt=1,
            artifacts={ARTIFACT: [{"name": ARTIFACT, "uri": str(artifact)}]},
        )
        self.current.store.runs.save_task(run_id, record)
        self.current.store.objects.put_bytes(log_key(run_id, TASK_ID, 1), b"task log line\n")


def recurring_run_body(experiment_id: str, pipeline_id: str, version_id: str) -> dict[str, Any]:
    return {
        "display_name": unique_name("every-hour"),
        "experiment_id": experiment_id,
        "pipeline_version_reference": {"pipeline_id": pipeline_id, "pipeline_version_id": version_id},
        "trigger": {"periodic_schedule": {"interval_second": 3600}},
        "max_concurrency": 1,
        "mode": "DISABLE",
    }


@dataclasses.dataclass(frozen=True)
class World:
    """Objects of team-a and one shared pipeline, made once per module."""

    experiment_id: str
    pipeline_id: str
    version_id: str
    run_id: str
    recurring_run_id: str
    shared_pipeline_id: str
    shared_version_id: str
    pipeline_name: str


def make_world(maker: Maker) -> World:
    experiment_id = maker.experiment()
    pipeline_id, version_id = maker.pipeline()
    run_id = maker.run(experiment_id, pipeline_id, version_id)
    maker.finished_task(run_id)
    shared_pipeline_id, shared_version_id = maker.pipeline(namespace="")
    name = maker._ok("GET", f"/pipelines/{pipeline_id}")["name"]
    return World(
        experiment_id,
        pipeline_id,
        version_id,
        run_id,
        maker.recurring_run(experiment_id, pipeline_id, version_id),
        shared_pipeline_id,
        shared_version_id,
        name,
    )
