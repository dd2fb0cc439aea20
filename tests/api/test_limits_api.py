"""Input limits and the pod policy through the real app: each refusal is a 4xx naming the limit and the value,
and nothing is stored (no run, experiment, pipeline or spec object)."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from chalicelib import runtime
from chalicelib.pod_policy import PodPolicy
from tests.support.specs import HELLO
from tests.support.store_snapshot import stored

SPEC = yaml.safe_load(HELLO)


@pytest.fixture
def limits(app_runtime) -> Iterator[Any]:
    """`limits(**fields)` / `limits(pod_policy=PodPolicy(...))`: the app's settings with these changed."""

    def apply(pod_policy: PodPolicy | None = None, **fields: Any) -> None:
        settings = dataclasses.replace(
            app_runtime.settings,
            limits=dataclasses.replace(app_runtime.settings.limits, **fields),
            pod_policy=pod_policy or app_runtime.settings.pod_policy,
        )
        runtime.install(dataclasses.replace(app_runtime, settings=settings))

    yield apply
    runtime.install(app_runtime)


@pytest.fixture
def experiment(api, unique) -> str:
    return api.post("/experiments", {"display_name": f"limits-{unique}"})[1]["experiment_id"]


def _refused(api, app_runtime, experiment: str, path: str, body: dict, status: int = 400) -> str:
    before = stored(app_runtime, experiment)
    got, error = api.post(path, body)
    assert got == status, error
    assert stored(app_runtime, experiment) == before
    return error["message"]


def _run(experiment: str, spec: dict | None = None, **fields: Any) -> dict:
    return {"experiment_id": experiment, "display_name": "r", "pipeline_spec": spec or SPEC, **fields}


def _recurring(experiment: str, spec: dict | None = None, cron: str = "0 0 * * * *") -> dict:
    return {
        "experiment_id": experiment,
        "display_name": "rr",
        "pipeline_spec": spec or SPEC,
        "trigger": {"cron_schedule": {"cron": cron}},
        "max_concurrency": "1",
    }


def test_a_json_body_over_the_limit_is_a_413(api, app_runtime, experiment, limits) -> None:
    limits(max_body_bytes=1000)
    body = _run(experiment, runtime_config={"parameters": {"name": "x" * 2000}})
    message = _refused(api, app_runtime, experiment, "/runs", body, 413)
    assert "the limit is 1000" in message


def test_a_parameter_value_over_the_limit_is_refused(api, app_runtime, experiment, limits) -> None:
    limits(max_parameter_bytes=100)
    body = _run(experiment, runtime_config={"parameters": {"name": "x" * 200}})
    message = _refused(api, app_runtime, experiment, "/runs", body)
    assert "parameter 'name' is 202 bytes; the limit is 100" in message


def test_a_spec_over_the_size_limit_is_refused(api, app_runtime, experiment, limits) -> None:
    limits(max_spec_bytes=500)
    message = _refused(api, app_runtime, experiment, "/runs", _run(experiment))
    assert "the limit is 500 (KFPS_MAX_SPEC_BYTES)" in message


def test_a_spec_with_too_many_tasks_is_refused(api, app_runtime, experiment, limits) -> None:
    spec = copy.deepcopy(SPEC)
    task = spec["root"]["dag"]["tasks"]["hello"]
    spec["root"]["dag"]["tasks"] = {
        f"hello-{i}": dict(task, taskInfo={"name": f"hello-{i}"}) for i in range(5)
    }
    limits(max_spec_tasks=4)
    message = _refused(api, app_runtime, experiment, "/runs", _run(experiment, spec))
    assert "has 5 tasks; the limit is 4" in message
    message = _refused(api, app_runtime, experiment, "/recurringruns", _recurring(experiment, spec))
    assert "has 5 tasks; the limit is 4" in message


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("x" * 129, "129 characters long; the limit is 128"),
        ("a\x00b", "control character"),
        ("a\nb", "control character"),
        ("report\u202etxt.exe", "control character"),
        ("a\u2028b", "control character"),
    ],
)
def test_bad_names_are_refused_everywhere(api, app_runtime, experiment, name: str, problem: str) -> None:
    for path, body in (
        ("/experiments", {"display_name": name}),
        ("/runs", _run(experiment, display_name=name)),
        ("/recurringruns", dict(_recurring(experiment), display_name=name)),
        ("/pipelines", {"display_name": name}),
    ):
        assert problem in _refused(api, app_runtime, experiment, path, body), path


