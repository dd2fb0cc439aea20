"""KFP list conventions: page_size, sort_by, filter, page tokens and the list response shape."""

from __future__ import annotations

import base64
import json

import pytest

from chalicelib.api.errors import InvalidArgument
from chalicelib.api.listing import (
    EXPERIMENT_FIELDS,
    PIPELINE_FIELDS,
    PIPELINE_VERSION_FIELDS,
    RECURRING_RUN_FIELDS,
    RUN_FIELDS,
    Field,
    FieldKind,
    Operation,
    Page,
    ResourceFields,
    SortOrder,
    list_response,
    paginate,
    parse_list_query,
)

RUNS = [
    {
        "run_id": "r1",
        "display_name": "alpha",
        "state": "SUCCEEDED",
        "storage_state": "AVAILABLE",
        "experiment_id": "e1",
        "description": "nightly train",
        "created_at": "2024-01-01T00:00:00Z",
    },
    {
        "run_id": "r2",
        "display_name": "beta",
        "state": "FAILED",
        "storage_state": "ARCHIVED",
        "experiment_id": "e1",
        "description": "ad hoc",
        "created_at": "2024-01-02T00:00:00.500Z",
    },
    {
        "run_id": "r3",
        "display_name": "gamma",
        "state": "RUNNING",
        "storage_state": "AVAILABLE",
        "experiment_id": "e2",
        "description": "nightly eval",
        "created_at": "2024-01-03T02:00:00+02:00",  # = 2024-01-03T00:00:00Z
    },
    {
        "run_id": "r4",
        "display_name": "alphabet",
        "state": "SUCCEEDED",
        "storage_state": "AVAILABLE",
        "experiment_id": "e2",
        "created_at": "2024-01-04T00:00:00.123456789Z",
    },
    {"run_id": "r5", "display_name": "delta", "state": "PENDING", "experiment_id": "e1"},
]


def _filter(*predicates: dict) -> str:
    """A filter as kfp.Client serialises it (json.dumps with its default separators)."""
    return json.dumps({"predicates": list(predicates)})


def _ids(page: Page, id_key: str = "run_id") -> list[str]:
    return [item[id_key] for item in page.items]


def _list(params: dict[str, str], items=RUNS, fields: ResourceFields = RUN_FIELDS) -> Page:
    return paginate(items, parse_list_query(params, fields))


# ---------------------------------------------------------------------------------------------------------
# filter: good queries

GOOD_FILTERS = [
    pytest.param(
        {"operation": 1, "key": "display_name", "stringValue": "alpha"}, ["r1"], id="equals-number-camel"
    ),
    pytest.param(
        {"operation": "EQUALS", "key": "display_name", "string_value": "alpha"},
        ["r1"],
        id="equals-name-snake",
    ),
    pytest.param(
        {"operation": "equals", "key": "display_name", "stringValue": "beta"}, ["r2"], id="name-any-case"
    ),
    pytest.param(
        {"operation": 2, "key": "display_name", "stringValue": "alpha"},
        ["r5", "r2", "r3", "r4"],
        id="not-equals",
    ),
    pytest.param(
        {"operation": 3, "key": "created_at", "timestampValue": "2024-01-02T00:00:00Z"},
        ["r3", "r4"],
        id="greater-than-timestamp-whole-seconds",
    ),
    pytest.param(
        {"operation": "GREATER_THAN_EQUALS", "key": "created_at", "timestamp_value": "2024-01-02T00:00:00Z"},
        ["r2", "r3", "r4"],
        id="greater-than-equals",
    ),
    pytest.param(
        {"operation": 6, "key": "created_at", "timestampValue": "2024-01-02T00:00:00Z"},
        ["r5", "r1"],
        id="less-than-missing-is-epoch",
    ),
    pytest.param(
        {"operation": 7, "key": "created_at", "timestampValue": "2024-01-02T01:00:00+01:00"},
        ["r5", "r1", "r2"],
        id="less-than-equals-with-offset",
    ),
    pytest.param(
        {"operation": 1, "key": "created_at", "timestampValue": "2024-01-03T00:00:00Z"},
        ["r3"],
        id="equals-timestamp-across-offsets",
    ),
    pytest.param(
        {"operation": 5, "key": "created_at", "longValue": "1704153600"},
        ["r2", "r3", "r4"],
        id="timestamp-as-long-unix-seconds",
    ),
    pytest.param(
        {"operation": 3, "key": "created_at", "int_value": 1704153600},
        ["r3", "r4"],
        id="timestamp-as-int-unix-seconds",
    ),
    pytest.param(
        {"operation": 8, "key": "state", "stringValues": {"values": ["SUCCEEDED", "FAILED"]}},
        ["r1", "r2", "r4"],
        id="in-string-values-camel",
    ),
    pytest.param(
        {"operation": "IN", "key": "run_id", "string_values": {"values": ["r3", "r5", "nope"]}},
        ["r5", "r3"],
        id="in-string-values-snake",
    ),
    pytest.param(
        {"operation": "IN", "key": "run_id", "string_values": {"values": []}},
        [],
        id="in-empty-list-matches-nothing",
    ),
    pytest.param(
        {"operation": 8, "key": "created_at", "longValues": {"values": ["1704067200", 1704240000]}},
        ["r1", "r3"],
        id="in-long-values-on-timestamp",
    ),
    pytest.param(
        {"operation": 9, "key": "display_name", "stringValue": "alpha"},
        ["r1", "r4"],
        id="is-substring",
    ),
    pytest.param(
        {"operation": "IS_SUBSTRING", "key": "description", "stringValue": "nightly"},
        ["r1", "r3"],
        id="is-substring-skips-missing",
    ),
    pytest.param(
        {"operation": 1, "key": "state", "stringValue": "succeeded"},
        ["r1", "r4"],
        id="enum-case-insensitive",
    ),
    pytest.param(
        {"operation": 1, "key": "description", "stringValue": ""},
        ["r5", "r4"],
        id="missing-field-equals-empty",
    ),
    pytest.param(
        {"operation": 1, "key": "storage_state", "stringValue": "ARCHIVED"},
        ["r2"],
        id="storage-state",
    ),
    pytest.param(
        {"operation": 1, "key": "Display_Name", "stringValue": "gamma"},
        ["r3"],
        id="key-case-insensitive",
    ),
]


