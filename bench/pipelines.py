"""The benchmark pipelines, written with the kfp 2.17.3 SDK.

No `from __future__ import annotations` here: kfp reads the component signatures' annotations at runtime.
"""

from collections.abc import Callable

from kfp import dsl

# Every task opts out of caching: kfp.local does not cache by default, and `kfp.Client`'s
# `enable_caching=False` only reaches the root DAG's tasks, not those inside a ParallelFor.
CHAIN_LENGTH = 10
FAN_OUT = 8
CHAIN_START = 0
BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def add_one(x: int) -> int:
    """Return its input plus one."""
    return x + 1


@dsl.component(base_image=BASE_IMAGE)
def sleep_one_second(item: int) -> int:
    """Sleep one second and return the loop item."""
    import time

    time.sleep(1)
    return item


@dsl.component(base_image=BASE_IMAGE)
def note_start() -> float:
    """Return the time the function started (the per-task overhead's end point)."""
    import time

    return time.time()


@dsl.pipeline(name="bench-chain")
def chain_pipeline(start: int = CHAIN_START):
    """CHAIN_LENGTH `add_one` steps, each consuming the previous step's output."""
    task = add_one(x=start).set_caching_options(False)
    for _ in range(CHAIN_LENGTH - 1):
        task = add_one(x=task.output).set_caching_options(False)


@dsl.pipeline(name="bench-parallel")
def parallel_pipeline():
    """A FAN_OUT-way ParallelFor of one-second tasks."""
    with dsl.ParallelFor(items=list(range(FAN_OUT))) as item:
        sleep_one_second(item=item).set_caching_options(False)


PIPELINES: dict[str, Callable[..., object]] = {
    "chain": chain_pipeline,
    "parallel": parallel_pipeline,
}
