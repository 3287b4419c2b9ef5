"""Small per-area charts of a child's assessments, drawn as plain SVG on the server (no script,
no style attribute: the strict CSP holds)."""

from __future__ import annotations

from dataclasses import dataclass

from minutes.assessments.services import AreaHistory

WIDTH = 180
HEIGHT = 48
PAD = 6


@dataclass(frozen=True)
class Spark:
    history: AreaHistory
    width: int
    height: int
    polyline: str
    dots: list[tuple[int, int, str, int]]  # x, y, day, step


def sparkline(history: AreaHistory) -> Spark:
    """The area's visible scores, oldest left; higher on the scale is higher in the chart."""
    count = len(history.points)
    span = max(history.steps - 1, 1)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    dots = []
    for index, (day, rank) in enumerate(history.points):
        x = PAD + (inner_w * index // (count - 1) if count > 1 else inner_w // 2)
        y = PAD + inner_h - inner_h * rank // span
        dots.append((x, y, day.isoformat(), rank))
    polyline = " ".join(f"{x},{y}" for x, y, _day, _rank in dots)
    return Spark(history, WIDTH, HEIGHT, polyline, dots)
