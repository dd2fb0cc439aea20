"""The large-run pipelines (kfp 2.17.3 SDK), built for a size given at bench time.

No `from __future__ import annotations` here: kfp reads the component signatures' annotations at runtime.
"""

from collections.abc import Callable

from kfp import dsl

BASE_IMAGE = "python:3.11"


@dsl.component(base_image=BASE_IMAGE)
def pass_item(item: int) -> int:
    """Return the loop item (a trivial task)."""
    return item


@dsl.component(base_image=BASE_IMAGE)
def add_one(x: int) -> int:
    """Return its input plus one."""
    return x + 1


def fan_out_pipeline(width: int) -> Callable[..., object]:
    """A ParallelFor of `width` trivial tasks (caching off: the runs must really execute)."""

    @dsl.pipeline(name=f"bench-fan-out-{width}")
    def pipeline():
        with dsl.ParallelFor(items=list(range(width))) as item:
            pass_item(item=item).set_caching_options(False)

    return pipeline


def chain_pipeline(length: int) -> Callable[..., object]:
    """`length` add-one steps, each consuming the previous step's output."""

    @dsl.pipeline(name=f"bench-chain-{length}")
    def pipeline(start: int = 0):
        task = add_one(x=start).set_caching_options(False)
        for _ in range(length - 1):
            task = add_one(x=task.output).set_caching_options(False)

    return pipeline


def small_pipeline() -> Callable[..., object]:
    """Three tasks: two independent, one after both."""

    @dsl.pipeline(name="bench-three-tasks")
    def pipeline(start: int = 0):
        first = add_one(x=start).set_caching_options(False)
        second = add_one(x=start).set_caching_options(False)
        add_one(x=first.output).after(second).set_caching_options(False)

    return pipeline
