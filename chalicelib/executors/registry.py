"""Choosing the executor from settings: a table of builders, each importing its machinery lazily (the
kubernetes client is imported only when the Kubernetes executor is built, never by the API Lambda)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from chalicelib.executors.protocol import Executor
from chalicelib.settings import Settings
from chalicelib.store.protocols import Store

Builder = Callable[[Settings, Store, Callable[[], None] | None, int], Executor]


def _local(
    settings: Settings, store: Store, on_change: Callable[[], None] | None, max_parallel: int
) -> Executor:
    from chalicelib.executors.local import LocalExecutor

    data_dir = Path(settings.local_data_dir or "/tmp/kfps")
    return LocalExecutor(
        data_dir,
        max_parallel=max_parallel,
        on_change=on_change,
        base_env=settings.aws.environment() if settings.aws.endpoint_url else {},
        prewarm=settings.local_prewarm,
    )


def _kubernetes(
    settings: Settings, store: Store, on_change: Callable[[], None] | None, max_parallel: int
) -> Executor:
    from chalicelib.executors.k8s import build_kubernetes_executor

    return build_kubernetes_executor(settings, store)


BUILDERS: dict[str, Builder] = {"local": _local, "kubernetes": _kubernetes}


def build_executor(
    settings: Settings, store: Store, on_change: Callable[[], None] | None = None, max_parallel: int = 0
) -> Executor:
    try:
        builder = BUILDERS[settings.executor]
    except KeyError:
        raise ValueError(
            f"unknown executor {settings.executor!r}; choose one of {sorted(BUILDERS)}"
        ) from None
    return builder(settings, store, on_change, max_parallel)
