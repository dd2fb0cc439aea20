"""Running the same pipeline under `kfp.local` (SubprocessRunner, no venv) to compare outputs with ours."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

_LOCK = threading.Lock()


def run_locally(pipeline_func: Callable[..., Any], pipeline_root: Path, **arguments: Any) -> dict[str, Any]:
    """The pipeline's outputs by name as kfp.local computes them (artifacts as kfp `dsl.Artifact` objects)."""
    import kfp.local

    with _LOCK:
        kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False), pipeline_root=str(pipeline_root))
        task = pipeline_func(**arguments)
    return dict(task.outputs)