@pytest.mark.parametrize(("predicate", "expected"), GOOD_FILTERS)
def test_filter_selects_matching_runs(predicate, expected):
    assert _ids(_list({"filter": _filter(predicate)})) == expected


def test_filter_predicates_are_and_ed():
    page = _list(
        {
            "filter": _filter(
                {"operation": 1, "key": "experiment_id", "stringValue": "e2"},
                {"operation": 1, "key": "state", "stringValue": "SUCCEEDED"},
            )
        }
    )
    assert _ids(page) == ["r4"]
    assert page.total_size == 1


@pytest.mark.parametrize("raw", ["", "   ", "{}", '{"predicates": []}', '{"predicates": null}'])
def test_empty_filter_selects_everything(raw):
    assert _list({"filter": raw}).total_size == len(RUNS)


def test_filter_exactly_as_kfp_client_sends_it_finds_experiment_by_name():
    experiments = [
        {"experiment_id": "x1", "display_name": "Default", "created_at": "2024-01-01T00:00:00Z"},
        {"experiment_id": "x2", "display_name": "exp-a", "created_at": "2024-01-02T00:00:00Z"},
    ]
    params = {
        "filter": '{"predicates": [{"operation": 1, "key": "display_name", "stringValue": "exp-a"}]}',
        "namespace": "",
    }
    page = _list(params, experiments, EXPERIMENT_FIELDS)
    assert _ids(page, "experiment_id") == ["x2"]


def test_pipelines_and_versions_accept_name_as_a_key():
    pipelines = [{"pipeline_id": "p1", "name": "hello"}, {"pipeline_id": "p2", "name": "bye"}]
    versions = [{"pipeline_version_id": "v1", "name": "v-1"}, {"pipeline_version_id": "v2", "name": "v-2"}]
    by_name = {"filter": _filter({"operation": 1, "key": "name", "stringValue": "bye"})}

    assert _ids(_list(by_name, pipelines, PIPELINE_FIELDS), "pipeline_id") == ["p2"]
    by_name = {"filter": _filter({"operation": 1, "key": "name", "stringValue": "v-1"})}
    assert _ids(_list(by_name, versions, PIPELINE_VERSION_FIELDS), "pipeline_version_id") == ["v1"]


def test_recurring_runs_filter_on_pipeline_id_inside_the_version_reference():
    recurring = [
        {"recurring_run_id": "rr1", "pipeline_version_reference": {"pipeline_id": "p1"}},
        {"recurring_run_id": "rr2", "pipeline_version_reference": {"pipeline_id": "p2"}},
    ]
    params = {"filter": _filter({"operation": 1, "key": "pipeline_id", "stringValue": "p2"})}
    assert _ids(_list(params, recurring, RECURRING_RUN_FIELDS), "recurring_run_id") == ["rr2"]


