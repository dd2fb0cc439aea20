"""Embedded AWS for `kfps up --aws` and the tests: moto's server app on a werkzeug server on loopback.

Two differences from moto's `ThreadedMotoServer`: the port is bound in the caller's thread, so a taken port
raises `PortInUse` at once (moto's binds in its server thread and then waits forever), and DynamoDB requests
are served one at a time, because moto's DynamoDB backend is not thread-safe (its `transact_write_items`
deep-copies tables while other requests write: "dictionary changed size during iteration" → 500s under
load). Other services (S3, the task pods' traffic) are served concurrently, as moto does.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib.local.ports import bound_or_refused


class _DynamoOneAtATime:
    """A WSGI app that runs the wrapped app's DynamoDB requests (`X-Amz-Target: DynamoDB_...`) one at a time,
    their request bodies read before and their responses read inside the lock; other requests pass through."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            return self._app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length) if length else b"")
        with self._lock:
            body = self._app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()


def _listening_socket(host: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError:
        listener.close()
        raise
    return listener


class EmbeddedAws:
    """Start with `start()` (PortInUse when the port is taken), stop with `stop()`."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmbeddedAws:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        app = _DynamoOneAtATime(DomainDispatcherApplication(create_backend_app))
        # Bind here (werkzeug would print its own message and exit on a taken port), then hand the socket over.
        listener = bound_or_refused(lambda: _listening_socket(self.host, self.port), self.port, "--aws-port")
        self.port = listener.getsockname()[1]
        self._server = make_server(
            self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler, fd=listener.fileno()
        )
        listener.close()  # werkzeug made its own socket object from a duplicate of the descriptor
        self._thread = threading.Thread(target=self._server.serve_forever, name="kfps-aws", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
