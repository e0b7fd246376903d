"""Where two games differ: a heat map of ``X - R`` beside both equilibria (``comparison.svg``).

Rows and columns are the strategies in the game's order; a cell is red where the game
X pays the row strategy more than the reference R does against that column, blue where
it pays less, white where they agree, on a scale symmetric about 0 (the largest
``|X - R|`` is full colour); the largest difference is outlined. To the right of each
row, two bars: the strategy's probability in the game's equilibrium and in the
reference's. Above, the distances of ``compare.Comparison``.

A game of more than ``max_strategies`` strategies shows those where the games differ
most (the largest ``|X - R|`` in their row or column), still in the game's order, and a
note on the rest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from monocycle_nash.compare import Comparison
from monocycle_nash.plot.svg import SvgBuilder, fmt, format_number
from monocycle_nash.plot.text import shorten, text_width
from monocycle_nash.text import plural

__all__ = ["DIVERGING_STOPS", "MAX_HEATMAP_STRATEGIES", "comparison_svg", "diverging_color"]

MAX_HEATMAP_STRATEGIES = 40
"""The most strategies the heat map shows; a larger game shows where it differs most."""

DIVERGING_STOPS: tuple[tuple[int, int, int], ...] = (
    (33, 102, 172),
    (146, 197, 222),
    (247, 247, 247),
    (244, 165, 130),
    (178, 24, 43),
)
"""Blue (negative) to white (0) to red (positive): a colour-blind-safe diverging map."""

_MARGIN = 20.0
_FONT = 12.0
_SMALL = 11.0
_MAX_LABEL_WIDTH = 130.0
_HEAT_SIZE = 480.0  # the heat map's side when cells are neither too small nor too large
_MIN_CELL, _MAX_CELL = 10.0, 36.0
_BAR_PANEL = 170.0
_LEGEND_STEPS = 11
_LEGEND_STEP = 24.0
_GAME_COLOR = "#3b528b"
_REFERENCE_COLOR = "#e08214"
_MUTED = "#666666"
_CAPTION_TOP = 58.0
_MIN_WIDTH = 720.0


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where the heat map is: the strategies ``shown`` (indices), its top-left corner, the
    side of a cell, and the left edge of the bars."""

    shown: list[int]
    left: float
    top: float
    cell: float
    bars_left: float


def diverging_color(t: float) -> str:
    """The ``#rrggbb`` of ``t`` in [-1, 1] (clamped) on ``DIVERGING_STOPS``."""
    t = min(1.0, max(-1.0, t))
    position = (t + 1.0) / 2.0 * (len(DIVERGING_STOPS) - 1)
    index = min(int(position), len(DIVERGING_STOPS) - 2)
    frac = position - index
    low, high = DIVERGING_STOPS[index], DIVERGING_STOPS[index + 1]
    return "#" + "".join(f"{round(a + (b - a) * frac):02x}" for a, b in zip(low, high, strict=True))


def _shown(difference: Sequence[Sequence[float]], limit: int) -> list[int]:
    """The strategies to draw: all, or the ``limit`` with the largest ``|X - R|`` in their
    row or column (ties by index), in the game's order."""
    size = len(difference)
    if size <= limit:
        return list(range(size))
    score = [max(map(abs, row)) for row in difference]
    for row in difference:
        for j, value in enumerate(row):
            score[j] = max(score[j], abs(value))
    ranked = sorted(range(size), key=lambda i: (-score[i], i))
    return sorted(ranked[:limit])


def _caption_lines(comparison: Comparison) -> list[str]:
    row, column = comparison.max_element_at
    first = (
        f"max |X - R| {format_number(comparison.max_element)} at ({row}, {column}) · "
        f"equilibrium_u {format_number(comparison.equilibrium_u)} · "
        f"strategy L1 {format_number(comparison.strategy_l1)}"
    )
    lines = [
        first,
        f"R exploits X's equilibrium by {format_number(comparison.reference_exploitability)}"
        f" · X exploits R's by {format_number(comparison.game_exploitability)}",
    ]
    if comparison.relative_spectral_error is not None:
        lines.append(
            f"spectral norm |X - R|₂ = {format_number(comparison.relative_spectral_error)} |R|₂"
        )
    return lines


