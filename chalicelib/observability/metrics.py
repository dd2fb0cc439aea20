"""The functions' metrics: powertools Metrics writing CloudWatch embedded metric format (EMF) to stdout, in the
namespace `POWERTOOLS_METRICS_NAMESPACE` with the one dimension `stage` (names in `metric_names.py`).

Off until `configure` names a namespace: the local stack and the tests that do not look at metrics never
collect any (and never print EMF). A Lambda configures them at the start of each invocation from its settings
and flushes once at its end (`invocations.py`), one EMF document per invocation (powertools also flushes early
when one metric reaches 100 values). powertools is imported on the first metric, not at import.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from chalicelib.observability.metric_names import STAGE_DIMENSION, MetricName

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

_lock = threading.Lock()
_namespace = ""
_stage = ""
_metrics: Metrics | None = None


def configure(namespace: str, stage: str) -> None:
    """Collect metrics in `namespace` with dimension stage=`stage`; an empty namespace turns them off (and
    drops what was collected)."""
    global _namespace, _stage, _metrics
    with _lock:
        if (namespace, stage) == (_namespace, _stage):
            return
        if _metrics is not None:
            _metrics.clear_metrics()
            _metrics.clear_default_dimensions()
        _namespace, _stage, _metrics = namespace, stage, None


def enabled() -> bool:
    return bool(_namespace)


def _collector() -> Metrics:
    global _metrics
    if _metrics is None:
        from aws_lambda_powertools import Metrics

        # service="": no `service` dimension (the dashboard and alarms select on `stage` alone), whatever
        # POWERTOOLS_SERVICE_NAME says.
        _metrics = Metrics(namespace=_namespace, service="")
        _metrics.set_default_dimensions(**{STAGE_DIMENSION: _stage})
    return _metrics


def add(metric: MetricName, value: float = 1) -> None:
    """Add one value of `metric` (nothing when metrics are off)."""
    if not _namespace:
        return
    with _lock:
        if _namespace:
            _collector().add_metric(name=metric.name, unit=metric.unit.value, value=value)


def flush() -> None:
    """Write what was collected as one EMF document on stdout (nothing when nothing was collected)."""
    if not _namespace:
        return
    with _lock:
        if _metrics is not None and _metrics.metric_set:
            _metrics.flush_metrics()
