"""Every route of the app × every kind of caller, in multi-user mode: no token, a malformed, expired or revoked
token (401), a token of another namespace (403 to list or create there, 404 for its objects by id, with the body
of a missing one), a token of the objects' own namespace, an admin token. The table is checked against the app's
route table: a route without a row fails the test, so every new route must be classified here."""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from chalice.test import Client

from tests.api.conftest import Api
from tests.api.multi_user_world import (
    ARTIFACT,
    IDENTITIES,
    OWN,
    TASK_ID,
    UNAUTHENTICATED,
    Maker,
    Tokens,
    World,
    issue_tokens,
    make_world,
    multi_user_app,
    recurring_run_body,
    unique_name,
)
from tests.support.loopback_http import serving
from tests.support.multipart import multipart_upload
from tests.support.specs import HELLO

V2 = "/apis/v2beta1"
V1 = "/apis/v1beta1"


@dataclasses.dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: Any = None
    upload: bool = False  # body is a package to send as multipart/form-data


@dataclasses.dataclass(frozen=True)
class Context:
    world: World
    maker: Maker
    package_url: str  # the HELLO package over HTTP (for package_url / v1 url bodies)
    store_kind: str


@dataclasses.dataclass(frozen=True)
class Row:
    method: str
    route: str
    call: Callable[[Context], Call]
    own: int = 200
    other: int = 404
    admin: int | None = None  # None: as own
    public: bool = False


def _ns_ref(namespace: str = OWN) -> list[dict[str, Any]]:
    return [{"key": {"type": "NAMESPACE", "id": namespace}, "relationship": "OWNER"}]


def _v1_ns_scope(path: str) -> str:
    return f"{path}?resource_reference_key.type=NAMESPACE&resource_reference_key.id={OWN}"


def _fresh_experiment(c: Context) -> str:
    return c.maker.experiment()


def _fresh_run(c: Context) -> str:
    return c.maker.run(c.world.experiment_id, c.world.pipeline_id, c.world.version_id)


def _fresh_recurring_run(c: Context) -> str:
    return c.maker.recurring_run(c.world.experiment_id, c.world.pipeline_id, c.world.version_id)


def _v1_run_refs(c: Context) -> list[dict[str, Any]]:
    return [
        {"key": {"type": "EXPERIMENT", "id": c.world.experiment_id}, "relationship": "OWNER"},
        {"key": {"type": "PIPELINE_VERSION", "id": c.world.version_id}, "relationship": "CREATOR"},
    ]


def _version_path(prefix: str, template: str, ids: tuple[str, str]) -> str:
    return prefix + template.format(*ids)


def _upload_store_status(c: Context) -> int:
    return 200 if c.store_kind == "dynamodb" else 400


SPEC = yaml.safe_load(HELLO)
# v1 names a pipeline version by its id alone; it is looked for among the pipelines of the caller's own
# namespaces and the shared ones. An admin holds no namespace of its own, so a namespaced pipeline's version is
# out of its reach there (it uses v2, which names the pipeline too).
V1_VERSION_BY_ID = 404

