"""Pipelines the dashboard journeys run, written with the real kfp SDK and compiled in the tests (no
`from __future__ import annotations`: kfp reads the annotations as types)."""

from pathlib import Path

from kfp import compiler, dsl
from kfp.dsl import (
    HTML,
    Artifact,
    ClassificationMetrics,
    Markdown,
    Metrics,
    Output,
    SlicedClassificationMetrics,
)


@dsl.component
def prepare(rows: int, label: str) -> list:
    print(f"preparing {rows} rows for {label}")
    return [f"{label}-{index}" for index in range(3)]


@dsl.component
def train(item: str, learning_rate: float, metrics: Output[Metrics]) -> float:
    print(f"training on {item} with learning rate {learning_rate}")
    score = round(0.5 + learning_rate, 3)
    metrics.log_metric("accuracy", score)
    metrics.log_metric("loss", round(1 - score, 3))
    return score


# A 2 × 2 red PNG.
CHART_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg=="
)


@dsl.component
def evaluate(
    rows: int,
    chart_png: str,
    report: Output[Markdown],
    matrix: Output[ClassificationMetrics],
    metrics: Output[Metrics],
    page: Output[HTML],
    chart: Output[Artifact],
    sliced: Output[SlicedClassificationMetrics],
):
    import base64

    print("evaluating")
    with open(page.path, "w") as handle:
        handle.write("<h1>Scores page</h1><script>document.title = 'scripts ran'</script>")
    with open(chart.path, "wb") as handle:
        handle.write(base64.b64decode(chart_png))
    # kfp 2.17.3's SlicedClassificationMetrics methods fail on an artifact the executor made (its
    # `_sliced_metrics` is never set), so write the metadata in the shape those methods would.
    sliced.metadata["evaluationSlices"] = [
        {
            "slice": name,
            "sliceClassificationMetrics": {
                "confidenceMetrics": [
                    {"confidenceThreshold": 1.0, "recall": 0.0, "falsePositiveRate": 0.0},
                    {"confidenceThreshold": 0.5, "recall": tpr, "falsePositiveRate": 0.2},
                    {"confidenceThreshold": 0.0, "recall": 1.0, "falsePositiveRate": 1.0},
                ]
            },
        }
        for name, tpr in (("cats", 0.9), ("dogs", 0.7))
    ]
    with open(report.path, "w") as handle:
        handle.write(
            f"# Evaluation report\n\nScored **{rows}** rows.\n\n| class | f1 |\n|---|---|\n| cat | 0.91 |\n| dog | 0.88 |\n"
        )
    matrix.log_confusion_matrix(["cat", "dog"], [[9, 1], [2, 8]])
    matrix.log_roc_curve([0.0, 0.2, 1.0], [0.0, 0.8, 1.0], [1.0, 0.5, 0.0])
    metrics.log_metric("rows", rows)
    metrics.log_metric("f1", 0.9)


@dsl.component
def announce(message: str):
    print(f"announcing: {message}")


@dsl.pipeline(name="dashboard-demo", description="Loops, a condition and rich artifacts")
def demo_pipeline(rows: int = 100, label: str = "batch", learning_rate: float = 0.1, publish: bool = True):
    items = prepare(rows=rows, label=label)
    with dsl.ParallelFor(items.output, parallelism=2) as item:
        train(item=item, learning_rate=learning_rate)
    evaluated = evaluate(rows=rows, chart_png=CHART_PNG)
    evaluated.after(items)
    with dsl.If(publish == True):  # noqa: E712 - kfp builds the condition from the comparison
        announce(message=label)


@dsl.component
def sleep_for(seconds: int):
    import time

    print("sleeping", flush=True)
    time.sleep(seconds)


@dsl.pipeline(name="dashboard-sleeper")
def sleeper_pipeline(seconds: int = 60):
    sleep_for(seconds=seconds)


@dsl.component
def fail_once(marker: str):
    import os

    if not os.path.exists(marker):
        open(marker, "w").close()
        raise SystemExit("failing on purpose the first time")
    print("second try works")


@dsl.pipeline(name="dashboard-flaky")
def flaky_pipeline(marker: str = "/tmp/never"):
    fail_once(marker=marker)


def compile_to(pipeline, path: Path) -> Path:
    compiler.Compiler().compile(pipeline, str(path))
    return path
