"""Schemathesis against KFP's own v2beta1 OpenAPI description (read from ../shared/corpus/kfp-api/), over HTTP
on the local stack: no 5xx, no response that breaks the description, JSON content types; then a real kfp.Client
still creates an experiment, uploads a pipeline and runs it to SUCCEEDED.

Bounded: EXAMPLES generated cases per operation (40 operations) after schemathesis' examples and coverage phases
(the coverage phase also sends methods no route defines, e.g. TRACE, which must be a 405), no Hypothesis deadline,
no example database; a 180 s timeout per operation.

Checks used: not_a_server_error, status_code_conformance (KFP documents `default: rpcStatus` for errors, so it
fails only on a code outside the description), content_type_conformance, response_schema_conformance.
Left out: negative_data_rejection and positive_data_acceptance (the description types almost nothing as
required or constrained, e.g. a run's pipeline_spec is any object, so "invalid" cases are often valid KFP
requests and "valid" cases name ids that do not exist → 404), missing_required_header and ignored_auth (open
mode; with authentication on, add the token to HEADERS), the stateful checks (use_after_free,
ensure_resource_availability: no links in the description).
"""

import json
import re
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.specs import HELLO

SPEC = (
    Path(__file__).resolve().parents[3] / "shared" / "corpus" / "kfp-api" / "kfp_api_single_file.swagger.json"
)
EXAMPLES = 12
# With authentication on, the token goes here (one line): {"Authorization": f"Bearer {token}"}.
HEADERS: dict[str, str] = {}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _undotted(description: dict) -> dict:
    """The description with gRPC-gateway's dotted path parameters (`{pipeline.pipeline_id}`) renamed
    (`{pipeline_pipeline_id}`): schemathesis cannot format a dotted placeholder. The URLs are the same."""
    paths = {}
    for path, item in description["paths"].items():
        paths[re.sub(r"\{([^}]+)\}", lambda m: "{" + m.group(1).replace(".", "_") + "}", path)] = item
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path":
                    parameter["name"] = parameter["name"].replace(".", "_")
    return dict(description, paths=paths)


schema = schemathesis.openapi.from_dict(_undotted(json.loads(SPEC.read_text())))


@pytest.fixture(scope="module")
def session() -> requests.Session:
    with requests.Session() as session:
        yield session


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.timeout(180)
def test_every_operation_answers_within_the_description(case, local_stack, session) -> None:
    case.call_and_validate(base_url=local_stack.url, session=session, headers=HEADERS, checks=CHECKS)


def test_the_stack_still_serves_kfp_client_after_the_fuzzing(kfp_client, unique, tmp_path) -> None:
    package = tmp_path / "after_fuzz.yaml"
    package.write_text(HELLO)
    experiment = kfp_client.create_experiment(f"after-fuzz-{unique}")
    pipeline = kfp_client.upload_pipeline(str(package), pipeline_name=f"after-fuzz-{unique}")
    version = kfp_client.list_pipeline_versions(pipeline.pipeline_id).pipeline_versions[0]
    run = kfp_client.run_pipeline(
        experiment.experiment_id,
        f"after-fuzz-{unique}",
        pipeline_id=pipeline.pipeline_id,
        version_id=version.pipeline_version_id,
        params={"name": "fuzz"},
    )
    assert kfp_client.wait_for_run_completion(run.run_id, timeout=300).state == "SUCCEEDED"
