"""Run lists (v2beta1 and v1beta1): a page straight from the store's run index when the query's sort and filter
are index-served, else the whole scope read and paged in memory (`listing.paginate`, bounded).

Index-served: sort by created_at, ascending or descending (ties by run id), with no filter, `state EQUALS`,
`storage_state EQUALS` or `storage_state NOT_EQUALS` (a run is AVAILABLE or ARCHIVED, so "not ARCHIVED" is
"AVAILABLE"), or a state and a storage-state predicate together (the dashboard's runs tab with a state
filter). The scope is the experiment's runs when an experiment is given, else the namespace's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from chalicelib.api.listing import (
    DEFAULT_SORT_FIELD,
    Cursor,
    ListQuery,
    Operation,
    Page,
    cursor_timestamp,
    index_page,
    paginate,
    timestamp_cursor_value,
)
from chalicelib.store.protocols import RunStore
from chalicelib.store.records import ARCHIVED, AVAILABLE, Run, RunListing

INDEX_SERVED = (
    "sort_by 'created_at' or 'created_at desc' with no filter, or with state EQUALS and/or storage_state "
    "EQUALS or NOT_EQUALS"
)
_OTHER_STORAGE_STATE = {ARCHIVED: AVAILABLE, AVAILABLE: ARCHIVED}


@dataclasses.dataclass(frozen=True)
class RunScope:
    """Whose runs a list shows: the experiment's when `experiment_id` is set, else the namespace's."""

    namespace: str = ""
    experiment_id: str = ""

    @property
    def token_scope(self) -> str:
        """What a page token of this list is bound to."""
        return f"experiment:{self.experiment_id}" if self.experiment_id else f"namespace:{self.namespace}"


def run_page(
    runs: RunStore,
    scope: RunScope,
    query: ListQuery,
    to_api: Callable[[Run], dict[str, Any]],
    filter_served: bool = True,
) -> Page:
    """One page of the scope's visible runs as `to_api` shapes them. `filter_served`: whether the query's
    predicates name the v2 run fields the index holds (False for API versions whose filters differ)."""
    listing = _index_listing(scope, query, filter_served)
    if listing is None:
        found = runs.list_runs(scope.namespace, scope.experiment_id)
        visible = (to_api(run) for run in found if not run.delete_requested)
        return paginate(visible, query, INDEX_SERVED)
    page = runs.page_runs(listing)
    last = page.runs[-1] if page.runs else None
    cursor = Cursor(timestamp_cursor_value(last.created_at), last.run_id) if last else None
    return index_page([to_api(run) for run in page.runs], query, cursor, page.more, page.total)


def _index_listing(scope: RunScope, query: ListQuery, filter_served: bool) -> RunListing | None:
    """The store listing that serves `query`, or None when the index cannot."""
    if query.sort.field != DEFAULT_SORT_FIELD or len(query.predicates) > 2:
        return None
    if query.predicates and not filter_served:
        return None
    state = storage_state = ""
    for predicate in query.predicates:
        value = predicate.value
        if not isinstance(value, str):
            return None
        if predicate.key == "state" and predicate.operation is Operation.EQUALS and not state:
            state = value
        elif predicate.key != "storage_state" or storage_state:
            return None
        elif predicate.operation is Operation.EQUALS:
            storage_state = value
        elif predicate.operation is Operation.NOT_EQUALS and value in _OTHER_STORAGE_STATE:
            storage_state = _OTHER_STORAGE_STATE[value]
        else:
            return None
    after = None
    if query.after is not None:
        after = (cursor_timestamp(query.after.value), query.after.id)
    return RunListing(
        namespace=scope.namespace,
        experiment_id=scope.experiment_id,
        descending=query.sort.descending,
        state=state,
        storage_state=storage_state,
        limit=query.page_size,
        after=after,
    )
