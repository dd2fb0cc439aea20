"""The unmodified kfp.Client 2.17.3 over HTTP against the local stack in multi-user mode: it authenticates with
`existing_token=` (an `Authorization: Bearer` header), acts in its token's namespace without naming it, and
sees nothing of another namespace."""

from pathlib import Path

import kfp
import pytest
from kfp import compiler, dsl
from kfp_server_api.exceptions import ApiException

from tests.api.multi_user_world import OTHER, OWN, issue_tokens, multi_user_app, unique_name


@dsl.component
def shout(text: str) -> str:
    return text.upper()


@dsl.pipeline(name="multi-user-shout")
def shout_pipeline(text: str = "hi"):
    shout(text=text)


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pkg") / "shout.yaml"
    compiler.Compiler().compile(shout_pipeline, str(path))
    return path


@pytest.fixture(scope="module")
def tokens(app_runtime, local_stack):
    with local_stack.background_paused(), multi_user_app(app_runtime) as current:
        yield issue_tokens(current)


def test_kfp_client_with_a_token_works_in_its_namespace(local_stack, tokens, package):
    client = kfp.Client(host=local_stack.url, existing_token=tokens.own)
    assert client.get_kfp_healthz().multi_user is True
    experiment = client.create_experiment(unique_name("exp"))
    assert experiment.namespace == OWN
    pipeline = client.upload_pipeline(str(package), pipeline_name=unique_name("pipe"), namespace=OWN)
    assert pipeline.namespace == OWN
    run = client.create_run_from_pipeline_package(
        str(package), arguments={"text": "x"}, experiment_name=experiment.display_name
    )
    assert client.get_run(run.run_id).experiment_id == experiment.experiment_id
    listed = client.list_runs(experiment_id=experiment.experiment_id)
    assert [r.run_id for r in listed.runs] == [run.run_id]
    assert run.run_id in [r.run_id for r in client.list_runs(page_size=100).runs]

    stranger = kfp.Client(host=local_stack.url, existing_token=tokens.other)
    with pytest.raises(ApiException) as err:
        stranger.get_run(run.run_id)
    assert err.value.status == 404
    with pytest.raises(ApiException) as err:
        stranger.list_runs(namespace=OWN)
    assert err.value.status == 403
    with pytest.raises(ApiException) as err:
        stranger.get_pipeline(pipeline.pipeline_id)
    assert err.value.status == 404
    assert stranger.create_experiment(unique_name("exp")).namespace == OTHER


def test_kfp_client_without_a_valid_token_is_refused(local_stack, tokens):
    for token in (None, tokens.revoked, tokens.expired):
        client = kfp.Client(host=local_stack.url, existing_token=token)  # healthz is public
        with pytest.raises(ApiException) as err:
            client.list_experiments()
        assert err.value.status == 401