ROWS: tuple[Row, ...] = (
    # Public: no data behind them.
    Row("GET", f"{V2}/healthz", lambda c: Call("GET", f"{V2}/healthz"), public=True),
    Row("GET", f"{V1}/healthz", lambda c: Call("GET", f"{V1}/healthz"), public=True),
    Row("GET", "/", lambda c: Call("GET", "/"), public=True),
    Row("GET", "/dashboard/{asset}", lambda c: Call("GET", "/dashboard/app.js"), public=True),
    # v2 experiments
    Row(
        "POST",
        f"{V2}/experiments",
        lambda c: Call("POST", f"{V2}/experiments", {"display_name": unique_name("e"), "namespace": OWN}),
        other=403,
    ),
    Row("GET", f"{V2}/experiments", lambda c: Call("GET", f"{V2}/experiments?namespace={OWN}"), other=403),
    Row(
        "GET",
        f"{V2}/experiments/{{experiment_id}}",
        lambda c: Call("GET", f"{V2}/experiments/{c.world.experiment_id}"),
    ),
    Row(
        "DELETE",
        f"{V2}/experiments/{{experiment_id}}",
        lambda c: Call("DELETE", f"{V2}/experiments/{_fresh_experiment(c)}"),
    ),
    Row(
        "POST",
        f"{V2}/experiments/{{experiment_id}}",
        lambda c: Call("POST", f"{V2}/experiments/{_fresh_experiment(c)}:archive"),
    ),
    # v2 pipelines
    Row(
        "POST",
        f"{V2}/pipelines",
        lambda c: Call("POST", f"{V2}/pipelines", {"name": unique_name("p"), "namespace": OWN}),
        other=403,
    ),
    Row(
        "POST",
        f"{V2}/pipelines/create",
        lambda c: Call(
            "POST",
            f"{V2}/pipelines/create",
            {
                "pipeline": {"name": unique_name("p"), "namespace": OWN},
                "pipeline_version": {"name": "v1", "pipeline_spec": SPEC},
            },
        ),
        other=403,
    ),
    Row("GET", f"{V2}/pipelines", lambda c: Call("GET", f"{V2}/pipelines?namespace={OWN}"), other=403),
    Row(
        "GET",
        f"{V2}/pipelines/names/{{name}}",
        lambda c: Call("GET", f"{V2}/pipelines/names/{c.world.pipeline_name}?namespace={OWN}"),
        other=403,
    ),
    Row(
        "POST",
        f"{V2}/pipelines/upload",
        lambda c: Call("POST", f"{V2}/pipelines/upload?name={unique_name('u')}&namespace={OWN}", upload=True),
        other=403,
    ),
    Row(
        "POST",
        f"{V2}/pipelines/upload_version",
        lambda c: Call(
            "POST",
            f"{V2}/pipelines/upload_version?pipelineid={c.world.pipeline_id}&name={unique_name('v')}",
            upload=True,
        ),
        other=400,  # as for a missing pipeline id (KFP's upload handler answers 400 "does not exist")
    ),
    Row(
        "POST",
        f"{V2}/pipelines/uploads",
        lambda c: Call("POST", f"{V2}/pipelines/uploads", {"filename": "big.yaml"}),
        own=-1,  # the store decides (no presigned URLs in the embedded store); the same for every caller
        other=-1,
    ),
    Row(
        "POST",
        f"{V2}/pipelines/uploads/{{upload_action}}",
        lambda c: Call("POST", f"{V2}/pipelines/uploads/{uuid.uuid4()}:register?name=big&namespace={OWN}"),
        own=404,
        other=403,
    ),
    Row(
        "GET",
        f"{V2}/pipelines/{{pipeline_id}}",
        lambda c: Call("GET", f"{V2}/pipelines/{c.world.pipeline_id}"),
    ),
    Row(
        "DELETE",
        f"{V2}/pipelines/{{pipeline_id}}",
        lambda c: Call("DELETE", f"{V2}/pipelines/{c.maker.bare_pipeline()}"),
    ),
    Row(
        "PATCH",
        f"{V2}/pipelines/{{pipeline_id}}",
        lambda c: Call("PATCH", f"{V2}/pipelines/{c.world.pipeline_id}", {"description": "changed"}),
    ),
    Row(
        "GET",
        f"{V2}/pipelines/{{pipeline_id}}/versions",
        lambda c: Call("GET", f"{V2}/pipelines/{c.world.pipeline_id}/versions"),
    ),
    Row(
        "POST",
        f"{V2}/pipelines/{{pipeline_id}}/versions",
        lambda c: Call(
            "POST",
            f"{V2}/pipelines/{c.world.pipeline_id}/versions",
            {"name": unique_name("v"), "pipeline_spec": SPEC},
        ),
    ),
    Row(
        "GET",
        f"{V2}/pipelines/{{pipeline_id}}/versions/{{version_id}}",
        lambda c: Call("GET", f"{V2}/pipelines/{c.world.pipeline_id}/versions/{c.world.version_id}"),
    ),
    Row(
        "DELETE",
        f"{V2}/pipelines/{{pipeline_id}}/versions/{{version_id}}",
        lambda c: Call("DELETE", _version_path(V2, "/pipelines/{}/versions/{}", c.maker.pipeline())),
    ),
    Row(
        "PATCH",
        f"{V2}/pipelines/{{pipeline_id}}/versions/{{version_id}}",
        lambda c: Call(
            "PATCH",
            f"{V2}/pipelines/{c.world.pipeline_id}/versions/{c.world.version_id}",
            {"description": "changed"},
        ),
    ),
    Row(
        "GET",
        f"{V2}/pipelines/{{pipeline_id}}/versions/{{version_id}}/graph",
        lambda c: Call("GET", f"{V2}/pipelines/{c.world.pipeline_id}/versions/{c.world.version_id}/graph"),
    ),
    # v2 recurring runs
    Row(
        "POST",
        f"{V2}/recurringruns",
        lambda c: Call(
            "POST",
            f"{V2}/recurringruns",
            recurring_run_body(c.world.experiment_id, c.world.pipeline_id, c.world.version_id),
        ),
    ),
    Row(
        "GET", f"{V2}/recurringruns", lambda c: Call("GET", f"{V2}/recurringruns?namespace={OWN}"), other=403
    ),
    Row(
        "GET",
        f"{V2}/recurringruns/{{recurring_run_id}}",
        lambda c: Call("GET", f"{V2}/recurringruns/{c.world.recurring_run_id}"),
    ),
    Row(
        "DELETE",
        f"{V2}/recurringruns/{{recurring_run_id}}",
        lambda c: Call("DELETE", f"{V2}/recurringruns/{_fresh_recurring_run(c)}"),
    ),
    Row(
        "POST",
        f"{V2}/recurringruns/{{recurring_run_id}}",
        lambda c: Call("POST", f"{V2}/recurringruns/{c.world.recurring_run_id}:disable"),
    ),
    # v2 runs, their artifacts, logs and the dashboard's reads
    Row(
        "POST",
        f"{V2}/runs",
        lambda c: Call(
            "POST",
            f"{V2}/runs",
            {
                "display_name": unique_name("r"),
                "experiment_id": c.world.experiment_id,
                "pipeline_version_reference": {
                    "pipeline_id": c.world.pipeline_id,
                    "pipeline_version_id": c.world.version_id,
                },
            },
        ),
    ),
    Row("GET", f"{V2}/runs", lambda c: Call("GET", f"{V2}/runs?namespace={OWN}"), other=403),
    Row("GET", f"{V2}/runs/{{run_id}}", lambda c: Call("GET", f"{V2}/runs/{c.world.run_id}")),
    Row("DELETE", f"{V2}/runs/{{run_id}}", lambda c: Call("DELETE", f"{V2}/runs/{_fresh_run(c)}")),
    Row("POST", f"{V2}/runs/{{run_id}}", lambda c: Call("POST", f"{V2}/runs/{_fresh_run(c)}:archive")),
    Row("GET", f"{V2}/runs/{{run_id}}/graph", lambda c: Call("GET", f"{V2}/runs/{c.world.run_id}/graph")),
    Row(
        "GET",
        f"{V2}/runs/{{run_id}}/nodes/{{node_id}}/artifacts/{{artifact_name}}",
        lambda c: Call("GET", f"{V2}/runs/{c.world.run_id}/nodes/{TASK_ID}/artifacts/{ARTIFACT}:read"),
    ),
    Row(
        "GET",
        f"{V2}/runs/{{run_id}}/tasks/{{task_id}}/io",
        lambda c: Call("GET", f"{V2}/runs/{c.world.run_id}/tasks/{TASK_ID}/io"),
    ),
    Row(
        "GET",
        f"{V2}/runs/{{run_id}}/tasks/{{task_id}}/logs",
        lambda c: Call("GET", f"{V2}/runs/{c.world.run_id}/tasks/{TASK_ID}/logs"),
    ),
    Row("GET", f"{V2}/artifacts", lambda c: Call("GET", f"{V2}/artifacts?namespace={OWN}"), other=403),
    # who the caller is: every authenticated caller reads its own
    Row("GET", f"{V2}/dashboard/session", lambda c: Call("GET", f"{V2}/dashboard/session"), other=200),
    # v1beta1
    Row(
        "POST",
        f"{V1}/experiments",
        lambda c: Call(
            "POST", f"{V1}/experiments", {"name": unique_name("e"), "resource_references": _ns_ref()}
        ),
        other=403,
    ),
    Row("GET", f"{V1}/experiments", lambda c: Call("GET", _v1_ns_scope(f"{V1}/experiments")), other=403),
    Row(
        "GET",
        f"{V1}/experiments/{{experiment_id}}",
        lambda c: Call("GET", f"{V1}/experiments/{c.world.experiment_id}"),
    ),
    Row(
        "DELETE",
        f"{V1}/experiments/{{experiment_id}}",
        lambda c: Call("DELETE", f"{V1}/experiments/{_fresh_experiment(c)}"),
    ),
    Row(
        "POST",
        f"{V1}/experiments/{{experiment_id}}",
        lambda c: Call("POST", f"{V1}/experiments/{_fresh_experiment(c)}:archive"),
    ),
    Row(
        "POST",
        f"{V1}/jobs",
        lambda c: Call(
            "POST",
            f"{V1}/jobs",
            {
                "name": unique_name("j"),
                "enabled": False,
                "max_concurrency": 1,
                "trigger": {"periodic_schedule": {"interval_second": 3600}},
                "resource_references": _v1_run_refs(c),
            },
        ),
        admin=V1_VERSION_BY_ID,
    ),
    Row("GET", f"{V1}/jobs", lambda c: Call("GET", _v1_ns_scope(f"{V1}/jobs")), other=403),
    Row("GET", f"{V1}/jobs/{{job_id}}", lambda c: Call("GET", f"{V1}/jobs/{c.world.recurring_run_id}")),
    Row("DELETE", f"{V1}/jobs/{{job_id}}", lambda c: Call("DELETE", f"{V1}/jobs/{_fresh_recurring_run(c)}")),
    Row(
        "POST",
        f"{V1}/jobs/{{job_id}}/disable",
        lambda c: Call("POST", f"{V1}/jobs/{c.world.recurring_run_id}/disable"),
    ),
    Row(
        "POST",
        f"{V1}/jobs/{{job_id}}/enable",
        lambda c: Call("POST", f"{V1}/jobs/{_fresh_recurring_run(c)}/enable"),
    ),
    Row(
        "GET",
        f"{V1}/namespaces/{{namespace}}/pipelines/{{name}}",
        lambda c: Call("GET", f"{V1}/namespaces/{OWN}/pipelines/{c.world.pipeline_name}"),
        other=403,
    ),
    Row(
        "GET",
        f"{V1}/pipeline_versions",
        lambda c: Call(
            "GET",
            f"{V1}/pipeline_versions?resource_key.type=PIPELINE&resource_key.id={c.world.pipeline_id}",
        ),
    ),
    Row(
        "POST",
        f"{V1}/pipeline_versions",
        lambda c: Call(
            "POST",
            f"{V1}/pipeline_versions",
            {
                "name": unique_name("v"),
                "package_url": {"pipeline_url": c.package_url},
                "resource_references": [
                    {"key": {"type": "PIPELINE", "id": c.world.pipeline_id}, "relationship": "OWNER"}
                ],
            },
        ),
    ),
    Row(
        "GET",
        f"{V1}/pipeline_versions/{{version_id}}",
        lambda c: Call("GET", f"{V1}/pipeline_versions/{c.world.version_id}"),
        admin=V1_VERSION_BY_ID,
    ),
    Row(
        "DELETE",
        f"{V1}/pipeline_versions/{{version_id}}",
        lambda c: Call("DELETE", f"{V1}/pipeline_versions/{c.maker.pipeline()[1]}"),
        admin=V1_VERSION_BY_ID,
    ),
    Row(
        "GET",
        f"{V1}/pipeline_versions/{{version_id}}/templates",
        lambda c: Call("GET", f"{V1}/pipeline_versions/{c.world.version_id}/templates"),
        admin=V1_VERSION_BY_ID,
    ),
    Row(
        "POST",
        f"{V1}/pipelines",
        lambda c: Call(
            "POST",
            f"{V1}/pipelines",
            {
                "name": unique_name("p"),
                "url": {"pipeline_url": c.package_url},
                "resource_references": _ns_ref(),
            },
        ),
        other=403,
    ),
    Row("GET", f"{V1}/pipelines", lambda c: Call("GET", _v1_ns_scope(f"{V1}/pipelines")), other=403),
    Row(
        "POST",
        f"{V1}/pipelines/upload",
        lambda c: Call("POST", f"{V1}/pipelines/upload?name={unique_name('u')}&namespace={OWN}", upload=True),
        other=403,
    ),
    Row(
        "POST",
        f"{V1}/pipelines/upload_version",
        lambda c: Call(
            "POST",
            f"{V1}/pipelines/upload_version?pipelineid={c.world.pipeline_id}&name={unique_name('v')}",
            upload=True,
        ),
        other=400,  # as for a missing pipeline id (KFP's upload handler answers 400 "does not exist")
    ),
    Row(
        "GET",
        f"{V1}/pipelines/{{pipeline_id}}",
        lambda c: Call("GET", f"{V1}/pipelines/{c.world.pipeline_id}"),
    ),
    Row(
        "DELETE",
        f"{V1}/pipelines/{{pipeline_id}}",
        lambda c: Call("DELETE", f"{V1}/pipelines/{c.maker.bare_pipeline()}"),
    ),
    Row(
        "POST",
        f"{V1}/pipelines/{{pipeline_id}}/default_version/{{version_id}}",
        lambda c: Call("POST", _version_path(V1, "/pipelines/{}/default_version/{}", c.maker.pipeline())),
    ),
    Row(
        "GET",
        f"{V1}/pipelines/{{pipeline_id}}/templates",
        lambda c: Call("GET", f"{V1}/pipelines/{c.world.pipeline_id}/templates"),
    ),
    Row(
        "POST",
        f"{V1}/runs",
        lambda c: Call(
            "POST", f"{V1}/runs", {"name": unique_name("r"), "resource_references": _v1_run_refs(c)}
        ),
        admin=V1_VERSION_BY_ID,
    ),
    Row("GET", f"{V1}/runs", lambda c: Call("GET", _v1_ns_scope(f"{V1}/runs")), other=403),
    Row("GET", f"{V1}/runs/{{run_id}}", lambda c: Call("GET", f"{V1}/runs/{c.world.run_id}")),
    Row("DELETE", f"{V1}/runs/{{run_id}}", lambda c: Call("DELETE", f"{V1}/runs/{_fresh_run(c)}")),
    Row("POST", f"{V1}/runs/{{run_id}}", lambda c: Call("POST", f"{V1}/runs/{_fresh_run(c)}:archive")),
    Row(
        "POST",
        f"{V1}/runs/{{run_id}}/retry",
        lambda c: Call("POST", f"{V1}/runs/{_fresh_run(c)}/retry"),
        own=400,  # a run that has not failed cannot be retried: the check comes after the namespace's
    ),
    Row(
        "POST",
        f"{V1}/runs/{{run_id}}/terminate",
        lambda c: Call("POST", f"{V1}/runs/{_fresh_run(c)}/terminate"),
    ),
)


