"""The app's runtime: a Lambda builds it once from its environment on first use; a stack installs its own."""

from __future__ import annotations

import pytest

from chalicelib import runtime
from chalicelib.reconcile_kick import LambdaKicker, LocalKicks
from chalicelib.settings import Settings


def test_a_lambda_builds_its_runtime_from_the_environment_once(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("KFPS_STORE", "embedded")
    monkeypatch.setenv("KFPS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KFPS_RECONCILE_KICK", "lambda:kfp-serverless-dev-reconcile")
    saved = runtime.installed()
    runtime.install(None)
    try:
        built = runtime.current()
        assert built is runtime.current()
        assert built.store.kind == "embedded" and built.settings.local_data_dir == str(tmp_path)
        assert isinstance(built.kicker, LambdaKicker)
    finally:
        runtime.install(saved)


def test_settings_name_a_store_and_refuse_an_unknown_one() -> None:
    assert Settings.from_env({}).store == "dynamodb"
    assert Settings.from_env({"KFPS_STORE": "embedded", "KFPS_DATA_DIR": "/d"}).local_data_dir == "/d"
    with pytest.raises(ValueError, match="KFPS_STORE"):
        Settings.from_env({"KFPS_STORE": "postgres"})


def test_local_kicks_reach_every_listener_and_survive_a_failing_one() -> None:
    kicks, seen = LocalKicks(), []

    def failing(run_id: str) -> None:
        raise RuntimeError("boom")

    kicks.add_listener(failing)
    kicks.add_listener(seen.append)
    kicks.kick("r1")
    kicks.remove_listener(seen.append)
    kicks.kick("r2")
    assert seen == ["r1"]


def test_a_cloud_stage_refuses_to_run_open():
    with pytest.raises(ValueError, match="KFPS_MULTI_USER"):
        Settings.from_env({"KFPS_STAGE": "prod"})
    assert Settings.from_env({"KFPS_STAGE": "prod", "KFPS_MULTI_USER": "true"}).multi_user
    assert not Settings.from_env({}).multi_user
    with pytest.raises(ValueError, match="KFPS_MULTI_USER"):
        Settings.from_env({"KFPS_MULTI_USER": "maybe"})


def test_oidc_settings_need_an_audience():
    with pytest.raises(ValueError, match="AUDIENCE"):
        Settings.from_env({"KFPS_OIDC_ISSUER": "https://issuer.example"})
    oidc = Settings.from_env(
        {"KFPS_OIDC_ISSUER": "https://issuer.example/", "KFPS_OIDC_AUDIENCE": "app"}
    ).oidc
    assert oidc.enabled and oidc.keys_url == "https://issuer.example/.well-known/jwks.json"
