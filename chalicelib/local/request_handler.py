"""The local server's request handler: Chalice's, with the gaps an API Gateway would not leave.

- Any method the app does not route (TRACE, CONNECT, PROPFIND, ...) gets a 405 with a JSON error, as API Gateway
  answers, instead of the HTML 501 of Python's `BaseHTTPRequestHandler`.
- A path no route matches gets a JSON 404 that echoes no header (Chalice's echoes the Authorization header).
- A request Python's server cannot parse (a request line over 64 KiB, ...) gets its 4xx as JSON, not HTML.
- A body larger than the request limit, or a bad Content-Length, is refused before it is read (413/400).
- Nagle's algorithm is off: the handler writes a response's headers and body separately, and with Nagle on every
  request on a kept-alive connection (kfp.Client's) waits ~40 ms for the client's delayed ACK.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from chalice.local import ChaliceRequestHandler, ForbiddenError, LocalGatewayException

# The methods Chalice's handler serves; every other one is refused here.
ROUTED_METHODS = ("GET", "PUT", "POST", "HEAD", "DELETE", "PATCH", "OPTIONS")
GRPC_INVALID_ARGUMENT = 3
GRPC_NOT_FOUND = 5
GRPC_INTERNAL = 13
GRPC_UNIMPLEMENTED = 12


class LocalRequestHandler(ChaliceRequestHandler):
    disable_nagle_algorithm = True
    # Set by `request_handler`: the largest body (bytes) the server reads.
    max_request_bytes = 0

    def __getattr__(self, name: str) -> Callable[[], None]:
        # BaseHTTPRequestHandler looks up `do_<METHOD>`; the methods Chalice does not define land here.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Python's server answers a request it cannot parse (a line over 64 KiB: 414, a bad request line: 400)
        # with an HTML page; the API answers JSON.
        text = message or HTTPStatus(code).phrase
        self._refuse(code, GRPC_INVALID_ARGUMENT if code < 500 else GRPC_INTERNAL, text)

    def _method_not_allowed(self) -> None:
        self._refuse(405, GRPC_UNIMPLEMENTED, f"Method {self.command} is not allowed on {self.path}")

    def _generic_handle(self) -> None:
        raw_length = self.headers.get("content-length", "0")
        try:
            length = int(raw_length)
        except ValueError:
            length = -1
        if length < 0:
            self._refuse(400, GRPC_INVALID_ARGUMENT, f"Invalid Content-Length {raw_length!r}")
            return
        if self.max_request_bytes and length > self.max_request_bytes:
            message = f"Request body is {length} bytes; the limit is {self.max_request_bytes}"
            self._refuse(413, GRPC_INVALID_ARGUMENT, message)
            return
        super()._generic_handle()

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # Chalice's gateway refuses a path no route matches with a 403 whose body is built by string
        # formatting and echoes the Authorization header (a token, unescaped: not even valid JSON).
        if isinstance(error, ForbiddenError) and _is_no_route(error.body):
            self._refuse(404, GRPC_NOT_FOUND, f"No route for {self.command} {self.path}")
            return
        super()._send_error_response(error)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def _refuse(self, status: int, grpc_code: int, message: str) -> None:
        """Answer with a `google.rpc.Status` body and close the connection (an unread body may follow)."""
        body = json.dumps({"code": grpc_code, "message": message, "details": []}).encode()
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        if status == 405:
            self.send_header("Allow", ", ".join(ROUTED_METHODS))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


def _is_no_route(body: bytes | str | None) -> bool:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    return "Missing Authentication Token" in text or "Authorization header requires" in text


def request_handler(app: Any, config: Any, max_request_bytes: int) -> Callable[..., LocalRequestHandler]:
    """The handler class the local server builds per connection, bound to the app and the body limit."""

    class BoundHandler(LocalRequestHandler):
        pass

    BoundHandler.max_request_bytes = max_request_bytes

    def build(*args: Any, **kwargs: Any) -> LocalRequestHandler:
        return BoundHandler(*args, app_object=app, config=config, **kwargs)

    return build
