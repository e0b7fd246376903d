"""Greedy, deterministic placement of point labels that must not overlap.

Each label tries four spots around its point (right, left, above, below) and takes the
first one that stays inside the plotting area and overlaps nothing taken so far;
a label with no free spot is left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from monocycle_nash.plot.text import text_width

__all__ = ["Box", "Obstacles", "PlacedLabel", "place_labels"]

Box = tuple[float, float, float, float]
"""An axis-aligned box on the canvas: (x0, y0, x1, y1) in pixels, x0 <= x1, y0 <= y1."""

_CELL = 32.0  # grid cell of Obstacles, about the size of a short label
_LINE = 14.0  # height of a label's box


class Obstacles:
    """Boxes already taken on the canvas, bucketed on a grid for quick overlap tests."""

    def __init__(self) -> None:
        """Start with nothing taken."""
        self._cells: dict[tuple[int, int], list[Box]] = {}

    def _keys(self, box: Box) -> list[tuple[int, int]]:
        x0, y0, x1, y1 = box
        return [
            (cx, cy)
            for cx in range(math.floor(x0 / _CELL), math.floor(x1 / _CELL) + 1)
            for cy in range(math.floor(y0 / _CELL), math.floor(y1 / _CELL) + 1)
        ]

    def add(self, box: Box) -> None:
        """Mark ``box`` as taken."""
        for key in self._keys(box):
            self._cells.setdefault(key, []).append(box)

    def hits(self, box: Box) -> bool:
        """Return True when ``box`` overlaps a taken box."""
        x0, y0, x1, y1 = box
        for key in self._keys(box):
            for a0, b0, a1, b1 in self._cells.get(key, ()):
                if x0 < a1 and a0 < x1 and y0 < b1 and b0 < y1:
                    return True
        return False


@dataclass(frozen=True, slots=True)
class PlacedLabel:
    """A label that found a spot: its point's index, text, anchor position and text-anchor."""

    index: int
    text: str
    x: float
    y: float
    anchor: str


def place_labels(
    order: Sequence[int],
    texts: Sequence[str],
    *,
    centres: Mapping[int, tuple[float, float]],
    radius: Callable[[int], float],
    bounds: Box,
    points: Obstacles,
    font_size: float,
    over_points: Collection[int] = (),
) -> list[PlacedLabel]:
    """Place the labels of ``order`` (most important first); return those that fit.

    ``texts[i]`` is point i's label, ``centres[i]`` its centre and ``radius(i)`` its
    radius; labels stay inside ``bounds`` and never overlap each other. They also avoid
    the boxes in ``points``, except the labels of ``over_points``, which may cover them.
    """
    x_min, y_min, x_max, y_max = bounds
    labels = Obstacles()
    placed: list[PlacedLabel] = []
    for index in order:
        text = texts[index]
        width = text_width(text, font_size)
        cx, cy = centres[index]
        gap = radius(index) + 3
        spots = (
            (cx + gap, cy + 4, "start", cx + gap, cy - 8),
            (cx - gap, cy + 4, "end", cx - gap - width, cy - 8),
            (cx, cy - gap - 3, "middle", cx - width / 2, cy - gap - 15),
            (cx, cy + gap + 11, "middle", cx - width / 2, cy + gap - 1),
        )
        for x, y, anchor, box_x, box_y in spots:
            box = (box_x, box_y, box_x + width, box_y + _LINE)
            inside = x_min <= box[0] and box[2] <= x_max and y_min <= box[1] and box[3] <= y_max
            if not inside or labels.hits(box):
                continue
            if index not in over_points and points.hits(box):
                continue
            labels.add(box)
            placed.append(PlacedLabel(index, text, x, y, anchor))
            break
    return placed
