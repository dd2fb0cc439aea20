"""The process-wide runtime the Chalice app's routes and Lambda handlers use: settings, store, reconcile kicker.

A Lambda builds it from its environment on first use (`current()`), once per container; the local stack and the
tests build their own and `install()` it before serving. While the app serves a request, `current()` is the
request's view of it (`serving`: its store scoped to the caller's namespaces), kept in a context variable,
never on shared objects.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import threading
from collections.abc import Iterator

from chalicelib.reconcile_kick import Kicker, kicker_for
from chalicelib.settings import Settings
from chalicelib.store import open_store
from chalicelib.store.protocols import Store


@dataclasses.dataclass(frozen=True)
class Runtime:
    settings: Settings
    store: Store
    kicker: Kicker


def build_runtime(settings: Settings) -> Runtime:
    return Runtime(settings, open_store(settings), kicker_for(settings))


_installed: Runtime | None = None
_lock = threading.Lock()
_serving: contextvars.ContextVar[Runtime | None] = contextvars.ContextVar(
    "kfps_request_runtime", default=None
)


@contextlib.contextmanager
def serving(runtime: Runtime) -> Iterator[None]:
    """Make `runtime` what `current()` returns in this context (one request) until the block ends."""
    token = _serving.set(runtime)
    try:
        yield
    finally:
        _serving.reset(token)


def install(runtime: Runtime | None) -> None:
    """Make `runtime` the one `current()` returns (None: build from the environment again on next use)."""
    global _installed
    with _lock:
        _installed = runtime


def installed() -> Runtime | None:
    """The installed runtime, if any (never builds one)."""
    return _installed


def current() -> Runtime:
    """The request's runtime while serving one, else the installed runtime, else the one the environment
    describes (built once)."""
    global _installed
    runtime = _serving.get() or _installed
    if runtime is not None:
        return runtime
    with _lock:
        if _installed is None:
            _installed = build_runtime(Settings.from_env())
        return _installed