@pytest.fixture(scope="module")
def package_url() -> Iterator[str]:
    """The HELLO package served over loopback HTTP (package_url and v1 url bodies fetch it)."""
    with serving(HELLO.encode, "/hello.yaml") as served:
        yield served.url


@pytest.fixture(scope="module")
def multi_user(app_runtime, local_stack):
    with local_stack.background_paused(), multi_user_app(app_runtime) as current:
        yield current


@pytest.fixture(scope="module")
def root_api(multi_user) -> Iterator[Api]:
    from app import app

    with Client(app, stage_name="test") as client:
        yield Api(client, prefix="")


@pytest.fixture(scope="module")
def tokens(multi_user) -> Tokens:
    return issue_tokens(multi_user)


@pytest.fixture(scope="module")
def context(root_api, tokens, multi_user, package_url, store_kind) -> Context:
    maker = Maker(Api(root_api.client), tokens.headers("admin"), multi_user)
    return Context(make_world(maker), maker, package_url, store_kind)


def send(api: Api, call: Call, headers: dict[str, str]) -> tuple[int, Any]:
    if call.upload:
        body, content_type = multipart_upload(HELLO.encode(), "hello.yaml")
        return api.call(call.method, call.path, raw=body, headers={**headers, "Content-Type": content_type})
    return api.call(call.method, call.path, call.body, headers=headers)


