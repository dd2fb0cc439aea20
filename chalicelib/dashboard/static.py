"""The dashboard's pages: `GET /` (the single HTML page) and `GET /dashboard/{asset}` (its ES modules, CSS and
icons), read from `chalicelib/dashboard/assets/` so `chalice package` ships them. No build step."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import chalice
from chalice import Blueprint

dashboard_static = Blueprint(__name__)

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
    match = _ASSET_NAME.match(asset)
    text = _asset(asset) if match else None
    if text is None:
        return _page(f"no dashboard file named {asset!r}", "text/plain; charset=utf-8", 404)
    return _page(text, _CONTENT_TYPES[match.group(1)])
