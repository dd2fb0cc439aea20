"""Every package in KFP's valid corpus uploads through the API; every invalid one gets a 400 that names the
problem, and nothing is stored."""

import json
from urllib.parse import quote

import pytest

from tests.conftest import CORPUS

VALID = sorted(p for p in (CORPUS / "valid").rglob("*") if p.is_file()) if CORPUS.is_dir() else []
INVALID = sorted(p for p in (CORPUS / "invalid").rglob("*") if p.is_file()) if CORPUS.is_dir() else []


@pytest.mark.parametrize("path", VALID, ids=lambda p: str(p.relative_to(CORPUS)))
def test_valid_corpus_package_uploads(api, unique, path):
    status, body = api.upload(f"/pipelines/upload?name=corpus-{unique}", path.read_bytes(), path.name)
    assert status == 200, body
    _, versions = api.get(f"/pipelines/{body['pipeline_id']}/versions")
    assert versions["total_size"] == 1


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_corpus_package_is_rejected_and_nothing_is_stored(api, unique, path):
    status, body = api.upload(f"/pipelines/upload?name=bad-{unique}", path.read_bytes(), path.name)
    assert status == 400, body
    assert path.name in body["error_message"] or len(body["error_message"]) > 10
    flt = quote(
        json.dumps({"predicates": [{"operation": 1, "key": "display_name", "stringValue": f"bad-{unique}"}]})
    )
    assert api.get(f"/pipelines?filter={flt}") == (200, {})
