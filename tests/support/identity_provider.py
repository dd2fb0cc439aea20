"""A stand-in OIDC identity provider on loopback: RSA keys generated here, served as a JWKS (`/jwks.json`,
fetches counted), JWTs signed with them, and an authorization endpoint (`/authorize`) that signs the user in
at once and sends the browser back to `redirect_uri` with `#id_token=...&state=...` (the implicit flow)."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test"
AUDIENCE = "client-123"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _int(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def claims(**changes: Any) -> dict[str, Any]:
    """An ID token's claims for alice in team-a, valid for 10 minutes; a change of None removes the claim."""
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


class Jwks:
    """Keys by id; their public halves as a JWKS document; JWTs signed with them."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0

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
        header = b64url(json.dumps({"alg": alg, "kid": kid, "typ": "JWT"}).encode())
        body = b64url(json.dumps(claims).encode())
        signer = key or self.keys[kid]
        signature = signer.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{header}.{body}.{b64url(signature)}"


class IdentityProvider:
    """`Jwks` over HTTP on a free loopback port, with `/authorize` signing in as `sign_in_claims()`."""

    def __init__(self, jwks: Jwks, sign_in_claims: Callable[[], dict[str, Any]] = claims) -> None:
        self.jwks = jwks
        self.authorize_requests: list[dict[str, str]] = []
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urllib.parse.urlsplit(self.path)
                if url.path == "/authorize":
                    query = dict(urllib.parse.parse_qsl(url.query))
                    provider.authorize_requests.append(query)
                    kid = next(iter(jwks.keys))
                    fragment = urllib.parse.urlencode(
                        {"id_token": jwks.sign(kid, sign_in_claims()), "state": query.get("state", "")}
                    )
                    self.send_response(302)
                    self.send_header("Location", f"{query['redirect_uri']}#{fragment}")
                    self.end_headers()
                    return
                jwks.fetches += 1
                body = json.dumps(jwks.document()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
