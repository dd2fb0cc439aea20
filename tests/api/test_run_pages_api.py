"""Run lists through the API: created_at orders and the state/storage_state filters come from the store's index a
page at a time, with the same pages as the in-memory path; page tokens are bound to their list; other sorts
and filters read the scope in memory, up to a bound."""

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import quote, urlencode

import pytest

from chalicelib.api import listing
from chalicelib.store.records import Run

STATES = ("SUCCEEDED", "FAILED", "SUCCEEDED")


@pytest.fixture
def namespace(app_runtime) -> tuple[str, list[Run]]:
    """A fresh namespace with 25 final runs (the reconciler leaves them alone) over two experiments; runs
    share creation times in pairs, so ties are broken by id."""
    ns = f"pages-{uuid.uuid4().hex[:8]}"
    runs = []
    for n in range(25):
        run_id = str(uuid.uuid4())
        run = Run(
            run_id,
            f"run-{n:02d}",
            f"{ns}-exp-{n % 2}",
            ns,
            f"runs/{run_id}/spec.json",
            f"2026-02-01T00:00:{n // 2:02d}.000000Z",
            state=STATES[n % 3],
            storage_state="ARCHIVED" if n % 5 == 0 else "AVAILABLE",
        )
        runs.append(app_runtime.store.runs.create_run(run))
    return ns, runs


def _filter(*predicate: str) -> str:
    return _filters(predicate)


def _filters(*predicates: tuple[str, ...]) -> str:
    rows = [
        {"key": key, "operation": operation, "stringValue": value} for key, operation, value in predicates
    ]
    return json.dumps({"predicates": rows})


def _pages(api, params: dict[str, str]) -> list[dict]:
    pages, token = [], ""
    while True:
        query = {**params, **({"page_token": token} if token else {})}
        status, body = api.get(f"/runs?{urlencode(query, quote_via=quote)}")
        assert status == 200, body
        pages.append(body)
        token = body.get("next_page_token", "")
        if not token:
            return pages


def _ids(pages: list[dict]) -> list[str]:
    return [run["run_id"] for page in pages for run in page.get("runs", [])]


def _expected(runs: list[Run], descending: bool) -> list[str]:
    ordered = sorted(runs, key=lambda r: (r.created_at, r.run_id), reverse=descending)
    return [r.run_id for r in ordered]


@pytest.mark.parametrize("sort_by", ["created_at", "created_at desc", ""])
def test_index_pages_follow_creation_time_and_id(api, namespace, sort_by):
    ns, runs = namespace

    pages = _pages(api, {"namespace": ns, "sort_by": sort_by, "page_size": "10"})

    assert [len(p["runs"]) for p in pages] == [10, 10, 5]
    assert _ids(pages) == _expected(runs, sort_by.endswith("desc"))
    assert pages[-1]["total_size"] == 25


@pytest.mark.parametrize(
    ("predicate", "keep"),
    [
        (("state", "EQUALS", "failed"), lambda r: r.state == "FAILED"),
        (("storage_state", "EQUALS", "ARCHIVED"), lambda r: r.storage_state == "ARCHIVED"),
        (("storage_state", "NOT_EQUALS", "ARCHIVED"), lambda r: r.storage_state != "ARCHIVED"),
        (
            (("state", "EQUALS", "SUCCEEDED"), ("storage_state", "EQUALS", "AVAILABLE")),
            lambda r: r.state == "SUCCEEDED" and r.storage_state == "AVAILABLE",
        ),
    ],
)
def test_index_filters_page_like_the_in_memory_path(api, namespace, predicate, keep, monkeypatch):
    ns, runs = namespace
    flt = _filters(*predicate) if isinstance(predicate[0], tuple) else _filter(*predicate)

    monkeypatch.setattr(listing, "MAX_IN_MEMORY_ITEMS", 20)  # the index path never reads the whole scope
    served = _pages(api, {"namespace": ns, "sort_by": "created_at desc", "filter": flt, "page_size": "4"})
    monkeypatch.undo()
    # A second predicate that keeps every run moves the same query to the in-memory path.
    both = json.loads(flt)
    both["predicates"].append({"key": "display_name", "operation": "IS_SUBSTRING", "stringValue": "run-"})
    in_memory = _pages(
        api, {"namespace": ns, "sort_by": "created_at desc", "filter": json.dumps(both), "page_size": "4"}
    )

    assert _ids(served) == _ids(in_memory) == _expected([r for r in runs if keep(r)], descending=True)
    assert served[-1]["total_size"] == in_memory[-1]["total_size"] == sum(map(keep, runs))


def test_an_experiments_runs_come_from_its_index(api, namespace):
    ns, runs = namespace
    experiment_id = f"{ns}-exp-1"

    pages = _pages(api, {"experiment_id": experiment_id, "page_size": "5"})

    assert _ids(pages) == _expected([r for r in runs if r.experiment_id == experiment_id], descending=False)


def test_a_page_token_works_only_for_its_own_list(api, namespace):
    ns, _ = namespace
    _, first = api.get(f"/runs?namespace={ns}&page_size=5")
    token = first["next_page_token"]

    other_namespace = api.get(f"/runs?namespace=someone-else&page_size=5&page_token={token}")
    other_experiment = api.get(f"/runs?experiment_id={ns}-exp-0&page_size=5&page_token={token}")
    other_filter = api.get(
        f"/runs?namespace={ns}&page_token={token}&filter={quote(_filter('state', 'EQUALS', 'FAILED'))}"
    )

    for status, body in (other_namespace, other_experiment, other_filter):
        assert status == 400, body
    assert "another list" in other_namespace[1]["message"]


@pytest.mark.parametrize(
    "token",
    [
        "A" * (listing.MAX_PAGE_TOKEN_CHARS + 1),
        "not base64!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(
            json.dumps(
                {
                    "sort": "created_at",
                    "desc": False,
                    "filter": [],
                    "value": 10**30,
                    "id": "x",
                    "scope": "namespace:",
                }
            ).encode()
        ).decode(),
    ],
)
def test_a_bad_page_token_is_a_400(api, token):
    status, body = api.get(f"/runs?page_token={quote(token)}")
    assert status == 400 and "page_token" in body["message"]


def test_a_sort_no_index_serves_is_refused_beyond_the_in_memory_bound(api, namespace, monkeypatch):
    ns, runs = namespace
    monkeypatch.setattr(listing, "MAX_IN_MEMORY_ITEMS", 20)

    status, body = api.get(f"/runs?namespace={ns}&sort_by=display_name")
    served = _pages(api, {"namespace": ns, "sort_by": "created_at desc", "page_size": "10"})
    small = api.get(f"/runs?experiment_id={ns}-exp-1&sort_by=display_name%20desc")

    assert status == 400
    assert "more than 20" in body["message"] and "created_at desc" in body["message"]
    assert len(_ids(served)) == len(runs)
    assert small[0] == 200 and [r["display_name"] for r in small[1]["runs"]][:2] == ["run-23", "run-21"]