def test_every_route_has_a_row() -> None:
    from app import app

    routes = {(method, path) for path, methods in app.routes.items() for method in methods}
    rows = [(row.method, row.route) for row in ROWS]
    assert len(rows) == len(set(rows)), "a route has two rows"
    assert routes - set(rows) == set(), "routes without a row: classify them in ROWS"
    assert set(rows) - routes == set(), "rows of routes the app does not have"


@pytest.mark.parametrize("row", ROWS, ids=[f"{row.method} {row.route}" for row in ROWS])
def test_route_answers_each_caller_as_its_row_says(row: Row, root_api: Api, tokens: Tokens, context: Context):
    answers = {}
    for identity in IDENTITIES:
        status, body = send(root_api, row.call(context), tokens.headers(identity))
        answers[identity] = (status, body)
    statuses = {identity: status for identity, (status, _) in answers.items()}
    if row.public:
        assert set(statuses.values()) == {200}, statuses
        return
    for identity in UNAUTHENTICATED:
        status, body = answers[identity]
        assert status == 401, (identity, statuses)
        assert body["code"] == 16 and body["message"], body
    if row.own == -1:
        assert statuses["own"] == statuses["other"] == statuses["admin"] == _upload_store_status(context)
        return
    expected = {"own": row.own, "other": row.other, "admin": row.own if row.admin is None else row.admin}
    assert {identity: statuses[identity] for identity in expected} == expected, answers["other"]


