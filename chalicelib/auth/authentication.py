"""Who a request is: the bearer token of its `Authorization` header checked against the API tokens or, when the
deployment configures OIDC, as a user-pool JWT. Open mode (multi-user off) makes everyone the open principal."""

from __future__ import annotations

from collections.abc import Mapping

from chalicelib.auth.errors import Unauthenticated
from chalicelib.auth.principal import OPEN_PRINCIPAL, Principal
from chalicelib.auth.tokens import InvalidToken, looks_like_api_token, principal_of_token
from chalicelib.settings import Settings
from chalicelib.store.protocols import TokenStore


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an `Authorization: Bearer <token>` header. Unauthenticated when absent or malformed."""
    header = (headers.get("authorization") or "").strip()
    if not header:
        raise Unauthenticated("missing Authorization header: send 'Authorization: Bearer <token>'")
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential or " " in credential:
        raise Unauthenticated("malformed Authorization header: expected 'Bearer <token>'")
    return credential


def authenticate(settings: Settings, tokens: TokenStore, headers: Mapping[str, str], now: str) -> Principal:
    """The principal of a request with these headers at time `now` (RFC3339). Unauthenticated."""
    if not settings.multi_user:
        return OPEN_PRINCIPAL
    credential = bearer_token(headers)
    if looks_like_api_token(credential):
        try:
            return principal_of_token(tokens, credential, now)
        except InvalidToken as exc:
            raise Unauthenticated(str(exc)) from exc
    if not settings.oidc.enabled:
        raise Unauthenticated("malformed bearer token: not an API token (kfps_...)")
    from chalicelib.auth.oidc import InvalidJwt, principal_of_jwt  # only deployments with OIDC pay the import

    try:
        return principal_of_jwt(settings.oidc, credential)
    except InvalidJwt as exc:
        raise Unauthenticated(str(exc)) from exc
