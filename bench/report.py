"""Figures with targets, medians, and the printed table."""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Iterable, Sequence


@dataclasses.dataclass(frozen=True)
class Figure:
    """One measured figure against its target (`value <= target` passes)."""

    name: str
    value: float
    target: float
    unit: str  # "x" (a ratio) or "ms"
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.value <= self.target

    def as_dict(self) -> dict[str, object]:
        return {**dataclasses.asdict(self), "passed": self.passed}


def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def seconds_list(values: Sequence[float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def format_value(value: float, unit: str) -> str:
    return f"{value:.2f}×" if unit == "x" else f"{value:.0f} ms"


def format_figure(figure: Figure) -> str:
    verdict = "PASS" if figure.passed else "MISS"
    value = format_value(figure.value, figure.unit)
    target = format_value(figure.target, figure.unit)
    return f"  {figure.name:<34} {value:>9}  target ≤ {target:<8} {verdict}  {figure.detail}"


def print_table(title: str, figures: Sequence[Figure], notes: Sequence[str] = ()) -> None:
    print(f"\n{title}")
    for figure in figures:
        print(format_figure(figure))
    for note in notes:
        print(f"  {note}")
