"""The `TokenStore` contract on both stores: create-if-absent, strongly consistent reads, the list, revocation."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from chalicelib.store.errors import AlreadyExists, NotFound
from chalicelib.store.protocols import Store
from chalicelib.store.records import ApiToken
from chalicelib.timestamps import now_text


def token(**changes: object) -> ApiToken:
    record = ApiToken(
        uuid.uuid4().hex[:16], "ab" * 32, ("team-a", "team-b"), False, now_text(), "", False, "ci"
    )
    return dataclasses.replace(record, **changes)


def test_a_created_token_reads_back_whole(any_store: Store) -> None:
    created = token(expires_at="2030-01-01T00:00:00Z")
    assert any_store.tokens.create_token(created) == created
    assert any_store.tokens.get_token(created.token_id) == created


def test_creating_a_taken_token_id_fails_and_keeps_the_first(any_store: Store) -> None:
    first = token()
    any_store.tokens.create_token(first)
    with pytest.raises(AlreadyExists):
        any_store.tokens.create_token(dataclasses.replace(first, admin=True, namespaces=()))
    assert any_store.tokens.get_token(first.token_id) == first


def test_a_missing_token_is_not_found(any_store: Store) -> None:
    with pytest.raises(NotFound):
        any_store.tokens.get_token("0" * 16)
    with pytest.raises(NotFound):
        any_store.tokens.revoke_token("0" * 16)


def test_revoking_is_seen_at_once_and_is_idempotent(any_store: Store) -> None:
    created = any_store.tokens.create_token(token(admin=True, namespaces=()))
    revoked = any_store.tokens.revoke_token(created.token_id)
    assert revoked == dataclasses.replace(created, revoked=True)
    assert any_store.tokens.get_token(created.token_id).revoked
    assert any_store.tokens.revoke_token(created.token_id).revoked


def test_the_list_holds_every_token_oldest_first(any_store: Store) -> None:
    older = any_store.tokens.create_token(token(created_at="2000-01-01T00:00:00Z"))
    newer = any_store.tokens.create_token(token())
    any_store.tokens.revoke_token(newer.token_id)
    listed = [found.token_id for found in any_store.tokens.list_tokens()]
    assert listed.index(older.token_id) < listed.index(newer.token_id)