def test_unauthenticated_requests_change_nothing(root_api: Api, tokens: Tokens, context: Context, multi_user):
    before = [e.experiment_id for e in multi_user.store.catalog.list_experiments(OWN)]
    for identity in UNAUTHENTICATED:
        body = {"display_name": unique_name("e"), "namespace": OWN}
        assert root_api.call("POST", f"{V2}/experiments", body, headers=tokens.headers(identity))[0] == 401
        assert (
            root_api.call(
                "DELETE", f"{V2}/experiments/{context.world.experiment_id}", headers=tokens.headers(identity)
            )[0]
            == 401
        )
    assert [e.experiment_id for e in multi_user.store.catalog.list_experiments(OWN)] == before


def test_another_namespaces_object_is_404_with_the_body_of_a_missing_one(root_api, tokens, context) -> None:
    world = context.world
    other = tokens.headers("other")
    pairs = [
        (f"{V2}/runs/{world.run_id}", f"{V2}/runs/{{}}"),
        (f"{V2}/experiments/{world.experiment_id}", f"{V2}/experiments/{{}}"),
        (f"{V2}/pipelines/{world.pipeline_id}", f"{V2}/pipelines/{{}}"),
        (f"{V2}/recurringruns/{world.recurring_run_id}", f"{V2}/recurringruns/{{}}"),
        (f"{V1}/runs/{world.run_id}", f"{V1}/runs/{{}}"),
        (f"{V2}/runs/{world.run_id}/tasks/{TASK_ID}/logs", f"{V2}/runs/{{}}/tasks/{TASK_ID}/logs"),
    ]
    for existing, template in pairs:
        real_id = existing.split("/")[4]
        missing_id = str(uuid.uuid4())
        status, body = root_api.call("GET", existing, headers=other)
        missing_status, missing_body = root_api.call("GET", template.format(missing_id), headers=other)
        assert status == missing_status == 404
        assert json.dumps(body).replace(real_id, "ID") == json.dumps(missing_body).replace(missing_id, "ID")


