"""API tokens: issued once as text, stored as a hash, checked for shape, secret, revocation and expiry."""

from __future__ import annotations

import hashlib
import json

import pytest

from chalicelib.auth.principal import OPEN_PRINCIPAL, Principal
from chalicelib.auth.tokens import InvalidToken, issue_token, principal_of_token
from chalicelib.store.protocols import TokenStore

NOW = "2026-06-01T00:00:00.000000Z"


def test_an_issued_token_authenticates_as_its_namespaces(tokens: TokenStore) -> None:
    issued = issue_token(tokens, ("team-b", "team-a", "team-a"), False, NOW, description="ci")
    principal = principal_of_token(tokens, issued.text, NOW)
    assert principal == Principal(
        f"token:{issued.record.token_id}", frozenset({"team-a", "team-b"}), False, "token"
    )
    assert issued.record.namespaces == ("team-a", "team-b")


def test_only_the_hash_of_the_secret_is_stored(tokens: TokenStore) -> None:
    issued = issue_token(tokens, ("team-a",), False, NOW)
    secret = issued.text.split("_", 2)[2]
    stored = tokens.get_token(issued.record.token_id)
    assert stored.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps([list(map(str, vars(t).values())) for t in [stored]])


@pytest.mark.parametrize("text", ["kfps_", "kfps_zz_secret", "bearer", "kfps_0123456789abcdef_short"])
def test_a_malformed_token_is_refused(tokens: TokenStore, text: str) -> None:
    with pytest.raises(InvalidToken, match="malformed"):
        principal_of_token(tokens, text, NOW)


def test_a_wrong_secret_or_unknown_id_is_refused(tokens: TokenStore) -> None:
    issued = issue_token(tokens, ("team-a",), False, NOW)
    prefix, token_id, secret = issued.text.split("_", 2)
    wrong = f"{prefix}_{token_id}_{'A' * len(secret)}"
    with pytest.raises(InvalidToken, match="unknown"):
        principal_of_token(tokens, wrong, NOW)
    with pytest.raises(InvalidToken, match="unknown"):
        principal_of_token(tokens, f"{prefix}_{'0' * 16}_{secret}", NOW)


def test_a_revoked_token_is_refused(tokens: TokenStore) -> None:
    issued = issue_token(tokens, ("team-a",), False, NOW)
    tokens.revoke_token(issued.record.token_id)
    with pytest.raises(InvalidToken, match="revoked"):
        principal_of_token(tokens, issued.text, NOW)


def test_an_expired_token_is_refused(tokens: TokenStore) -> None:
    issued = issue_token(tokens, ("team-a",), False, NOW, expires_at="2026-06-01T01:00:00.000000Z")
    assert principal_of_token(tokens, issued.text, "2026-06-01T00:59:59.000000Z").namespaces == {"team-a"}
    with pytest.raises(InvalidToken, match="expired"):
        principal_of_token(tokens, issued.text, "2026-06-01T01:00:00.000000Z")


@pytest.mark.parametrize("namespaces", [(), ("Team_A",), ("",), ("a" * 64,)])
def test_a_token_granting_nothing_or_a_bad_namespace_is_not_issued(tokens: TokenStore, namespaces) -> None:
    with pytest.raises(ValueError):
        issue_token(tokens, namespaces, False, NOW)
    assert list(tokens.list_tokens()) == []


def test_namespace_rules_of_principals() -> None:
    member = Principal("u", frozenset({"team-a"}), False, "token")
    assert member.may_read("team-a") and member.may_write("team-a")
    assert not member.may_read("team-b") and not member.may_write("team-b")
    assert member.may_read("", shared=True) and not member.may_read("") and not member.may_write("")
    assert member.default_namespace() == "team-a"
    admin = Principal("a", frozenset(), True, "token")
    assert admin.may_write("") and admin.may_read("team-b") and admin.default_namespace() == ""
    assert OPEN_PRINCIPAL.unrestricted


def test_the_scoped_store_wraps_every_method_of_the_record_protocols() -> None:
    """A method added to a protocol but not to its scoped wrapper would reach past the namespace check."""
    from chalicelib.auth.scoped_store import ScopedCatalog, ScopedRecurringRunStore, ScopedRunStore
    from chalicelib.store.protocols import Catalog, RecurringRunStore, RunStore

    for protocol, wrapper in (
        (Catalog, ScopedCatalog),
        (RunStore, ScopedRunStore),
        (RecurringRunStore, ScopedRecurringRunStore),
    ):
        methods = {name for name in vars(protocol) if not name.startswith("_")}
        assert methods <= set(vars(wrapper)), methods - set(vars(wrapper))