def test_version_filter_on_pipeline_spec_compares_its_json_text():
    versions = [
        {"pipeline_version_id": "v1", "pipeline_spec": {"pipelineInfo": {"name": "hello"}}},
        {"pipeline_version_id": "v2", "pipeline_spec": {"pipelineInfo": {"name": "other"}}},
    ]
    params = {"filter": _filter({"operation": 9, "key": "pipeline_spec", "stringValue": '"hello"'})}
    assert _ids(_list(params, versions, PIPELINE_VERSION_FIELDS), "pipeline_version_id") == ["v1"]


def test_int_fields_compare_numbers_given_as_strings_or_numbers():
    fields = ResourceFields("thing", "id", (Field("id", FieldKind.STRING), Field("count", FieldKind.INT)))
    things = [{"id": "a", "count": "10"}, {"id": "b", "count": 9}, {"id": "c"}]
    params = {"filter": _filter({"operation": 3, "key": "count", "intValue": "5"}), "sort_by": "count"}

    assert _ids(_list(params, things, fields), "id") == ["b", "a"]
    in_query = {"filter": _filter({"operation": 8, "key": "count", "int_values": {"values": [0, 10]}})}
    assert _ids(_list(in_query, things, fields), "id") == ["a", "c"]  # no created_at: sorted by id


def test_equals_exposes_an_equality_predicate_for_the_store():
    query = parse_list_query(
        {"filter": _filter({"operation": 1, "key": "display_name", "stringValue": "exp-a"})},
        EXPERIMENT_FIELDS,
    )
    assert query.equals("display_name") == "exp-a"
    assert query.equals("namespace") is None


# ---------------------------------------------------------------------------------------------------------
# filter: bad queries

BAD_FILTERS = [
    pytest.param("not json", "not valid JSON", id="bad-json"),
    pytest.param("[1]", "JSON object", id="not-an-object"),
    pytest.param('{"predicates": {}}', "must be a list", id="predicates-not-a-list"),
    pytest.param('{"predicate": []}', "'predicate'", id="unknown-top-level-field"),
    pytest.param(_filter("display_name"), "JSON object", id="predicate-not-an-object"),
    pytest.param(_filter({"operation": 1, "stringValue": "x"}), "missing 'key'", id="missing-key"),
    pytest.param(
        _filter({"operation": 1, "key": "colour", "stringValue": "x"}), "'colour'", id="unknown-key"
    ),
    pytest.param(
        _filter({"key": "display_name", "stringValue": "x"}), "missing operation", id="missing-operation"
    ),
    pytest.param(
        _filter({"operation": "LIKE", "key": "display_name", "stringValue": "x"}), "'LIKE'", id="op-name"
    ),
    pytest.param(
        _filter({"operation": 4, "key": "display_name", "stringValue": "x"}), "operation 4", id="op-4"
    ),
    pytest.param(
        _filter({"operation": 0, "key": "display_name", "stringValue": "x"}), "operation 0", id="op-0"
    ),
    pytest.param(
        _filter({"operation": "OPERATION_UNSPECIFIED", "key": "display_name", "stringValue": "x"}),
        "OPERATION_UNSPECIFIED",
        id="op-unspecified",
    ),
    pytest.param(
        _filter({"operation": True, "key": "display_name", "stringValue": "x"}), "True", id="op-bool"
    ),
    pytest.param(_filter({"operation": 1, "key": "display_name"}), "missing value", id="missing-value"),
    pytest.param(
        _filter({"operation": 1, "key": "display_name", "stringValue": None}),
        "missing value",
        id="null-value",
    ),
    pytest.param(
        _filter({"operation": 1, "key": "display_name", "stringValue": "x", "string_value": "y"}),
        "more than one value",
        id="two-values",
    ),
    pytest.param(
        _filter({"operation": 1, "key": "display_name", "value": "x"}),
        "'value'",
        id="unknown-predicate-field",
    ),
    pytest.param(
        _filter({"operation": 1, "key": "display_name", "intValue": 3}),
        "intValue does not fit a string field",
        id="int-on-string-field",
    ),
    pytest.param(
        _filter({"operation": 1, "key": "created_at", "stringValue": "2024-01-01T00:00:00Z"}),
        "stringValue does not fit a timestamp field",
        id="string-on-timestamp-field",
    ),
    pytest.param(
        _filter({"operation": 1, "key": "state", "timestampValue": "2024-01-01T00:00:00Z"}),
        "does not fit a enum field",
        id="timestamp-on-enum-field",
    ),
    pytest.param(
        _filter({"operation": 1, "key": "display_name", "stringValue": 7}),
        "string value expected",
        id="number-as-string-value",
    ),
    pytest.param(
        _filter({"operation": 9, "key": "created_at", "longValue": "1"}),
        "IS_SUBSTRING",
        id="substring-on-timestamp",
    ),
    pytest.param(
        _filter({"operation": 9, "key": "display_name", "stringValues": {"values": ["a"]}}),
        "only allowed with IN",
        id="substring-with-list",
    ),
    pytest.param(
        _filter({"operation": 8, "key": "state", "stringValue": "FAILED"}), "IN needs", id="in-with-scalar"
    ),
    pytest.param(
        _filter({"operation": 1, "key": "state", "stringValues": {"values": ["FAILED"]}}),
        "only allowed with IN",
        id="list-without-in",
    ),
    pytest.param(
        _filter({"operation": 8, "key": "state", "stringValues": ["FAILED"]}),
        "'values'",
        id="list-not-wrapped",
    ),
    pytest.param(
        _filter({"operation": 8, "key": "state", "stringValues": {"values": ["FAILED", 3]}}),
        "string value expected",
        id="list-with-wrong-element",
    ),
    pytest.param(
        _filter({"operation": 3, "key": "created_at", "timestampValue": "yesterday"}),
        "bad timestamp 'yesterday'",
        id="bad-timestamp",
    ),
    pytest.param(
        _filter({"operation": 3, "key": "created_at", "timestampValue": 1704067200}),
        "RFC3339",
        id="timestamp-not-a-string",
    ),
    pytest.param(
        _filter({"operation": 3, "key": "created_at", "longValue": "soon"}), "'soon'", id="long-not-integer"
    ),
    pytest.param(
        _filter({"operation": 3, "key": "created_at", "intValue": True}), "True", id="int-value-bool"
    ),
    pytest.param(
        _filter({"operation": 3, "key": "created_at", "intValue": 1.5}), "1.5", id="int-value-fraction"
    ),
]