@pytest.mark.parametrize("name", ["../etc", "a\\b"])
def test_a_pipeline_name_with_a_slash_is_refused_and_a_run_name_is_not(
    api, app_runtime, experiment, name
) -> None:
    assert "must not contain '/'" in _refused(
        api, app_runtime, experiment, "/pipelines", {"display_name": name}
    )
    got, created = api.post("/runs", _run(experiment, display_name=f"corpus {name}"))
    assert got == 200, created


def test_names_in_any_script_with_joiners_are_accepted(api, unique) -> None:
    for name in (
        f"\U0001f469\u200d\U0001f4bb {unique}",
        f"\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 {unique}",
    ):
        status, body = api.post("/experiments", {"display_name": name})
        assert status == 200, body


def test_a_name_with_surrounding_whitespace_is_refused_for_pipelines(api, app_runtime, experiment) -> None:
    message = _refused(api, app_runtime, experiment, "/pipelines", {"name": "p", "display_name": " p"})
    assert "must not start or end with whitespace" in message


def test_a_cron_firing_every_second_is_refused(api, app_runtime, experiment) -> None:
    message = _refused(
        api, app_runtime, experiment, "/recurringruns", _recurring(experiment, cron="* * * * * *")
    )
    assert "'* * * * * *'" in message and "whole minutes" in message


def test_a_periodic_schedule_under_a_minute_is_refused(api, app_runtime, experiment) -> None:
    body = dict(_recurring(experiment), trigger={"periodic_schedule": {"interval_second": "1"}})
    assert "under a minute" in _refused(api, app_runtime, experiment, "/recurringruns", body)


def test_the_active_run_quota_refuses_with_429(api, app_runtime, experiment, limits, quiet_stack) -> None:
    status, first = api.post("/runs", _run(experiment))
    assert status == 200, first
    active = len(app_runtime.store.runs.active_run_ids())
    limits(max_active_runs_per_namespace=active)
    message = _refused(api, app_runtime, experiment, "/runs", _run(experiment), 429)
    assert f"the quota is {active}" in message
    limits(max_active_runs_per_namespace=active + 1)
    assert api.post("/runs", _run(experiment))[0] == 200


def _with_platform(spec: dict, executor_config: dict) -> dict:
    """An inline IR spec with a Kubernetes platform spec for its one executor."""
    return {
        "pipeline_spec": spec,
        "platform_spec": {
            "platforms": {"kubernetes": {"deploymentSpec": {"executors": {"exec-hello": executor_config}}}}
        },
    }


@pytest.mark.parametrize(
    ("config", "rule"),
    [
        ({"securityContext": {"privileged": True}}, "privileged containers are not allowed"),
        ({"hostNetwork": True}, "hostNetwork is not allowed"),
        ({"hostPID": True}, "hostPID is not allowed"),
    ],
)
def test_the_pod_policy_refuses_privileged_platform_configs(
    api, app_runtime, experiment, config, rule
) -> None:
    body = dict(_run(experiment), pipeline_spec=_with_platform(SPEC, config))
    message = _refused(api, app_runtime, experiment, "/runs", body)
    assert f"pod policy: task hello: {rule}" in message


def test_the_pod_policy_caps_cpu_and_memory(api, app_runtime, experiment, limits) -> None:
    spec = copy.deepcopy(SPEC)
    spec["deploymentSpec"]["executors"]["exec-hello"]["container"]["resources"] = {
        "resourceMemoryLimit": "4Gi"
    }
    limits(pod_policy=PodPolicy(max_memory="2Gi"))
    message = _refused(api, app_runtime, experiment, "/runs", _run(experiment, spec))
    assert "task hello: memory limits 4Gi is above the maximum 2Gi (KFPS_MAX_TASK_MEMORY)" in message
    spec["deploymentSpec"]["executors"]["exec-hello"]["container"]["resources"] = {"resourceCpuRequest": "3"}
    limits(pod_policy=PodPolicy(max_cpu="2"))
    message = _refused(api, app_runtime, experiment, "/recurringruns", _recurring(experiment, spec))
    assert "task hello: cpu requests 3 is above the maximum 2" in message


def test_the_pod_policy_allows_only_listed_image_prefixes(api, app_runtime, experiment, limits) -> None:
    limits(pod_policy=PodPolicy(allowed_image_prefixes=("123456789012.dkr.ecr.",)))
    message = _refused(api, app_runtime, experiment, "/runs", _run(experiment))
    assert "task hello: image 'python:3.11' is not from an allowed registry (123456789012.dkr.ecr." in message
    limits(pod_policy=PodPolicy(allowed_image_prefixes=("python:",)))
    status, run = api.post("/runs", _run(experiment))
    assert status == 200, run


