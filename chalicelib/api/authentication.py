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
from chalicelib.auth.principal import ANONYMOUS, Principal
from chalicelib.auth.request_principal import serving_as
from chalicelib.auth.scoped_store import scoped_store
from chalicelib.observability.logs import logger
from chalicelib.runtime import Runtime
from chalicelib.timestamps import now_text

# Routes anyone may call: healthz (kfp.Client calls it in its constructor; it tells only `multi_user`) and the
# dashboard's static files (no data: the pages call the API with the user's token). They serve as ANONYMOUS.
PUBLIC_ROUTES = frozenset({"/apis/v2beta1/healthz", "/apis/v1beta1/healthz", "/", "/dashboard/{asset}"})


def serve_authenticated(
    current: Runtime,
    request: chalice.app.Request,
    get_response: Callable[[chalice.app.Request], chalice.Response],
) -> chalice.Response:
    public = (request.context or {}).get("resourcePath") in PUBLIC_ROUTES
    try:
        if public and current.settings.multi_user:
            principal = ANONYMOUS
        else:
            principal = authenticate(
                current.settings, current.store.tokens, request.headers or {}, now_text()
            )
    except Unauthenticated as exc:
        # The reason names a token by its id at most, never its secret.
        logger().info("request not authenticated", extra={"reason": str(exc), "path": request.path})
        response = error_response(exc)
        response.headers["WWW-Authenticate"] = 'Bearer realm="kfp-serverless"'
        return response
    except Exception as exc:  # noqa: BLE001 - the token store failed: a logged 500, never a pass
        return error_response(exc)
    return _serve(current, principal, request, get_response)


def _serve(
    current: Runtime,
    principal: Principal,
    request: chalice.app.Request,
    get_response: Callable[[chalice.app.Request], chalice.Response],
) -> chalice.Response:
    scoped = dataclasses.replace(current, store=scoped_store(current.store, principal))
    with serving_as(principal), runtime.serving(scoped):
        return get_response(request)