@pytest.mark.parametrize(("raw", "message"), BAD_FILTERS)
def test_bad_filter_is_invalid_argument_naming_the_problem(raw, message):
    with pytest.raises(InvalidArgument) as caught:
        parse_list_query({"filter": raw}, RUN_FIELDS)
    assert caught.value.http_status == 400
    assert message in caught.value.message


def test_filter_on_a_key_of_another_resource_is_rejected():
    with pytest.raises(InvalidArgument, match="'state'"):
        parse_list_query(
            {"filter": _filter({"operation": 1, "key": "state", "stringValue": "x"})}, PIPELINE_FIELDS
        )


# ---------------------------------------------------------------------------------------------------------
# page_size and sort_by


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, 20),
        ({"page_size": ""}, 20),
        ({"page_size": "0"}, 20),
        ({"page_size": "1"}, 1),
        ({"page_size": " 7 "}, 7),
        ({"page_size": "200"}, 200),
        ({"page_size": "201"}, 200),
        ({"page_size": "100000"}, 200),
    ],
)
def test_page_size_defaults_to_20_and_is_clamped_to_200(params, expected):
    assert parse_list_query(params, RUN_FIELDS).page_size == expected


def test_no_query_params_at_all_is_the_default_query():
    query = parse_list_query(None, RUN_FIELDS)
    assert (query.page_size, query.sort, query.predicates, query.after) == (
        20,
        SortOrder("created_at"),
        (),
        None,
    )