def comparison_svg(
    comparison: Comparison,
    *,
    max_strategies: int = MAX_HEATMAP_STRATEGIES,
    game_name: str | None = None,
    reference_name: str | None = None,
) -> str:
    """Draw ``comparison`` (module docstring) as a standalone, deterministic SVG document.

    ``game_name`` and ``reference_name`` name the two games in the legend (default:
    their sources). Each heat-map cell is a ``<rect class="cell">`` with ``data-row``,
    ``data-column`` and ``data-difference``; each bar a ``<rect class="bar game">`` or
    ``<rect class="bar reference">`` with ``data-label`` and ``data-probability``.
    """
    if max_strategies < 1:
        raise ValueError(f"max_strategies must be at least 1, got {max_strategies}")
    labels = comparison.labels
    difference = comparison.difference()
    shown = _shown(difference, max_strategies)
    count = len(shown)
    game_name = comparison.game_source if game_name is None else game_name
    reference_name = comparison.reference_source if reference_name is None else reference_name

    label_texts = [shorten(labels[i], _MAX_LABEL_WIDTH, _FONT) for i in shown]
    label_width = max([24.0, *(text_width(text, _FONT) for text in label_texts)])
    cell = min(_MAX_CELL, max(_MIN_CELL, _HEAT_SIZE / count))
    side = cell * count
    captions = _caption_lines(comparison)
    notes: list[str] = []
    if count < len(labels):
        drawn = set(shown)
        hidden = [i for i in range(len(labels)) if i not in drawn]
        game_mass = math.fsum(comparison.game_equilibrium.row_strategy[i] for i in hidden)
        reference_mass = math.fsum(comparison.reference_equilibrium.row_strategy[i] for i in hidden)
        notes.append(
            f"Showing the {count} of {len(labels)} strategies where the games differ most; "
            f"{plural(len(hidden), 'other strategy', 'other strategies')} hold probability "
            f"{format_number(game_mass, 3)} (X) and {format_number(reference_mass, 3)} (R)."
        )

    left = _MARGIN + label_width + 8.0
    top = _CAPTION_TOP + 20.0 * len(captions) + label_width + 14.0
    bars_left = left + side + 28.0
    key_right = max(bars_left, left + _LEGEND_STEPS * _LEGEND_STEP + 32.0) + _BAR_PANEL
    width = max(bars_left + _BAR_PANEL, key_right) + _MARGIN
    width = max(width, _MIN_WIDTH)
    legend_top = top + side + 18.0
    height = legend_top + 58.0 + 18.0 * len(notes) + _MARGIN

    largest = comparison.max_element
    svg = SvgBuilder(
        width,
        height,
        title="Comparison of two games",
        description=(
            f"Heat map of the game X ({game_name}) minus the reference R ({reference_name}) "
            f"over {plural(len(labels), 'strategy', 'strategies')}, and both equilibria. "
            + " ".join(captions)
        ),
    )
    svg.page(
        f"Where X differs from R ({plural(len(labels), 'strategy', 'strategies')})",
        margin=_MARGIN,
    )
    names = f"X = {game_name} · R = {reference_name}"
    short_names = shorten(names, width - 2 * _MARGIN, _FONT)
    svg.element(
        "text",
        {"class": "caption", "x": _MARGIN, "y": _CAPTION_TOP, "font-size": _FONT, "fill": _MUTED},
        text=short_names,
        title=names if short_names != names else None,
    )
    for number, line in enumerate(captions):
        short = shorten(line, width - 2 * _MARGIN, _FONT)
        svg.element(
            "text",
            {
                "class": "caption",
                "x": _MARGIN,
                "y": _CAPTION_TOP + 20.0 * (number + 1),
                "font-size": _FONT,
                "fill": _MUTED,
            },
            text=short,
            title=line if short != line else None,
        )

    layout = _Layout(shown, left, top, cell, bars_left)
    _draw_labels(svg, labels, label_texts, layout)
    _draw_cells(svg, comparison, difference, layout)
    _draw_bars(svg, comparison, layout)
    _draw_legend(svg, largest, layout, legend_top, (game_name, reference_name))
    for number, note in enumerate(notes):
        svg.element(
            "text",
            {
                "class": "note",
                "x": _MARGIN,
                "y": legend_top + 62.0 + 18.0 * number,
                "font-size": _FONT,
                "fill": _MUTED,
            },
            text=note,
        )
    return svg.to_string()


def _draw_labels(
    svg: SvgBuilder, labels: Sequence[str], texts: Sequence[str], layout: _Layout
) -> None:
    """Row labels to the left of the heat map, column labels above it (read upwards)."""
    shown, left, top, cell = layout.shown, layout.left, layout.top, layout.cell
    svg.open("g", {"class": "labels", "font-size": _FONT, "fill": "#222222"})
    for position, (index, text) in enumerate(zip(shown, texts, strict=True)):
        full = labels[index] if text != labels[index] else None
        middle = top + (position + 0.5) * cell
        svg.element(
            "text",
            {"class": "row-label", "x": left - 6.0, "y": middle + 4.0, "text-anchor": "end"},
            text=text,
            title=full,
        )
        x = left + (position + 0.5) * cell + 4.0
        y = top - 6.0
        svg.element(
            "text",
            {
                "class": "column-label",
                "x": x,
                "y": y,
                "transform": f"rotate(-90 {fmt(x)} {fmt(y)})",
            },
            text=text,
            title=full,
        )
    svg.close()


