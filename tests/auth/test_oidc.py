"""OIDC/Cognito JWTs: RS256 signatures checked against a JWKS served over HTTP, keys cached and fetched again for
an unknown key id, and the exp/nbf/iss/aud claims. The keys are generated here; the JWTs signed with them."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from chalicelib.auth import oidc
from chalicelib.auth.oidc import InvalidJwt, principal_of_jwt
from chalicelib.settings import OidcSettings
from tests.support.loopback_http import Served, serving

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test"
AUDIENCE = "client-123"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


class Jwks:
    """Keys by id, served as a JWKS document by a loopback HTTP server that counts its fetches."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.server: Served | None = None

    @property
    def fetches(self) -> int:
        assert self.server is not None
        return self.server.requests

    def add(self, kid: str) -> rsa.RSAPrivateKey:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.keys[kid]

    def document(self) -> dict[str, Any]:
        entries = []
        for kid, key in self.keys.items():
            numbers = key.public_key().public_numbers()
            entries.append(
                {
                    "kty": "RSA",
                    "kid": kid,
                    "use": "sig",
                    "alg": "RS256",
                    "n": _int(numbers.n),
                    "e": _int(numbers.e),
                }
            )
        return {"keys": entries}

    def sign(
        self, kid: str, claims: dict[str, Any], alg: str = "RS256", key: rsa.RSAPrivateKey | None = None
    ) -> str:
        header = _b64(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
        body = _b64(json.dumps(claims).encode())
        signer = key or self.keys[kid]
        signature = signer.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{body}.{_b64(signature)}"


@pytest.fixture
def jwks(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Jwks, OidcSettings]]:
    served = Jwks()
    monkeypatch.setattr(oidc, "_key_sets", {})
    monkeypatch.setattr(oidc, "REFETCH_INTERVAL_SECONDS", 0)
    with serving(lambda: json.dumps(served.document()).encode(), "/jwks.json") as server:
        served.server = server
        yield served, OidcSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url=server.url)


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "alice",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now + 600,
        "iat": now,
        "cognito:groups": ["team-a"],
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def test_a_signed_jwt_gives_its_groups_as_namespaces(jwks) -> None:
    served, settings = jwks
    served.add("k1")
    principal = principal_of_jwt(settings, served.sign("k1", claims()))
    assert (principal.subject, principal.namespaces, principal.admin, principal.source) == (
        "oidc:alice",
        frozenset({"team-a"}),
        False,
        "oidc",
    )


def test_the_admin_group_grants_admin_and_access_tokens_use_client_id(jwks) -> None:
    served, settings = jwks
    served.add("k1")
    token = served.sign(
        "k1", claims(aud=None, client_id=AUDIENCE, **{"cognito:groups": ["kfp-admin", "team-b"]})
    )
    principal = principal_of_jwt(settings, token)
    assert principal.admin and principal.namespaces == {"team-b"}


def test_keys_are_cached_and_fetched_again_for_an_unknown_key_id(jwks) -> None:
    served, settings = jwks
    served.add("k1")
    principal_of_jwt(settings, served.sign("k1", claims()))
    principal_of_jwt(settings, served.sign("k1", claims()))
    assert served.fetches == 1
    served.add("k2")  # the pool rotated its keys
    assert principal_of_jwt(settings, served.sign("k2", claims())).namespaces == {"team-a"}
    assert served.fetches == 2
    with pytest.raises(InvalidJwt, match="unknown key id"):
        principal_of_jwt(settings, served.sign("k9", claims(), key=served.keys["k1"]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"iss": "https://evil.example"}, "another issuer"),
        ({"aud": "other-client"}, "another audience"),
        ({"exp": None}, "numeric exp"),
    ],
)
def test_claims_out_of_bounds_are_refused(jwks, changes, message) -> None:
    served, settings = jwks
    served.add("k1")
    with pytest.raises(InvalidJwt, match=message):
        principal_of_jwt(settings, served.sign("k1", claims(**changes)))


def test_a_forged_or_tampered_jwt_is_refused(jwks) -> None:
    served, settings = jwks
    served.add("k1")
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidJwt, match="signature"):
        principal_of_jwt(settings, served.sign("k1", claims(), key=forger))
    header, body, signature = served.sign("k1", claims()).split(".")
    widened = _b64(json.dumps(claims(**{"cognito:groups": ["kfp-admin"]})).encode())
    with pytest.raises(InvalidJwt, match="signature"):
        principal_of_jwt(settings, f"{header}.{widened}.{signature}")
    with pytest.raises(InvalidJwt, match="RS256 only"):
        principal_of_jwt(settings, served.sign("k1", claims(), alg="none"))
    with pytest.raises(InvalidJwt, match="malformed"):
        principal_of_jwt(settings, "not.a-jwt")