@pytest.mark.parametrize("raw", ["-1", "abc", "1.5", "10x"])
def test_bad_page_size_is_invalid_argument_naming_the_value(raw):
    with pytest.raises(InvalidArgument, match=raw.replace(".", r"\.")):
        parse_list_query({"page_size": raw}, RUN_FIELDS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", SortOrder("created_at")),
        ("display_name", SortOrder("display_name")),
        ("display_name asc", SortOrder("display_name")),
        ("display_name desc", SortOrder("display_name", descending=True)),
        ("DISPLAY_NAME DESC", SortOrder("display_name", descending=True)),
        ("  created_at   Desc ", SortOrder("created_at", descending=True)),
    ],
)
def test_sort_by_accepts_field_and_optional_direction_in_any_case(raw, expected):
    assert parse_list_query({"sort_by": raw}, RUN_FIELDS).sort == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("colour", "'colour'"),
        ("display_name sideways", "'sideways'"),
        ("display_name asc please", "display_name asc please"),
        ("last_run_created_at", "'last_run_created_at'"),  # an experiment field, not a run field
    ],
)
def test_bad_sort_by_is_invalid_argument_naming_it(raw, message):
    with pytest.raises(InvalidArgument) as caught:
        parse_list_query({"sort_by": raw}, RUN_FIELDS)
    assert message in caught.value.message


def test_sort_by_name_descending():
    assert _ids(_list({"sort_by": "display_name desc"})) == ["r3", "r5", "r2", "r4", "r1"]


def test_default_sort_orders_timestamps_as_instants_with_missing_first():
    assert _ids(_list({})) == ["r5", "r1", "r2", "r3", "r4"]


def test_sort_ties_are_broken_by_id():
    runs = [{"run_id": rid, "state": "FAILED"} for rid in ("c", "a", "b")]
    assert _ids(_list({"sort_by": "state"}, runs)) == ["a", "b", "c"]


def test_enum_sort_ignores_case():
    runs = [{"run_id": "1", "state": "running"}, {"run_id": "2", "state": "FAILED"}]
    assert _ids(_list({"sort_by": "state"}, runs)) == ["2", "1"]


# ---------------------------------------------------------------------------------------------------------
# paging


def _many_runs() -> list[dict]:
    """60 runs, 45 of them in e1; created_at repeats so sorting has ties to break."""
    return [
        {
            "run_id": f"run-{i:02d}",
            "experiment_id": "e1" if i % 4 else "e2",
            "created_at": f"2024-02-{1 + i % 20:02d}T10:00:00Z",
        }
        for i in range(60)
    ]


E1 = _filter({"operation": 1, "key": "experiment_id", "stringValue": "e1"})


def _page_through(runs: list[dict], first: dict[str, str], follow: dict[str, str]) -> list[Page]:
    pages = [_list(first, runs)]
    while pages[-1].next_page_token:
        assert len(pages) < 10
        pages.append(_list({**follow, "page_token": pages[-1].next_page_token}, runs))
    return pages


def _expected_desc(runs: list[dict]) -> list[str]:
    matching = [r for r in runs if r["experiment_id"] == "e1"]
    return [r["run_id"] for r in sorted(matching, key=lambda r: (r["created_at"], r["run_id"]), reverse=True)]


def test_paging_45_filtered_runs_desc_by_20_repeating_sort_and_filter():
    runs = _many_runs()
    params = {"filter": E1, "sort_by": "created_at desc", "page_size": "20"}

    pages = _page_through(runs, params, params)

    assert [len(p.items) for p in pages] == [20, 20, 5]
    assert [p.total_size for p in pages] == [45, 45, 45]
    assert [rid for p in pages for rid in _ids(p)] == _expected_desc(runs)
    assert pages[-1].next_page_token == ""


def test_paging_with_token_alone_keeps_the_tokens_sort_and_filter():
    runs = _many_runs()
    first = {"filter": E1, "sort_by": "created_at desc", "page_size": "20"}
    # kfp.Client sends sort_by= and no filter when only page_token is given.
    follow = {"sort_by": "", "page_size": "20", "namespace": ""}

    pages = _page_through(runs, first, follow)

    assert [rid for p in pages for rid in _ids(p)] == _expected_desc(runs)
    assert {p.total_size for p in pages} == {45}


def test_paging_accepts_the_same_filter_spelled_differently():
    runs = _many_runs()
    first = {"filter": E1, "page_size": "20"}
    token = _list(first, runs).next_page_token
    same = _filter({"key": "experiment_id", "operation": "EQUALS", "string_value": "e1"})

    page = _list({"filter": same, "page_token": token, "sort_by": "created_at asc"}, runs)

    assert len(page.items) == 20


def test_page_size_may_change_between_pages():
    runs = _many_runs()
    token = _list({"page_size": "50"}, runs).next_page_token

    page = _list({"page_size": "5", "page_token": token}, runs)

    assert len(page.items) == 5 and page.next_page_token