def _draw_cells(
    svg: SvgBuilder,
    comparison: Comparison,
    difference: Sequence[Sequence[float]],
    layout: _Layout,
) -> None:
    """One cell per pair of shown strategies, coloured by ``X - R``; the largest outlined."""
    shown, left, top, cell = layout.shown, layout.left, layout.top, layout.cell
    labels = comparison.labels
    x_rows, r_rows = comparison.game.rows, comparison.reference.rows
    largest = comparison.max_element
    at = comparison.max_element_at
    outlined: tuple[float, float] | None = None
    svg.open("g", {"class": "heatmap"})
    for row, i in enumerate(shown):
        for column, j in enumerate(shown):
            value = difference[i][j]
            x, y = left + column * cell, top + row * cell
            svg.element(
                "rect",
                {
                    "class": "cell",
                    "data-row": labels[i],
                    "data-column": labels[j],
                    "data-difference": repr(value),
                    "x": x,
                    "y": y,
                    "width": cell,
                    "height": cell,
                    "fill": diverging_color(value / largest if largest > 0 else 0.0),
                },
                title=(
                    f"{labels[i]} vs {labels[j]}: X {format_number(x_rows[i][j])}, "
                    f"R {format_number(r_rows[i][j])}, X - R {format_number(value)}"
                ),
            )
            if (labels[i], labels[j]) == at:
                outlined = (x, y)
    svg.element(
        "rect",
        {
            "class": "frame",
            "x": left,
            "y": top,
            "width": cell * len(shown),
            "height": cell * len(shown),
            "fill": "none",
            "stroke": "#999999",
        },
    )
    if outlined is not None and largest > 0:
        svg.element(
            "rect",
            {
                "class": "largest",
                "x": outlined[0],
                "y": outlined[1],
                "width": cell,
                "height": cell,
                "fill": "none",
                "stroke": "#000000",
                "stroke-width": 2,
            },
        )
    svg.close()


def _draw_bars(svg: SvgBuilder, comparison: Comparison, layout: _Layout) -> None:
    """Two bars per shown row: the probability in X's equilibrium and in R's."""
    shown, left, top, cell = layout.shown, layout.bars_left, layout.top, layout.cell
    labels = comparison.labels
    sides = (
        ("game", comparison.game_equilibrium.row_strategy, _GAME_COLOR, "X"),
        ("reference", comparison.reference_equilibrium.row_strategy, _REFERENCE_COLOR, "R"),
    )
    top_probability = max((strategy[i] for _, strategy, _, _ in sides for i in shown), default=0.0)
    scale = top_probability if top_probability > 0 else 1.0
    bar = max(2.0, (cell - 4.0) / 2.0)
    svg.element(
        "text",
        {"class": "bars-title", "x": left, "y": top - 8.0, "font-size": _SMALL, "fill": _MUTED},
        text=f"equilibria (full bar {format_number(scale, 3)})",
    )
    svg.open("g", {"class": "bars"})
    svg.element(
        "line",
        {"x1": left, "y1": top, "x2": left, "y2": top + cell * len(shown), "stroke": "#999999"},
    )
    for row, i in enumerate(shown):
        for offset, (kind, strategy, color, letter) in enumerate(sides):
            probability = strategy[i]
            if probability <= 0:
                continue
            svg.element(
                "rect",
                {
                    "class": f"bar {kind}",
                    "data-label": labels[i],
                    "data-probability": repr(probability),
                    "x": left,
                    "y": top + row * cell + 2.0 + offset * bar,
                    "width": max(0.5, _BAR_PANEL * probability / scale),
                    "height": bar,
                    "fill": color,
                },
                title=f"{labels[i]}: {probability:.6g} in {letter}'s equilibrium",
            )
    svg.close()


def _draw_legend(
    svg: SvgBuilder, largest: float, layout: _Layout, top: float, names: tuple[str, str]
) -> None:
    """The colour scale (-max to +max of X - R) and the bar colours."""
    left, bars_left = layout.left, layout.bars_left
    game_name, reference_name = names
    step = _LEGEND_STEP
    svg.open("g", {"class": "legend", "font-size": _SMALL, "fill": "#222222"})
    svg.element("text", {"x": left, "y": top + 8.0, "fill": _MUTED}, text="X - R")
    for k in range(_LEGEND_STEPS):
        t = -1.0 + 2.0 * k / (_LEGEND_STEPS - 1)
        svg.element(
            "rect",
            {
                "class": "scale",
                "x": left + k * step,
                "y": top + 14.0,
                "width": step,
                "height": 12.0,
                "fill": diverging_color(t),
            },
        )
    ends = ((0, -largest), (_LEGEND_STEPS // 2, 0.0), (_LEGEND_STEPS - 1, largest))
    for k, value in ends:
        svg.element(
            "text",
            {"x": left + (k + 0.5) * step, "y": top + 40.0, "text-anchor": "middle"},
            text=format_number(value, 3),
        )
    # The bar colours: beside the scale, under the bars when there is room for them.
    key_left = max(bars_left, left + _LEGEND_STEPS * step + 32.0)
    for number, (color, name) in enumerate(
        ((_GAME_COLOR, f"X: {game_name}"), (_REFERENCE_COLOR, f"R: {reference_name}"))
    ):
        y = top + 14.0 + 18.0 * number
        svg.element("rect", {"x": key_left, "y": y, "width": 12.0, "height": 10.0, "fill": color})
        short = shorten(name, _BAR_PANEL - 16.0, _SMALL)
        svg.element(
            "text",
            {"x": key_left + 16.0, "y": y + 9.0},
            text=short,
            title=name if short != name else None,
        )
    svg.close()
