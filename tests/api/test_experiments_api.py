from __future__ import annotations

import json
import threading
from urllib.parse import quote


def _name_filter(name: str) -> str:
    return quote(json.dumps({"predicates": [{"operation": 1, "key": "display_name", "stringValue": name}]}))


def test_create_get_and_filter_experiment_by_name(api, unique):
    status, created = api.post("/experiments", {"display_name": f"exp-{unique}", "description": "d"})
    assert status == 200, created
    assert created["storage_state"] == "AVAILABLE"
    status, got = api.get(f"/experiments/{created['experiment_id']}")
    assert status == 200 and got["display_name"] == f"exp-{unique}" and got["description"] == "d"
    status, listed = api.get(f"/experiments?filter={_name_filter(f'exp-{unique}')}&namespace=")
    assert status == 200
    assert [e["experiment_id"] for e in listed["experiments"]] == [created["experiment_id"]]
    assert listed["total_size"] == 1


def test_duplicate_experiment_name_is_409(api, unique):
    assert api.post("/experiments", {"display_name": f"dup-{unique}"})[0] == 200
    status, body = api.post("/experiments", {"display_name": f"dup-{unique}"})
    assert status == 409
    assert body["code"] == 6 and f"dup-{unique}" in body["message"]


def test_concurrent_creates_of_one_name_yield_exactly_one_experiment(api, unique):
    results: list[int] = []

    def create() -> None:
        results.append(api.post("/experiments", {"display_name": f"race-{unique}"})[0])

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200] + [409] * 7
    _, listed = api.get(f"/experiments?filter={_name_filter(f'race-{unique}')}")
    assert listed["total_size"] == 1


def test_unknown_experiment_is_404(api):
    status, body = api.get("/experiments/does-not-exist")
    assert status == 404 and body["code"] == 5


def test_bad_experiment_bodies_are_400_and_store_nothing(api, unique):
    cases = [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"display_name": f"x-{unique}", "colour": "red"}).encode(), "colour"),
        (json.dumps({"description": "no name"}).encode(), "display_name"),
        (json.dumps({"display_name": 42}).encode(), "display_name"),
    ]
    for raw, words in cases:
        status, body = api.post("/experiments", raw=raw)
        assert status == 400, (raw, body)
        assert words in body["message"], (raw, body)
    _, listed = api.get(f"/experiments?filter={_name_filter(f'x-{unique}')}")
    assert listed == {}


def test_oversize_body_is_413(api):
    big = json.dumps({"display_name": "big", "description": "x" * (33 * 2**20)}).encode()
    status, body = api.post("/experiments", raw=big)
    assert status == 413 and "limit" in body["message"]


def test_archive_and_unarchive_experiment(api, unique):
    _, created = api.post("/experiments", {"display_name": f"arch-{unique}"})
    eid = created["experiment_id"]
    assert api.post(f"/experiments/{eid}:archive", raw=b"") == (200, {})
    assert api.get(f"/experiments/{eid}")[1]["storage_state"] == "ARCHIVED"
    assert api.post(f"/experiments/{eid}%3Aunarchive", raw=b"") == (200, {})
    assert api.get(f"/experiments/{eid}")[1]["storage_state"] == "AVAILABLE"
    assert api.post(f"/experiments/{eid}:explode", raw=b"")[0] == 404


def test_delete_experiment_frees_its_name(api, unique):
    _, created = api.post("/experiments", {"display_name": f"del-{unique}"})
    assert api.delete(f"/experiments/{created['experiment_id']}") == (200, {})
    assert api.get(f"/experiments/{created['experiment_id']}")[0] == 404
    assert api.post("/experiments", {"display_name": f"del-{unique}"})[0] == 200


def test_list_rejects_bad_sort_filter_and_page_size(api):
    for query, words in [
        ("sort_by=colour", "colour"),
        ("filter=%7Bbad", "filter"),
        ("page_size=-1", "page_size"),
        ("page_token=garbage", "page_token"),
    ]:
        status, body = api.get(f"/experiments?{query}")
        assert status == 400, (query, body)
        assert words in body["message"], (query, body)
