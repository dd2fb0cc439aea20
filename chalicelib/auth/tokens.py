"""API tokens: `kfps_<id>_<secret>`, the id naming the stored record, the secret 256 random bits of which only
the SHA-256 is stored. `issue_token` makes one (the text is shown once), `principal_of_token` checks one."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets

from chalicelib.auth.principal import Principal
from chalicelib.store.errors import NotFound
from chalicelib.store.protocols import TokenStore
from chalicelib.store.records import ApiToken

PREFIX = "kfps"
_TOKEN = re.compile(r"kfps_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class InvalidToken(Exception):
    """The token is malformed, unknown, expired or revoked; the message says which (never the secret)."""


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    text: str  # shown once, never stored
    record: ApiToken


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_namespace_name(namespace: str) -> str:
    """A KFP namespace is a Kubernetes namespace name (DNS label). ValueError otherwise."""
    if not _NAMESPACE.fullmatch(namespace):
        raise ValueError(f"namespace {namespace!r} must be a DNS label (lower-case letters, digits, '-')")
    return namespace


def issue_token(
    tokens: TokenStore,
    namespaces: tuple[str, ...],
    admin: bool,
    created_at: str,
    expires_at: str = "",
    description: str = "",
) -> IssuedToken:
    """Store a new token granting `namespaces` (or all, with `admin`) and return its text. ValueError for a
    token that would grant nothing or a bad namespace name."""
    names = tuple(sorted({check_namespace_name(namespace) for namespace in namespaces}))
    if not names and not admin:
        raise ValueError("a token needs at least one namespace, or admin")
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    record = ApiToken(token_id, _digest(secret), names, admin, created_at, expires_at, False, description)
    tokens.create_token(record)
    return IssuedToken(f"{PREFIX}_{token_id}_{secret}", record)


def looks_like_api_token(text: str) -> bool:
    return text.startswith(PREFIX + "_")


def principal_of_token(tokens: TokenStore, text: str, now: str) -> Principal:
    """The principal an API token stands for at time `now` (RFC3339). InvalidToken."""
    match = _TOKEN.fullmatch(text)
    if match is None:
        raise InvalidToken("malformed API token")
    token_id, secret = match.groups()
    try:
        record = tokens.get_token(token_id)
    except NotFound as exc:
        raise InvalidToken("unknown API token") from exc
    if not hmac.compare_digest(record.secret_sha256, _digest(secret)):
        raise InvalidToken("unknown API token")
    if record.revoked:
        raise InvalidToken(f"API token {token_id} is revoked")
    if record.expires_at and record.expires_at <= now:
        raise InvalidToken(f"API token {token_id} expired at {record.expires_at}")
    return Principal(f"token:{token_id}", frozenset(record.namespaces), record.admin, "token")