def test_exact_multiple_of_page_size_has_no_empty_last_page():
    runs = [{"run_id": f"r{i}"} for i in range(40)]
    pages = _page_through(runs, {"page_size": "20"}, {"page_size": "20"})
    assert [len(p.items) for p in pages] == [20, 20]


@pytest.mark.parametrize(
    "follow",
    [
        {"sort_by": "created_at asc"},
        {"sort_by": "display_name desc"},
        {"filter": _filter({"operation": 1, "key": "experiment_id", "stringValue": "e2"})},
        {"filter": '{"predicates": []}'},
    ],
)
def test_token_with_a_different_sort_or_filter_is_rejected(follow):
    token = _list(
        {"filter": E1, "sort_by": "created_at desc", "page_size": "20"}, _many_runs()
    ).next_page_token

    with pytest.raises(InvalidArgument, match="page_token"):
        parse_list_query({**follow, "page_token": token}, RUN_FIELDS)


def _token(doc: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "not a token!",
        "eyJ",
        _token([1, 2]),
        _token({"sort": "last_run_created_at", "desc": False, "filter": [], "value": 0, "id": "x"}),
        _token({"sort": "created_at", "desc": False, "filter": [], "value": "late", "id": "x"}),
        _token({"sort": "created_at", "desc": "no", "filter": [], "value": 0, "id": "x"}),
        _token(
            {
                "sort": "created_at",
                "desc": False,
                "filter": [["colour", "EQUALS", "x"]],
                "value": 0,
                "id": "x",
            }
        ),
        _token(
            {"sort": "created_at", "desc": False, "filter": [["state", "LIKE", "x"]], "value": 0, "id": "x"}
        ),
    ],
)
def test_token_that_does_not_decode_for_this_resource_is_rejected(token):
    with pytest.raises(InvalidArgument, match="Invalid page_token"):
        parse_list_query({"page_token": token}, RUN_FIELDS)


# ---------------------------------------------------------------------------------------------------------
# response shape


def test_list_response_of_nothing_is_an_empty_object():
    assert list_response("experiments", Page(items=[], total_size=0, next_page_token="")) == {}


def test_list_response_has_items_total_and_token():
    page = Page(items=[{"run_id": "r1"}], total_size=3, next_page_token="abc")
    assert list_response("runs", page) == {
        "runs": [{"run_id": "r1"}],
        "total_size": 3,
        "next_page_token": "abc",
    }


def test_list_response_of_last_page_omits_the_token():
    page = _list({"page_size": "10"})
    assert list_response("recurringRuns", page) == {"recurringRuns": RUNS_SORTED_BY_CREATION, "total_size": 5}


RUNS_SORTED_BY_CREATION = [RUNS[4], RUNS[0], RUNS[1], RUNS[2], RUNS[3]]


def test_operation_numbers_match_kfp():
    assert {op.name: op.value for op in Operation} == {
        "EQUALS": 1,
        "NOT_EQUALS": 2,
        "GREATER_THAN": 3,
        "GREATER_THAN_EQUALS": 5,
        "LESS_THAN": 6,
        "LESS_THAN_EQUALS": 7,
        "IN": 8,
        "IS_SUBSTRING": 9,
    }


@pytest.mark.parametrize(
    ("fields", "id_key", "keys"),
    [
        (
            EXPERIMENT_FIELDS,
            "experiment_id",
            {
                "experiment_id",
                "display_name",
                "created_at",
                "last_run_created_at",
                "description",
                "namespace",
                "storage_state",
            },
        ),
        (
            PIPELINE_FIELDS,
            "pipeline_id",
            {"pipeline_id", "display_name", "name", "created_at", "description", "namespace"},
        ),
        (
            PIPELINE_VERSION_FIELDS,
            "pipeline_version_id",
            {"pipeline_version_id", "display_name", "name", "created_at", "description", "pipeline_spec"},
        ),
        (
            RUN_FIELDS,
            "run_id",
            {
                "run_id",
                "display_name",
                "created_at",
                "finished_at",
                "scheduled_at",
                "description",
                "storage_state",
                "namespace",
                "experiment_id",
                "state",
                "recurring_run_id",
            },
        ),
        (
            RECURRING_RUN_FIELDS,
            "recurring_run_id",
            {"recurring_run_id", "display_name", "created_at", "updated_at", "description", "pipeline_id"},
        ),
    ],
)
def test_resource_tables_list_kfps_sortable_keys(fields, id_key, keys):
    assert fields.id_key == id_key
    assert set(fields.keys) == keys
