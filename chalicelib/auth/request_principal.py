"""The principal of the request being served: set by the app's middleware for the request's duration, read
through `current_principal()`. Nothing else per request is kept anywhere (a warm Lambda reuses everything)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from chalicelib.auth.principal import Principal

_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("kfps_principal", default=None)


def current_principal() -> Principal:
    """The principal of the request being served. RuntimeError outside a request (a route called without the
    app's middleware): failing closed, never open."""
    principal = _principal.get()
    if principal is None:
        raise RuntimeError("no authenticated principal: the request did not pass the app's middleware")
    return principal


@contextlib.contextmanager
def serving_as(principal: Principal) -> Iterator[None]:
    token = _principal.set(principal)
    try:
        yield
    finally:
        _principal.reset(token)


def request_namespace(given: str) -> str:
    """The namespace a request acts in for experiments, runs and recurring runs: the one it names, else the
    caller's only namespace (so `kfp.Client` with a one-namespace token works without naming it), else ""."""
    return given or current_principal().default_namespace()
