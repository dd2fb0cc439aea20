"""The reference: run a pipeline with `kfp.local`'s SubprocessRunner (no venv) and time it."""

from __future__ import annotations

import builtins
import contextlib
import io
import logging
import time
from collections.abc import Callable
from pathlib import Path


def init_kfp_local(pipeline_root: Path) -> None:
    """Start a kfp.local session that runs each task as a subprocess of this interpreter's environment."""
    from kfp import local

    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=str(pipeline_root))


def time_kfp_local(pipeline: Callable[..., object]) -> float:
    """Run `pipeline` with kfp.local (synchronously) and return its wall time in seconds.

    kfp.local prints every task's log; that output is swallowed, and a failure raises. Its ParallelFor
    threads can leave `builtins.print` replaced by an indenting wrapper; the original is put back."""
    sink = io.StringIO()
    kfp_logger = logging.getLogger("kfp")
    level = kfp_logger.level
    original_print = builtins.print
    kfp_logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            started = time.perf_counter()
            pipeline()
            return time.perf_counter() - started
    finally:
        kfp_logger.setLevel(level)
        builtins.print = original_print
