"""Choosing the executor from settings: a table of builders, each importing its machinery lazily (the
kubernetes client is imported only when the Kubernetes executor is built, never by the API Lambda)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chalicelib.executors.protocol import Executor
from chalicelib.settings import Settings


def _local(settings: Settings, on_change: Callable[[], None] | None, max_parallel: int) -> Executor:
    from chalicelib.executors.local import LocalExecutor

    data_dir = Path(settings.local_data_dir or "/tmp/kfps")
    return LocalExecutor(
        data_dir, max_parallel=max_parallel, on_change=on_change, prewarm=settings.local_prewarm
    )


def _kubernetes(settings: Settings, on_change: Callable[[], None] | None, max_parallel: int) -> Executor:
    from chalicelib.executors.k8s import build_kubernetes_executor

    return build_kubernetes_executor(settings)


BUILDERS: dict[str, Callable[[Settings, Callable[[], None] | None, int], Executor]] = {
    "local": _local,
    "kubernetes": _kubernetes,
}


def build_executor(
    settings: Settings, on_change: Callable[[], None] | None = None, max_parallel: int = 0
) -> Executor:
    try:
        builder = BUILDERS[settings.executor]
    except KeyError:
        raise ValueError(
            f"unknown executor {settings.executor!r}; choose one of {sorted(BUILDERS)}"
        ) from None
    return builder(settings, on_change, max_parallel)
