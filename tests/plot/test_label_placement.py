"""Label placement: labels stay inside the area, never overlap, and skip taken points."""

from __future__ import annotations

from monocycle_nash.plot.label_placement import Obstacles, place_labels
from monocycle_nash.plot.text import text_width

FONT = 12.0


def _box(x: float, y: float, anchor: str, text: str) -> tuple[float, float, float, float]:
    width = text_width(text, FONT)
    left = {"start": x, "end": x - width, "middle": x - width / 2}[anchor]
    return (left, y - 12, left + width, y + 2)


def test_crowded_labels_never_overlap_and_stay_inside() -> None:
    """Forty points on a small grid: every placed label is inside and overlaps no other."""
    centres = {index: (50.0 + 12 * (index % 8), 50.0 + 12 * (index // 8)) for index in range(40)}
    texts = [f"label {index}" for index in range(40)]
    placed = place_labels(
        range(40),
        texts,
        centres=centres,
        radius=lambda index: 3.0,
        bounds=(0.0, 0.0, 200.0, 200.0),
        points=Obstacles(),
        font_size=FONT,
    )
    boxes = [_box(label.x, label.y, label.anchor, label.text) for label in placed]
    assert 0 < len(placed) < 40
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        assert x0 >= 0 and y0 >= 0 and x1 <= 200 and y1 <= 200
        for a0, b0, a1, b1 in boxes[i + 1 :]:
            assert not (x0 < a1 and a0 < x1 and y0 < b1 and b0 < y1)


def test_points_block_labels_except_for_the_chosen_ones() -> None:
    """A point box to the right pushes an ordinary label left; an over_points label keeps right."""
    points = Obstacles()
    points.add((108.0, 90.0, 160.0, 110.0))

    def anchor(over_points: set[int]) -> str:
        [label] = place_labels(
            [0],
            ["A"],
            centres={0: (100.0, 100.0)},
            radius=lambda index: 3.0,
            bounds=(0.0, 0.0, 300.0, 300.0),
            points=points,
            font_size=FONT,
            over_points=over_points,
        )
        return label.anchor

    assert (anchor(set()), anchor({0})) == ("end", "start")
