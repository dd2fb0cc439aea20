"""The one check every route goes through (the app's HTTP middleware calls `serve_authenticated`): the request
is authenticated (401 in KFP's error shape when it cannot be), then served as its principal, with
`runtime.current()` scoped to the principal's namespaces (`auth.scoped_store`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import chalice

from chalicelib import runtime
from chalicelib.api.errors import error_response
from chalicelib.auth.authentication import authenticate
from chalicelib.auth.errors import Unauthenticated
from chalicelib.auth.request_principal import serving_as
from chalicelib.auth.scoped_store import scoped_store
from chalicelib.runtime import Runtime
from chalicelib.timestamps import now_text


def serve_authenticated(
    current: Runtime,
    request: chalice.app.Request,
    get_response: Callable[[chalice.app.Request], chalice.Response],
) -> chalice.Response:
    try:
        principal = authenticate(current.settings, current.store.tokens, request.headers or {}, now_text())
    except Unauthenticated as exc:
        response = error_response(exc)
        response.headers["WWW-Authenticate"] = 'Bearer realm="kfp-serverless"'
        return response
    except Exception as exc:  # noqa: BLE001 - the token store failed: a logged 500, never a pass
        return error_response(exc)
    scoped = dataclasses.replace(current, store=scoped_store(current.store, principal))
    with serving_as(principal), runtime.serving(scoped):
        return get_response(request)