def test_shared_pipelines_are_read_by_all_and_written_by_admins_only(root_api, tokens, context) -> None:
    world = context.world
    for identity in ("own", "other", "admin"):
        headers = tokens.headers(identity)
        status, shared = root_api.call("GET", f"{V2}/pipelines/{world.shared_pipeline_id}", headers=headers)
        assert status == 200
        name_filter = json.dumps(
            {"predicates": [{"operation": 1, "key": "display_name", "stringValue": shared["display_name"]}]}
        )
        query = urllib.parse.urlencode({"filter": name_filter})
        listed = root_api.call("GET", f"{V2}/pipelines?{query}", headers=headers)[1]["pipelines"]
        assert world.shared_pipeline_id in [p["pipeline_id"] for p in listed]
    change = {"description": "mine now"}
    path = f"{V2}/pipelines/{world.shared_pipeline_id}"
    assert root_api.call("PATCH", path, change, headers=tokens.headers("own"))[0] == 403
    status, body = root_api.call(
        "POST", f"{V2}/pipelines", {"name": unique_name("s")}, headers=tokens.headers("own")
    )
    assert status == 403 and "shared" in body["message"]
    assert root_api.call("PATCH", path, change, headers=tokens.headers("admin"))[0] == 200


def test_a_run_of_another_namespaces_private_pipeline_is_refused(root_api, tokens, context) -> None:
    """`pipeline_version_reference` cannot reach into another namespace; a shared pipeline can be run."""
    other = tokens.headers("other")
    made = root_api.call("POST", f"{V2}/experiments", {"display_name": unique_name("e")}, headers=other)[1]
    world = context.world
    body = {
        "display_name": unique_name("r"),
        "experiment_id": made["experiment_id"],
        "pipeline_version_reference": {
            "pipeline_id": world.pipeline_id,
            "pipeline_version_id": world.version_id,
        },
    }
    status, answer = root_api.call("POST", f"{V2}/runs", body, headers=other)
    assert status == 404, answer
    body["pipeline_version_reference"] = {
        "pipeline_id": world.shared_pipeline_id,
        "pipeline_version_id": world.shared_version_id,
    }
    status, run = root_api.call("POST", f"{V2}/runs", body, headers=other)
    assert status == 200 and made["namespace"] == "team-b", run


