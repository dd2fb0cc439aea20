"""A loopback HTTP server answering every GET with what `body()` returns (JWKS documents, packages by URL),
counting the requests it served."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any


@dataclasses.dataclass
class Served:
    url: str
    requests: int = 0


@contextlib.contextmanager
def serving(body: Callable[[], bytes], path: str = "/") -> Iterator[Served]:
    served = Served("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            served.requests += 1
            data = body()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    served.url = f"http://127.0.0.1:{server.server_port}{path}"
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