def test_limits_are_read_from_the_environment() -> None:
    from chalicelib.settings import Settings

    settings = Settings.from_env(
        {
            "KFPS_MAX_BODY_BYTES": "10",
            "KFPS_MAX_ACTIVE_RUNS_PER_NAMESPACE": "3",
            "KFPS_ALLOWED_IMAGE_PREFIXES": "a/, b/",
            "KFPS_MAX_TASK_CPU": "8",
        }
    )
    assert settings.limits.max_body_bytes == 10 and settings.limits.max_active_runs_per_namespace == 3
    assert settings.pod_policy.allowed_image_prefixes == ("a/", "b/") and settings.pod_policy.max_cpu == "8"
    with pytest.raises(ValueError, match="KFPS_MAX_SPEC_TASKS must be an integer"):
        Settings.from_env({"KFPS_MAX_SPEC_TASKS": "many"})
    with pytest.raises(ValueError, match="KFPS_MAX_TASK_MEMORY"):
        Settings.from_env({"KFPS_MAX_TASK_MEMORY": "lots"})


def test_a_presigned_url_lifetime_over_15_minutes_is_refused_at_start() -> None:
    from chalicelib.limits import Limits

    assert Limits.from_env({"KFPS_PRESIGNED_URL_SECONDS": "300"}).presigned_url_seconds == 300
    with pytest.raises(ValueError, match="KFPS_PRESIGNED_URL_SECONDS must be 1..900, got 3600"):
        Limits.from_env({"KFPS_PRESIGNED_URL_SECONDS": "3600"})


CREDENTIAL_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def test_run_details_and_launch_documents_carry_no_aws_credentials(api, app_runtime, experiment) -> None:
    from tests.support.waiting import wait_for

    status, run = api.post("/runs", _run(experiment, runtime_config={"parameters": {"name": "secrets"}}))
    assert status == 200, run
    run_id = run["run_id"]
    done = wait_for(
        lambda: (got := api.get(f"/runs/{run_id}")[1]).get("state") in ("SUCCEEDED", "FAILED") and got,
        "the run to finish",
    )
    assert done["state"] == "SUCCEEDED", done
    seen = [json.dumps(done)]
    seen += [
        app_runtime.store.objects.get_bytes(o.key).decode()
        for o in app_runtime.store.objects.list_objects(f"runs/{run_id}/")
    ]
    access = app_runtime.settings.aws
    secrets = [s for s in (access.secret_access_key, access.session_token) if s and s != "testing"]
    for text in seen:
        for name in CREDENTIAL_NAMES:
            assert name not in text
        for secret in secrets:
            assert secret not in text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/p.yaml?X-Amz-Credential=AKIASECRETKEYID&X-Amz-Signature=deadbeefsig",
        "http://user:hunter2pass@127.0.0.1:1/p.yaml",
        "s3://no-such-bucket-kfps/p.yaml?X-Amz-Security-Token=SESSIONTOKENSECRET",
    ],
)
def test_a_package_url_error_shows_no_credentials(api, url) -> None:
    status, pipeline = api.post("/pipelines", {"display_name": f"redact-{abs(hash(url))}"})
    assert status == 200, pipeline
    body = {"display_name": "v", "package_url": {"pipeline_url": url}}
    status, error = api.post(f"/pipelines/{pipeline['pipeline_id']}/versions", body)
    assert status == 400, error
    text = json.dumps(error)
    for secret in ("AKIASECRETKEYID", "deadbeefsig", "hunter2pass", "SESSIONTOKENSECRET"):
        assert secret not in text
    assert "REDACTED" in text


def test_a_refused_run_or_recurring_run_without_an_experiment_creates_no_default_experiment(
    api, unique
) -> None:
    namespace = f"fresh-{unique}"
    for path, body in (
        (
            "/recurringruns",
            {
                "display_name": "rr\u202e",
                "pipeline_spec": SPEC,
                "namespace": namespace,
                "trigger": {"cron_schedule": {"cron": "0 0 * * * *"}},
            },
        ),
    ):
        got, error = api.post(path, body)
        assert got == 400 and "control character" in error["message"], error
        listed = api.get(f"/experiments?namespace={namespace}")[1]
        assert not listed.get("experiments"), (path, listed)
