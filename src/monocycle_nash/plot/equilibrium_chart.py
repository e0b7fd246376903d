"""The equilibrium strategy as a horizontal bar chart (``equilibrium.svg``)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.plot.scales import nice_step
from monocycle_nash.plot.svg import SvgBuilder, fmt, format_number
from monocycle_nash.plot.text import shorten, text_width
from monocycle_nash.text import plural

__all__ = ["DEFAULT_MAX_BARS", "equilibrium_svg", "format_number"]

DEFAULT_MAX_BARS = 30
"""Games with more strategies than this show only their support (at most this many bars)."""

_WIDTH = 720.0
_MARGIN = 20.0
_FONT = 13.0
_ROW = 22.0
_BAR = 14.0
_TOP = 84.0
_MAX_LABEL_WIDTH = 220.0
_VALUE_ROOM = 56.0
_BAR_COLOR = "#3b528b"
_MUTED = "#666666"


def _probability_text(probability: float) -> str:
    if probability <= 0:
        return "0"
    if probability < 0.0005:
        return "<0.001"
    return f"{probability:.3f}"


def _axis_ticks(top: float) -> tuple[float, ...]:
    """Ticks from 0 to the first nice multiple at or above ``top``."""
    step = nice_step(top, 4)
    count = max(1, math.ceil(top / step - 1e-9))
    return tuple(round(k * step, 12) for k in range(count + 1))


def _rows_to_show(
    equilibrium: Equilibrium, max_bars: int
) -> tuple[list[tuple[int, float]], list[str]]:
    """Pick the (index, probability) rows to draw and the notes about the rest.

    Rows are ranked by probability, ties in label order. A large game ranks only its
    support: sorting a million zero-probability strategies would cost more than solving.
    """
    strategy = equilibrium.row_strategy

    def rank(rows: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
        return sorted(rows, key=lambda row: (-row[1], row[0]))

    if len(strategy) <= max_bars:
        return rank(enumerate(strategy)), []
    support = rank((index, p) for index, p in enumerate(strategy) if p > 0)
    shown = support[:max_bars]
    notes: list[str] = []
    hidden_support = support[max_bars:]
    if hidden_support:
        mass = math.fsum(p for _, p in hidden_support)
        notes.append(
            f"and {plural(len(hidden_support), 'more strategy', 'more strategies')} in the "
            f"support (total probability {format_number(mass, 3)})"
        )
    zeros = len(strategy) - len(support)
    if zeros:
        notes.append(
            f"and {plural(zeros, 'more strategy', 'more strategies')} with zero probability"
        )
    return shown, notes


def equilibrium_svg(equilibrium: Equilibrium, *, max_bars: int = DEFAULT_MAX_BARS) -> str:
    """Draw the row player's equilibrium strategy as bars sorted by probability.

    Ties keep the game's label order. A game with at most ``max_bars`` strategies shows
    every strategy (zero-probability ones without a bar); a larger game shows its support
    (at most ``max_bars`` bars) and a count of the rest. Each bar is a
    ``<rect class="bar">`` with ``data-label`` and ``data-probability`` attributes.
    The caption gives the value, the exploitability and the solver.
    """
    if max_bars < 1:
        raise ValueError(f"max_bars must be at least 1, got {max_bars}")
    for probability in equilibrium.row_strategy:
        if not math.isfinite(probability):
            raise ValueError("the equilibrium strategy holds a non-finite probability")
    if len(equilibrium.row_strategy) != len(equilibrium.labels):
        raise ValueError("the equilibrium has a different number of labels and probabilities")
    rows, notes = _rows_to_show(equilibrium, max_bars)

    label_texts = [shorten(equilibrium.labels[index], _MAX_LABEL_WIDTH, _FONT) for index, _ in rows]
    label_width = max((text_width(text, _FONT) for text in label_texts), default=0.0)
    label_width = min(_MAX_LABEL_WIDTH, max(40.0, label_width))
    bar_left = _MARGIN + label_width + 10.0
    bar_right = _WIDTH - _MARGIN - _VALUE_ROOM
    axis_y = _TOP + len(rows) * _ROW + 6.0
    height = axis_y + 30.0 + 20.0 * len(notes) + _MARGIN

    top_probability = max((p for _, p in rows), default=0.0)
    ticks = _axis_ticks(top_probability if top_probability > 0 else 1.0)
    scale_max = ticks[-1]

    def x_of(probability: float) -> float:
        return bar_left + (bar_right - bar_left) * max(0.0, probability) / scale_max

    support_size = sum(1 for p in equilibrium.row_strategy if p > 0)
    caption = (
        f"value {format_number(equilibrium.value)} · "
        f"exploitability {format_number(equilibrium.exploitability, 3)} · "
        f"solver {equilibrium.solver}"
    )
    short_caption = shorten(caption, _WIDTH - 2 * _MARGIN, _FONT)
    svg = SvgBuilder(
        _WIDTH,
        height,
        title="Equilibrium strategy",
        description=(
            f"Equilibrium strategy over {len(equilibrium.labels)} strategies, "
            f"support of {support_size}; {caption}"
        ),
    )
    svg.page(
        f"Equilibrium strategy ({len(equilibrium.labels)} strategies, support {support_size})",
        margin=_MARGIN,
    )
    svg.element(
        "text",
        {"class": "caption", "x": _MARGIN, "y": 58, "font-size": _FONT, "fill": _MUTED},
        text=short_caption,
        title=caption if short_caption != caption else None,
    )

    svg.open("g", {"class": "grid"})
    for tick in ticks:
        x = x_of(tick)
        svg.element(
            "line",
            {"x1": x, "y1": _TOP - 6, "x2": x, "y2": axis_y, "stroke": "#dddddd"},
        )
        svg.element(
            "text",
            {"x": x, "y": axis_y + 16, "font-size": 11, "text-anchor": "middle", "fill": _MUTED},
            text=fmt(tick, 4),
        )
    svg.element(
        "line", {"x1": bar_left, "y1": axis_y, "x2": bar_right, "y2": axis_y, "stroke": "#999999"}
    )
    svg.close()

    svg.open("g", {"class": "bars"})
    for row, ((index, probability), label_text) in enumerate(zip(rows, label_texts, strict=True)):
        label = equilibrium.labels[index]
        y = _TOP + row * _ROW
        played = probability > 0
        svg.element(
            "text",
            {
                "class": "label",
                "x": bar_left - 8,
                "y": y + _BAR / 2 + 4.5,
                "font-size": _FONT,
                "text-anchor": "end",
                "fill": "#222222" if played else "#999999",
            },
            text=label_text,
            title=label if label_text != label else None,
        )
        if played:
            svg.element(
                "rect",
                {
                    "class": "bar",
                    "data-label": label,
                    "data-probability": repr(probability),
                    "x": bar_left,
                    "y": y,
                    "width": max(x_of(probability) - bar_left, 0.5),
                    "height": _BAR,
                    "fill": _BAR_COLOR,
                },
                title=f"{label}: {probability:.6g}",
            )
        svg.element(
            "text",
            {
                "class": "probability",
                "x": (x_of(probability) if played else bar_left) + 5,
                "y": y + _BAR / 2 + 4.5,
                "font-size": 12,
                "fill": "#222222" if played else "#999999",
            },
            text=_probability_text(probability),
        )
    svg.close()

    for number, note in enumerate(notes):
        svg.element(
            "text",
            {
                "class": "note",
                "x": _MARGIN,
                "y": axis_y + 40 + 20 * number,
                "font-size": _FONT,
                "fill": _MUTED,
            },
            text=note,
        )
    return svg.to_string()
