"""A chain of uncached container steps as KFP IR (no `from __future__ import annotations` here: kfp reads the component
signature's real types)."""

from pathlib import Path
from typing import Any


def chain_pipeline(steps: int) -> dict[str, Any]:
    """The IR of `steps` container steps in a chain, each running `sleep <seconds>` (a pipeline input)."""
    import tempfile

    import yaml
    from kfp import compiler, dsl

    @dsl.container_component
    def step(seconds: int):
        return dsl.ContainerSpec(image="alpine:3.20", command=["sleep"], args=[seconds])

    @dsl.pipeline(name=f"chain-of-{steps}")
    def chain(seconds: int = 1):
        previous = None
        for _ in range(steps):
            task = step(seconds=seconds).set_caching_options(False)
            if previous is not None:
                task.after(previous)
            previous = task

    with tempfile.TemporaryDirectory() as directory:
        package = Path(directory) / "chain.yaml"
        compiler.Compiler().compile(chain, str(package))
        return yaml.safe_load(package.read_text())
