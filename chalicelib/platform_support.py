"""Whether a run's kubernetes platform spec asks only for what the pods can be given (used at creation).

A task never runs without something it asked for: a platform spec with a kfp-kubernetes field that no pod
part is made from (`executors/k8s/platform_config.py`) is refused when the run or recurring run is created,
with a 400 naming the executor and the field.
"""

from __future__ import annotations

from chalicelib.executors.k8s.platform_config import unsupported_fields
from chalicelib.spec.errors import UnsupportedPlatformFeature
from chalicelib.spec.package import PipelinePackage


def check_platform_support(package: PipelinePackage) -> None:
    """Raise UnsupportedPlatformFeature naming every executor config field that would be ignored."""
    kubernetes = ((package.platform_spec or {}).get("platforms") or {}).get("kubernetes") or {}
    executors = (kubernetes.get("deploymentSpec") or {}).get("executors") or {}
    problems = [
        f"{label} asks for {', '.join(fields)}"
        for label, config in sorted(executors.items())
        if (fields := unsupported_fields(config if isinstance(config, dict) else {}))
    ]
    if problems:
        raise UnsupportedPlatformFeature(
            "platform spec: unsupported kubernetes field(s): " + "; ".join(problems)
        )