def test_lists_without_a_namespace_show_the_callers_own(root_api, tokens, context) -> None:
    status, body = root_api.call("GET", f"{V2}/runs", headers=tokens.headers("own"))
    assert status == 200 and context.world.run_id in [r["run_id"] for r in body["runs"]]
    status, body = root_api.call("GET", f"{V2}/runs", headers=tokens.headers("other"))
    assert status == 200 and context.world.run_id not in [r["run_id"] for r in body.get("runs", [])]
    status, body = root_api.call(
        "GET", f"{V2}/runs?experiment_id={context.world.experiment_id}", headers=tokens.headers("other")
    )
    assert status == 404, body


def test_healthz_says_multi_user(root_api) -> None:
    assert root_api.call("GET", f"{V2}/healthz")[1]["multi_user"] is True


def test_tokens_never_reach_the_logs(root_api, tokens, context, capsys, caplog) -> None:
    caplog.set_level("DEBUG")
    for identity in ("own", "revoked", "expired", "other"):
        headers = tokens.headers(identity)
        root_api.call("GET", f"{V2}/runs/{context.world.run_id}", headers=headers)
        root_api.call(
            "POST", f"{V2}/pipelines", {"name": unique_name("p"), "namespace": OWN}, headers=headers
        )
    captured = capsys.readouterr()
    logged = captured.out + captured.err + caplog.text
    assert "request not authenticated" in logged and "pipeline created" in logged, "nothing to check"
    for identity in ("own", "revoked", "expired", "other"):
        secret = getattr(tokens, identity).split("_", 2)[2]
        assert secret not in logged
