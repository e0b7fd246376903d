"""A roster's matchup vectors, powers and equilibrium support (``characters.svg``)."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from monocycle_nash.character import Character, cross
from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.plot.label_placement import Obstacles, place_labels
from monocycle_nash.plot.scales import color_at, nice_ticks, tick_text
from monocycle_nash.plot.svg import SvgBuilder, fmt, format_number, id_prefix
from monocycle_nash.plot.text import shorten

__all__ = [
    "MAX_CHARACTER_POINTS",
    "PLOT_BOX",
    "PlotScale",
    "characters_scale",
    "characters_svg",
    "translated_power",
]

MAX_CHARACTER_POINTS = 2000
"""Rosters larger than this draw an evenly spaced subsample plus every support member."""

PLOT_BOX = (80.0, 70.0, 460.0)
"""The square plotting area of ``characters.svg``: left, top and side length in pixels."""

_WIDTH = 780.0
_HEIGHT = 680.0
_MARGIN = 20.0
_PAD = 0.08
_POINT_R = 5.0
_SUPPORT_R = 7.5
_LABEL_FONT = 12.0
_MAX_LABEL_WIDTH = 120.0
_MAX_LABEL_ATTEMPTS = 400
_HULL_COLOR = "#d6604d"
_MUTED = "#666666"
_TIMES = "\u00d7"  # the cross product sign, written as an escape for the linter


@dataclass(frozen=True, slots=True)
class PlotScale:
    """Maps data coordinates (x, y) to SVG pixels with equal units on both axes.

    The data square ``[x_min, x_min + span] x [y_min, y_min + span]`` fills the pixel
    square at (``left``, ``top``) of side ``size``; y grows upwards in data, downwards
    in SVG. Any finite data works, from subnormal numbers to the largest float.
    """

    x_min: float
    y_min: float
    span: float
    left: float
    top: float
    size: float

    def to_svg(self, point: tuple[float, float]) -> tuple[float, float]:
        """Return the SVG pixel coordinates of the data point ``point``."""
        x, y = point
        return (
            self.left + _fraction(x, self.x_min, self.span) * self.size,
            self.top + self.size - _fraction(y, self.y_min, self.span) * self.size,
        )


def _fraction(value: float, low: float, span: float) -> float:
    """``(value - low) / span``, also when the difference overflows (data near 1e308)."""
    offset = value - low
    if math.isfinite(offset):
        return offset / span
    return (value / 2 - low / 2) / (span / 2)


def _midpoint(low: float, high: float) -> float:
    """The middle of ``[low, high]``, without overflow for ends near the largest float."""
    middle = (low + high) / 2
    return middle if math.isfinite(middle) else low / 2 + high / 2


def _check(characters: Sequence[Character], equilibrium: Equilibrium) -> None:
    if not characters:
        raise ValueError("there are no characters to draw")
    labels = tuple(character.label for character in characters)
    if labels != equilibrium.labels:
        raise ValueError("the equilibrium's labels are not the characters' labels in order")
    if len(equilibrium.row_strategy) != len(labels):
        raise ValueError("the equilibrium has a different number of labels and probabilities")
    values = list(equilibrium.row_strategy)
    if equilibrium.translation is not None:
        values.extend(equilibrium.translation)
    if not all(math.isfinite(value) for value in values):
        raise ValueError("the equilibrium holds a non-finite number")


def characters_scale(characters: Sequence[Character], equilibrium: Equilibrium) -> PlotScale:
    """Return the data-to-pixel mapping that :func:`characters_svg` uses for these inputs.

    The data square holds every character's vector and the translation point, with 8 %
    padding, centred on the shorter dimension; its pixel square is :data:`PLOT_BOX`.
    """
    _check(characters, equilibrium)
    points = [character.vector for character in characters]
    if equilibrium.translation is not None:
        points.append(equilibrium.translation)
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    x_lo, x_hi, y_lo, y_hi = min(xs), max(xs), min(ys), max(ys)
    extent = max(x_hi - x_lo, y_hi - y_lo)
    if extent <= 0:
        extent = max(1.0, abs(x_lo), abs(y_lo))
    # A range wider than the largest float (a far translation point) is cut to it.
    span = min(extent * (1 + 2 * _PAD), sys.float_info.max)
    left, top, size = PLOT_BOX
    return PlotScale(
        x_min=_midpoint(x_lo, x_hi) - span / 2,
        y_min=_midpoint(y_lo, y_hi) - span / 2,
        span=span,
        left=left,
        top=top,
        size=size,
    )


def translated_power(character: Character, translation: tuple[float, float] | None) -> float:
    """Return ``p + v x a``, the power after translating by ``a`` (``p`` when ``a`` is None).

    The translation leaves the game unchanged; in its frame the support members share
    the highest power, which is why the picture colours points by it.
    """
    if translation is None:
        return character.power
    return character.power + cross(character.vector, translation)


def _subsample(count: int, support: Sequence[int]) -> list[int]:
    """Indices to draw: all of them, or an evenly spaced subsample plus the support."""
    if count <= MAX_CHARACTER_POINTS:
        return list(range(count))
    chosen = {k * count // MAX_CHARACTER_POINTS for k in range(MAX_CHARACTER_POINTS)}
    return sorted(chosen.union(support))


def _hull(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Convex hull (monotone chain), counter-clockwise, without repeated points."""
    unique = sorted(set(points))
    if len(unique) <= 2:
        return unique

    def turn(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for point in unique:
        while len(lower) >= 2 and turn(lower[-2], lower[-1], point) <= 0:
            lower.pop()
        lower.append(point)
    upper: list[tuple[float, float]] = []
    for point in reversed(unique):
        while len(upper) >= 2 and turn(upper[-2], upper[-1], point) <= 0:
            upper.pop()
        upper.append(point)
    return lower[:-1] + upper[:-1]


def _draw_axes(svg: SvgBuilder, scale: PlotScale) -> None:
    left, top, size = scale.left, scale.top, scale.size
    svg.open("g", {"class": "axes"})
    svg.element(
        "rect",
        {
            "x": left,
            "y": top,
            "width": size,
            "height": size,
            "fill": "#fbfbfb",
            "stroke": "#999999",
        },
    )
    for tick in nice_ticks(scale.x_min, scale.x_min + scale.span):
        x, _ = scale.to_svg((tick, scale.y_min))
        colour = "#b0b0b0" if tick == 0 else "#e6e6e6"
        svg.element("line", {"x1": x, "y1": top, "x2": x, "y2": top + size, "stroke": colour})
        svg.element(
            "text",
            {
                "class": "tick-x",
                "data-value": repr(tick),
                "x": x,
                "y": top + size + 16,
                "font-size": 11,
                "text-anchor": "middle",
                "fill": _MUTED,
            },
            text=tick_text(tick),
        )
    for tick in nice_ticks(scale.y_min, scale.y_min + scale.span):
        _, y = scale.to_svg((scale.x_min, tick))
        colour = "#b0b0b0" if tick == 0 else "#e6e6e6"
        svg.element("line", {"x1": left, "y1": y, "x2": left + size, "y2": y, "stroke": colour})
        svg.element(
            "text",
            {
                "class": "tick-y",
                "data-value": repr(tick),
                "x": left - 6,
                "y": y + 4,
                "font-size": 11,
                "text-anchor": "end",
                "fill": _MUTED,
            },
            text=tick_text(tick),
        )
    svg.element(
        "text",
        {"x": left + size / 2, "y": top + size + 36, "font-size": 13, "text-anchor": "middle"},
        text="x",
    )
    svg.element(
        "text",
        {
            "x": left - 52,
            "y": top + size / 2,
            "font-size": 13,
            "text-anchor": "middle",
            "transform": f"rotate(-90 {fmt(left - 52)} {fmt(top + size / 2)})",
        },
        text="y",
    )
    svg.close()


def _draw_legend(
    svg: SvgBuilder,
    gradient_id: str,
    power_range: tuple[float, float],
    support_size: int,
    has_translation: bool,
) -> None:
    x = PLOT_BOX[0] + PLOT_BOX[2] + 40
    top = PLOT_BOX[1]
    low, high = power_range
    svg.open("g", {"class": "legend"})
    svg.element(
        "text",
        {"x": x, "y": top + 8, "font-size": 13, "font-weight": "bold"},
        text=f"power p + v {_TIMES} a" if has_translation else "power p",
    )
    bar_top, bar_height = top + 20, 160.0
    svg.element(
        "rect",
        {
            "class": "colorbar",
            "x": x,
            "y": bar_top,
            "width": 16,
            "height": bar_height,
            "fill": f"url(#{gradient_id})" if high > low else color_at(0.5),
            "stroke": "#999999",
        },
    )
    marks = ((high, 0.0), (low, 1.0)) if high > low else ((high, 0.5),)
    if high > low:
        marks = (*marks, ((low + high) / 2, 0.5))
    for value, where in marks:
        y = bar_top + where * bar_height
        svg.element("line", {"x1": x + 16, "y1": y, "x2": x + 21, "y2": y, "stroke": "#666666"})
        svg.element(
            "text",
            {"x": x + 25, "y": y + 4, "font-size": 11, "fill": _MUTED},
            text=format_number(value, 3),
        )

    y = bar_top + bar_height + 36
    svg.element("circle", {"cx": x + 8, "cy": y, "r": _POINT_R, "fill": color_at(0.5)})
    svg.element("text", {"x": x + 22, "y": y + 4, "font-size": 12}, text="character")
    y += 24
    svg.element(
        "circle",
        {
            "cx": x + 8,
            "cy": y,
            "r": _SUPPORT_R,
            "fill": color_at(0.5),
            "stroke": "#111111",
            "stroke-width": 2.5,
        },
    )
    svg.element("text", {"x": x + 22, "y": y + 4, "font-size": 12}, text="in the support")
    if support_size >= 2:
        y += 24
        shape = {2: "support segment", 3: "support triangle"}.get(support_size, "support hull")
        svg.element(
            "polygon",
            {
                "points": " ".join(
                    f"{fmt(px)},{fmt(py)}"
                    for px, py in ((x, y + 7), (x + 16, y + 7), (x + 8, y - 7))
                ),
                "fill": _HULL_COLOR,
                "fill-opacity": 0.15,
                "stroke": _HULL_COLOR,
                "stroke-width": 1.5,
            },
        )
        svg.element("text", {"x": x + 22, "y": y + 4, "font-size": 12}, text=shape)
    if has_translation:
        y += 24
        _draw_cross(svg, x + 8, y, {})
        svg.element("text", {"x": x + 22, "y": y + 4, "font-size": 12}, text="translation a")
    svg.close()


def _draw_cross(
    svg: SvgBuilder, x: float, y: float, attrs: dict[str, str], title: str | None = None
) -> None:
    d = 6.0
    path = (
        f"M{fmt(x - d)},{fmt(y - d)} L{fmt(x + d)},{fmt(y + d)} "
        f"M{fmt(x - d)},{fmt(y + d)} L{fmt(x + d)},{fmt(y - d)}"
    )
    svg.element(
        "path",
        {**attrs, "d": path, "stroke": "#111111", "stroke-width": 2.5, "fill": "none"},
        title=title,
    )


@dataclass(frozen=True, slots=True)
class _Roster:
    """What every drawing step of one characters picture needs."""

    characters: Sequence[Character]
    equilibrium: Equilibrium
    scale: PlotScale
    support: tuple[int, ...]
    drawn: tuple[int, ...]
    centres: dict[int, tuple[float, float]]
    powers: tuple[float, ...]
    power_range: tuple[float, float]

    @classmethod
    def build(cls, characters: Sequence[Character], equilibrium: Equilibrium) -> _Roster:
        scale = characters_scale(characters, equilibrium)
        strategy = equilibrium.row_strategy
        support = tuple(index for index in range(len(characters)) if strategy[index] > 0)
        drawn = tuple(_subsample(len(characters), support))
        powers = tuple(
            translated_power(character, equilibrium.translation) for character in characters
        )
        return cls(
            characters=characters,
            equilibrium=equilibrium,
            scale=scale,
            support=support,
            drawn=drawn,
            centres={index: scale.to_svg(characters[index].vector) for index in drawn},
            powers=powers,
            power_range=(min(powers), max(powers)),
        )

    @property
    def point_r(self) -> float:
        """Radius of an ordinary point: smaller when many are drawn."""
        drawn = len(self.drawn)
        return _POINT_R if drawn <= 300 else 3.5 if drawn <= 1000 else 2.5

    def shade(self, index: int) -> str:
        """The colour of character ``index``'s (translated) power."""
        low, high = self.power_range
        power = self.powers[index]
        return color_at((power - low) / (high - low) if high > low else 0.5)


def characters_svg(characters: Sequence[Character], equilibrium: Equilibrium) -> str:
    """Draw each character's matchup vector as a point, coloured by its power.

    With a translation ``a`` the colour is :func:`translated_power` (``p + v x a``),
    otherwise the power ``p`` as given.

    Support members (positive row probability) are larger, ringed points; the support's
    triangle (segment for two, convex hull for more than three) is a
    ``<polygon class="support-hull">`` through their scaled vectors; the translation
    point ``equilibrium.translation`` is a ``<path class="translation">`` cross. Every
    drawn character is a ``<circle class="character">`` (``character support`` in the
    support) with ``data-index`` and ``data-label``. Labels are drawn where they fit,
    support first. Rosters above :data:`MAX_CHARACTER_POINTS` draw an evenly spaced
    subsample plus the support, and the caption says so. Coordinates follow
    :func:`characters_scale`.
    """
    roster = _Roster.build(characters, equilibrium)
    count = len(characters)
    prefix = id_prefix(
        "characters",
        (
            [(c.label, c.power, c.vector) for c in characters],
            equilibrium.row_strategy,
            equilibrium.translation,
        ),
    )
    gradient_id = f"{prefix}-power"
    svg = SvgBuilder(
        _WIDTH,
        _HEIGHT,
        title="Characters: matchup vectors, power and equilibrium support",
        description=(
            f"{count} characters; support of {len(roster.support)}; "
            "points at v = (x, y), colour = "
            + ("power p" if equilibrium.translation is None else "translated power p + v x a")
        ),
    )
    svg.open("defs")
    svg.open("linearGradient", {"id": gradient_id, "x1": 0, "y1": 1, "x2": 0, "y2": 0})
    for stop in range(5):
        svg.element("stop", {"offset": stop / 4, "stop-color": color_at(stop / 4)})
    svg.close()
    svg.close()
    svg.page(f"Characters: matchup vectors v and power p ({count} characters)", margin=_MARGIN)
    _draw_axes(svg, roster.scale)
    obstacles = Obstacles()
    _draw_points(svg, roster, obstacles, in_support=False)
    _draw_hull(svg, roster)
    _draw_points(svg, roster, obstacles, in_support=True)
    _draw_translation(svg, roster, obstacles)
    labelled = _draw_labels(svg, roster, obstacles)
    _draw_legend(
        svg,
        gradient_id,
        roster.power_range,
        len(roster.support),
        equilibrium.translation is not None,
    )
    _draw_caption(svg, roster, labelled)
    return svg.to_string()


def _draw_hull(svg: SvgBuilder, roster: _Roster) -> None:
    if len(roster.support) < 2:
        return
    vectors = [roster.characters[index].vector for index in roster.support]
    corners = vectors if len(vectors) <= 3 else _hull(vectors)
    points = " ".join(
        f"{fmt(px)},{fmt(py)}" for px, py in (roster.scale.to_svg(corner) for corner in corners)
    )
    svg.element(
        "polygon",
        {
            "class": "support-hull",
            "points": points,
            "fill": _HULL_COLOR,
            "fill-opacity": 0.12,
            "stroke": _HULL_COLOR,
            "stroke-width": 2,
            "stroke-linejoin": "round",
        },
        title="support: " + ", ".join(roster.equilibrium.labels[i] for i in roster.support),
    )


def _draw_points(
    svg: SvgBuilder, roster: _Roster, obstacles: Obstacles, *, in_support: bool
) -> None:
    """Draw the support's points or all the others; add their boxes to the obstacles."""
    support = set(roster.support)
    strategy = roster.equilibrium.row_strategy
    if in_support:
        indices: Sequence[int] = roster.support
    else:
        indices = [index for index in roster.drawn if index not in support]
    svg.open("g", {"class": "characters"})
    for index in indices:
        character = roster.characters[index]
        cx, cy = roster.centres[index]
        r = _SUPPORT_R if in_support else roster.point_r
        obstacles.add((cx - r, cy - r, cx + r, cy + r))
        x, y = character.vector
        tooltip = (
            f"{character.label}: p = {format_number(character.power)}, "
            f"v = ({format_number(x)}, {format_number(y)})"
        )
        if roster.equilibrium.translation is not None:
            tooltip += f", p + v {_TIMES} a = {format_number(roster.powers[index])}"
        if in_support:
            tooltip += f", probability {format_number(strategy[index])}"
        attrs: dict[str, str | float] = {
            "class": "character support" if in_support else "character",
            "data-index": str(index),
            "data-label": character.label,
            "cx": cx,
            "cy": cy,
            "r": r,
            "fill": roster.shade(index),
        }
        if in_support:
            attrs.update({"stroke": "#111111", "stroke-width": 2.5})
        else:
            attrs.update({"stroke": "#ffffff", "stroke-width": 0.8})
        svg.element("circle", attrs, title=tooltip)
    svg.close()


def _draw_translation(svg: SvgBuilder, roster: _Roster, obstacles: Obstacles) -> None:
    translation = roster.equilibrium.translation
    if translation is None:
        return
    tx, ty = roster.scale.to_svg(translation)
    obstacles.add((tx - 7, ty - 7, tx + 7, ty + 7))
    _draw_cross(
        svg,
        tx,
        ty,
        {
            "class": "translation",
            "data-x": repr(translation[0]),
            "data-y": repr(translation[1]),
        },
        title=(
            f"translation a = ({format_number(translation[0])}, {format_number(translation[1])})"
        ),
    )


def _draw_labels(svg: SvgBuilder, roster: _Roster, obstacles: Obstacles) -> int:
    """Draw the labels that fit; return how many were drawn."""
    characters = roster.characters
    strategy = roster.equilibrium.row_strategy
    support = set(roster.support)
    texts = [""] * len(characters)
    for index in roster.drawn:
        texts[index] = shorten(characters[index].label, _MAX_LABEL_WIDTH, _LABEL_FONT)
    order = sorted(
        roster.drawn,
        key=lambda index: (
            index not in support,
            -strategy[index],
            -roster.powers[index],
            index,
        ),
    )
    left, top, size = PLOT_BOX
    placed = place_labels(
        order[:_MAX_LABEL_ATTEMPTS],
        texts,
        centres=roster.centres,
        radius=lambda index: _SUPPORT_R if index in support else roster.point_r,
        bounds=(left, top, left + size, top + size),
        points=obstacles,
        font_size=_LABEL_FONT,
        over_points=support,
    )
    svg.open("g", {"class": "labels", "font-size": _LABEL_FONT})
    for label in sorted(placed, key=lambda item: item.index):
        full = characters[label.index].label
        svg.element(
            "text",
            {
                "class": "label",
                "data-index": str(label.index),
                "x": label.x,
                "y": label.y,
                "text-anchor": label.anchor,
                "fill": "#222222",
                "font-weight": "bold" if label.index in support else "normal",
            },
            text=label.text,
            title=full if full != label.text else None,
        )
    svg.close()
    return len(placed)


def _draw_caption(svg: SvgBuilder, roster: _Roster, labelled: int) -> None:
    characters, equilibrium, support = roster.characters, roster.equilibrium, roster.support
    count, drawn = len(characters), len(roster.drawn)
    members = ", ".join(
        f"{characters[index].label} {equilibrium.row_strategy[index]:.3f}" for index in support[:6]
    )
    if len(support) > 6:
        members += f", and {len(support) - 6} more"
    lines = [shorten(f"support: {members}", _WIDTH - 2 * _MARGIN, 12.0)]
    facts = [
        f"value {format_number(equilibrium.value)}",
        f"exploitability {format_number(equilibrium.exploitability, 3)}",
    ]
    if equilibrium.translation is not None:
        a = equilibrium.translation
        tiny = roster.scale.span * 1e-9
        ax, ay = (0.0 if abs(c) < tiny else c for c in a)
        facts.append(f"translation a = ({format_number(ax)}, {format_number(ay)})")
    lines.append(" · ".join(facts))
    if equilibrium.translation is not None:
        lines.append(
            f"colour: power after translating by a, p + v {_TIMES} a (the game is unchanged; "
            "the support shares the highest)"
        )
    if drawn < count:
        lines.append(
            f"showing {drawn} of {count} characters: an evenly spaced subsample "
            f"plus all {len(support)} support members"
        )
    if labelled < drawn:
        lines.append(f"labels shown for {labelled} of {drawn} drawn points (where they fit)")
    y = PLOT_BOX[1] + PLOT_BOX[2] + 62
    svg.open("g", {"class": "caption", "font-size": 12, "fill": _MUTED})
    for line in lines:
        svg.element("text", {"x": _MARGIN, "y": y}, text=line)
        y += 17
    svg.close()
