"""OIDC/Cognito user-pool JWTs as bearer tokens: RS256 signatures checked against the pool's JWKS, then `exp`,
`nbf`, `iss` and `aud` (or Cognito access tokens' `client_id`). The namespaces come from a configured claim.

The signature check is PKCS#1 v1.5 with SHA-256 done with the standard library's `pow` (verification needs
only the public key; no crypto dependency in the Lambda package). The JWKS is cached per process (a warm Lambda)
and fetched again when a token names a key id it does not hold (key rotation), at most once per
`REFETCH_INTERVAL_SECONDS`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import threading
import time
import urllib.request
from typing import Any

from chalicelib.auth.principal import Principal
from chalicelib.settings import OidcSettings

LEEWAY_SECONDS = 60
REFETCH_INTERVAL_SECONDS = 30
FETCH_TIMEOUT_SECONDS = 5
# DER prefix of a DigestInfo holding a SHA-256 digest (RFC 8017 §9.2, note 1).
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


class InvalidJwt(Exception):
    """The JWT is malformed, badly signed, expired, not yet valid, or for another issuer or audience."""


@dataclasses.dataclass(frozen=True)
class RsaKey:
    modulus: int
    exponent: int


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidJwt("malformed JWT: bad base64url") from exc


def _b64_int(text: str) -> int:
    return int.from_bytes(_b64decode(text), "big")


def rs256_signature_holds(key: RsaKey, signing_input: bytes, signature: bytes) -> bool:
    """Whether `signature` is the RSASSA-PKCS1-v1_5 SHA-256 signature of `signing_input` under `key`."""
    size = (key.modulus.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    value = int.from_bytes(signature, "big")
    if value >= key.modulus:
        return False
    encoded = pow(value, key.exponent, key.modulus).to_bytes(size, "big")
    digest_info = _SHA256_DIGEST_INFO + hashlib.sha256(signing_input).digest()
    padding = size - len(digest_info) - 3
    if padding < 8:
        return False
    expected = b"\x00\x01" + b"\xff" * padding + b"\x00" + digest_info
    return hmac.compare_digest(encoded, expected)


class KeySet:
    """The RSA signing keys of one JWKS URL by key id, fetched on first use and again for an unknown id."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._keys: dict[str, RsaKey] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str) -> RsaKey:
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= REFETCH_INTERVAL_SECONDS:
                self._keys = self._fetch()
                self._fetched_at = time.monotonic()
            found = self._keys.get(kid)
        if found is None:
            raise InvalidJwt(f"JWT signed with unknown key id {kid!r}")
        return found

    def _fetch(self) -> dict[str, RsaKey]:
        try:
            with urllib.request.urlopen(self._url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
                document = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise InvalidJwt(f"cannot read the signing keys from {self._url}: {exc}") from exc
        keys = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if entry.get("kty") == "RSA" and entry.get("use", "sig") == "sig" and "kid" in entry:
                keys[entry["kid"]] = RsaKey(_b64_int(entry["n"]), _b64_int(entry["e"]))
        return keys


_key_sets: dict[str, KeySet] = {}
_key_sets_lock = threading.Lock()


def key_set(url: str) -> KeySet:
    """The process's cached key set of `url`."""
    with _key_sets_lock:
        return _key_sets.setdefault(url, KeySet(url))


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidJwt("malformed bearer token: neither an API token (kfps_...) nor a JWT")
    try:
        header, claims = json.loads(_b64decode(parts[0])), json.loads(_b64decode(parts[1]))
    except ValueError as exc:
        raise InvalidJwt("malformed JWT: header or claims are not JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise InvalidJwt("malformed JWT: header and claims must be JSON objects")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), _b64decode(parts[2])


def _check_claims(settings: OidcSettings, claims: dict[str, Any], now: float) -> None:
    exp, nbf = claims.get("exp"), claims.get("nbf", 0)
    if not isinstance(exp, int | float) or not isinstance(nbf, int | float):
        raise InvalidJwt("JWT needs a numeric exp (and nbf, if any)")
    if now > exp + LEEWAY_SECONDS:
        raise InvalidJwt("JWT expired")
    if now + LEEWAY_SECONDS < nbf:
        raise InvalidJwt("JWT not valid yet")
    if claims.get("iss") != settings.issuer:
        raise InvalidJwt("JWT from another issuer")
    audience = claims.get("aud", claims.get("client_id"))
    audiences = audience if isinstance(audience, list) else [audience]
    if settings.audience not in audiences:
        raise InvalidJwt("JWT for another audience")


def _claimed_namespaces(settings: OidcSettings, claims: dict[str, Any]) -> frozenset[str]:
    value = claims.get(settings.namespaces_claim, [])
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidJwt(f"JWT claim {settings.namespaces_claim} must be a list of namespaces")
    return frozenset(value)


def principal_of_jwt(settings: OidcSettings, token: str, now: float | None = None) -> Principal:
    """The principal a user-pool JWT stands for. InvalidJwt."""
    header, claims, signing_input, signature = _segments(token)
    if header.get("alg") != "RS256":
        raise InvalidJwt(f"JWT algorithm {header.get('alg')!r} is not accepted (RS256 only)")
    key = key_set(settings.keys_url).key(str(header.get("kid", "")))
    if not rs256_signature_holds(key, signing_input, signature):
        raise InvalidJwt("JWT signature does not verify")
    _check_claims(settings, claims, time.time() if now is None else now)
    groups = _claimed_namespaces(settings, claims)
    admin = settings.admin_group in groups
    subject = str(claims.get("sub") or claims.get("username") or "")
    return Principal(f"oidc:{subject}", groups - {settings.admin_group}, admin, "oidc")
