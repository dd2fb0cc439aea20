"""The launcher's own error type: anything that makes an attempt fail before or after the user command."""

from __future__ import annotations


class LauncherError(Exception):
    """A task cannot be prepared, run or collected (bad placeholder, missing input, unreadable output)."""
