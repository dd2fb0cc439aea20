"""The dashboard's pages: `GET /` (the single HTML page) and `GET /dashboard/{asset}` (its ES modules, CSS and
icons), read from `chalicelib/dashboard/assets/` so `chalice package` ships them, and `GET /dashboard/sign-in.json`
(what the sign-in page offers). No build step. All public: nothing here reads the store."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import chalice
from chalice import Blueprint

from chalicelib import runtime
from chalicelib.settings import OidcSettings

dashboard_static = Blueprint(__name__)

# `GET /dashboard/sign-in.json`: the identity provider's sign-in, if the deployment has one.
SIGN_IN_OPTIONS = "sign-in.json"

ASSETS = Path(__file__).resolve().parent / "assets"
_ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*\.(js|css|svg)$")
_CONTENT_TYPES = {
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "html": "text/html; charset=utf-8",
}
# Artifact previews: HTML goes into a sandboxed srcdoc frame, images are data: or blob: URLs.
_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "frame-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'self'"
)


@functools.cache
def _asset(name: str) -> str | None:
    path = ASSETS / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def sign_in_options(oidc: OidcSettings) -> dict:
    """What the sign-in page offers besides pasting a token (public: no secret in it)."""
    if not (oidc.enabled and oidc.authorize_url):
        return {}
    return {"oidc": {"authorize_url": oidc.authorize_url, "client_id": oidc.audience, "scope": "openid"}}


def _page(body: str, content_type: str, status: int = 200) -> chalice.Response:
    headers = {"Content-Type": content_type, "Cache-Control": "no-cache", "Content-Security-Policy": _POLICY}
    return chalice.Response(body=body, status_code=status, headers=headers)


def base_path(index_path: str) -> str:
    """Where the app is mounted, from the path the index page was requested at (`/` locally, `/<stage>` or
    `/<stage>/` behind API Gateway), always ending in `/`, so relative URLs in the page resolve under it."""
    return index_path.rstrip("/") + "/"


@dashboard_static.route("/", methods=["GET"])
def index() -> chalice.Response:
    context = dashboard_static.current_request.context or {}
    base = base_path(context.get("path") or "/")
    html = (_asset("index.html") or "").replace("{{base}}", base)
    return _page(html, _CONTENT_TYPES["html"])


@dashboard_static.route("/dashboard/{asset}", methods=["GET"])
def asset(asset: str) -> chalice.Response:
    if asset == SIGN_IN_OPTIONS:
        return _page(json.dumps(sign_in_options(runtime.current().settings.oidc)), "application/json")
    match = _ASSET_NAME.match(asset)
    text = _asset(asset) if match else None
    if text is None:
        return _page(f"no dashboard file named {asset!r}", "text/plain; charset=utf-8", 404)
    return _page(text, _CONTENT_TYPES[match.group(1)])
