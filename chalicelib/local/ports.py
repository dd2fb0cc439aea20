"""Ports of the local stack: a free one for tests, and one clear error when a port is taken."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from typing import TypeVar

Server = TypeVar("Server")


class PortInUse(Exception):
    """A port the stack needs is taken; the message names the port and the option that changes it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bound_or_refused(bind: Callable[[], Server], port: int, option: str) -> Server:
    """`bind()` (which creates a listening server), or PortInUse naming `port` and `option`."""
    try:
        return bind()
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise PortInUse(f"port {port} is already in use; choose another with {option} N") from exc
        raise
