"""The first picture of an experiment's summary (``summary.svg``): one bar per bin.

- Team spectrum: for each bin of the dominant gap ``sigma_1 / sigma_2`` the share of
  trials whose team equilibrium has support 3, with the number of trials written on the
  bar, and the overall share as a dashed line (plus a bar for the trials without a gap,
  a single level, when there are some).
- Approximation quality: for each bin of ``dominant_eigen_ratio`` the mean of the
  chosen distance, a whisker of one standard deviation either side (cut at 0) and the
  number of trials (plus bars for the trials below the first edge or without a ratio,
  when there are some).

The input is the JSON-ready summary of ``monocycle_nash.experiments.summarise`` (or the
same read back from ``summary.json``). A summary without finished trials gives a picture
that says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monocycle_nash.plot.scales import nice_ticks, tick_text
from monocycle_nash.plot.svg import SvgBuilder, fmt, format_number
from monocycle_nash.plot.text import shorten
from monocycle_nash.text import plural

__all__ = ["SWEEP_FIGURES", "experiment_chart", "sweep_chart"]

_WIDTH = 720.0
_MARGIN = 20.0
_FONT = 13.0
_SMALL = 11.0
_CAPTION_TOP = 58.0
_PLOT_TOP = 130.0
_PLOT_HEIGHT = 300.0
_PLOT_LEFT = 78.0
_BAR_COLOR = "#3b528b"
_EXTRA_COLOR = "#8c8c8c"
_LINE_COLOR = "#e08214"
_MUTED = "#666666"
_TITLES = {
    "team_spectrum": "Team spectrum: support-3 rate by dominant gap",
    "approximation_quality": "Approximation quality: distance by dominant eigen ratio",
}


SWEEP_FIGURES = (("support_3_rate", "support-3 rate"), ("distance_mean", "mean distance"))
"""The headline figure a sweep picture compares, by experiment kind (first one present)."""


@dataclass(frozen=True, slots=True)
class _Bar:
    """One bar: its axis label, height (None: no trials), whisker, count and tooltip."""

    label: str
    height: float | None
    count: int
    title: str
    spread: float | None = None
    extra: bool = False
    data: tuple[tuple[str, str], ...] = ()


def experiment_chart(summary: Mapping[str, Any]) -> str:
    """Draw an experiment's summary (module docstring) as a standalone SVG document.

    Each bar is a ``<rect class="bar">`` with ``data-count`` and ``data-low`` /
    ``data-high`` (``inf`` for the open end; ``data-bin`` for the extra bars), each
    count a ``<text class="count">``, the overall rate a ``<line class="overall">``.
    Raise ``ValueError`` for a summary of an unknown kind.
    """
    kind = summary.get("kind")
    if kind not in _TITLES:
        raise ValueError(f"not an experiment summary of a known kind: kind = {kind!r}")
    completed = int(summary.get("completed", 0))
    captions = _captions(summary)
    svg_height = _PLOT_TOP + _PLOT_HEIGHT + 70.0 + _MARGIN
    svg = SvgBuilder(_WIDTH, svg_height, title=_TITLES[kind], description=" ".join(captions))
    svg.page(_TITLES[kind], margin=_MARGIN)
    for number, line in enumerate(captions):
        short = shorten(line, _WIDTH - 2 * _MARGIN, _FONT)
        svg.element(
            "text",
            {
                "class": "caption",
                "x": _MARGIN,
                "y": _CAPTION_TOP + 20.0 * number,
                "font-size": _FONT,
                "fill": _MUTED,
            },
            text=short,
            title=line if short != line else None,
        )
    if completed == 0:
        svg.element(
            "text",
            {
                "class": "empty",
                "x": _WIDTH / 2,
                "y": _PLOT_TOP + _PLOT_HEIGHT / 2,
                "font-size": 16,
                "text-anchor": "middle",
                "fill": _MUTED,
            },
            text="No finished trials: nothing to draw yet",
        )
        return svg.to_string()
    if kind == "team_spectrum":
        bars = _team_bars(summary)
        overall = summary["support_rates"]["equal_3"]
        _draw_plot(svg, bars, ("support-3 rate", "dominant gap σ₁/σ₂"), top=1.0, overall=overall)
    else:
        bars = _approximation_bars(summary)
        top = max(
            (bar.height + (bar.spread or 0.0) for bar in bars if bar.height is not None),
            default=0.0,
        )
        name = str(summary.get("distance_name", "distance"))
        _draw_plot(svg, bars, (f"mean {name}", "dominant eigen ratio σ₁/σ₂"), top=top, overall=None)
    return svg.to_string()


def sweep_chart(children: Sequence[Mapping[str, Any]]) -> str:
    """Draw a sweep's conditions side by side (``sweep.svg``): per condition the mean of
    its successful children's headline figure (``SWEEP_FIGURES``), a whisker of one
    standard deviation across seeds, and the number of children it rests on.

    ``children`` are sweep.csv's rows as mappings: ``condition``, ``seed``, ``status``
    and ``headline`` (the child's figures, empty while it has none).
    """
    key, name = next(
        (
            (key, name)
            for key, name in SWEEP_FIGURES
            if any((child.get("headline") or {}).get(key) is not None for child in children)
        ),
        SWEEP_FIGURES[0],
    )
    conditions: dict[str, list[float]] = {}
    for child in children:
        values = conditions.setdefault(str(child["condition"]), [])
        value = (child.get("headline") or {}).get(key)
        if child.get("status") == "success" and isinstance(value, int | float):
            values.append(float(value))
    done = sum(child.get("status") == "success" for child in children)
    title = f"Sweep: {name} by condition"
    caption = f"{done} of {plural(len(children), 'child run')} succeeded"
    svg_height = _PLOT_TOP + _PLOT_HEIGHT + 70.0 + _MARGIN
    svg = SvgBuilder(_WIDTH, svg_height, title=title, description=caption)
    svg.page(title, margin=_MARGIN)
    svg.element(
        "text",
        {"class": "caption", "x": _MARGIN, "y": _CAPTION_TOP, "font-size": _FONT, "fill": _MUTED},
        text=caption,
    )
    bars = [_sweep_bar(condition, values, name) for condition, values in conditions.items()]
    top = max(
        (bar.height + (bar.spread or 0.0) for bar in bars if bar.height is not None),
        default=0.0,
    )
    if key == "support_3_rate":
        top = 1.0
    _draw_plot(svg, bars, (name, "condition"), top=top, overall=None)
    return svg.to_string()


def _sweep_bar(condition: str, values: Sequence[float], name: str) -> _Bar:
    if not values:
        return _Bar(condition, None, 0, f"{condition}: no successful child yet")
    mean = math.fsum(values) / len(values)
    spread = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))
    return _Bar(
        label=condition,
        height=mean,
        count=len(values),
        title=f"{condition}: {name} {format_number(mean, 3)} over {plural(len(values), 'seed')}",
        spread=spread or None,
        data=(("data-condition", condition),),
    )


def _captions(summary: Mapping[str, Any]) -> list[str]:
    settings = summary.get("settings") or {}
    failed = len(summary.get("failed") or ())
    first = (
        f"{summary.get('completed', 0)} of {plural(int(summary.get('trials', 0)), 'trial')} "
        f"finished, {failed} failed · seed {settings.get('seed', '?')}"
    )
    if summary.get("kind") == "team_spectrum":
        rate = (summary.get("support_rates") or {}).get("equal_3")
        second = (
            f"{settings.get('character_count', '?')} random characters, teams of "
            f"{settings.get('team_size', '?')}"
        )
        if rate is not None:
            second += f" · support 3 in {format_number(rate, 3)} of the trials"
        return [first, second]
    size = settings.get("size", "?")
    second = (
        f"{size} x {size} random skew-symmetric matrices · method {settings.get('method', '?')}"
    )
    distance = summary.get("distance") or {}
    third = f"{summary.get('distance_name', 'distance')} over all finished trials"
    if distance.get("mean") is not None:
        third += f": mean {format_number(distance['mean'])}"
    if distance.get("std") is not None:
        third += f", std {format_number(distance['std'])}"
    return [first, second, third]


def _bin_label(low: float, high: float | None) -> str:
    return f"[{format_number(low)}, {'∞' if high is None else format_number(high)})"


def _bin_data(low: float, high: float | None) -> tuple[tuple[str, str], ...]:
    return (("data-low", repr(low)), ("data-high", "inf" if high is None else repr(high)))


def _team_bars(summary: Mapping[str, Any]) -> list[_Bar]:
    bars = [
        _Bar(
            label=_bin_label(item["low"], item["high"]),
            height=item["rate"],
            count=int(item["count"]),
            title=(
                f"gap in {_bin_label(item['low'], item['high'])}: support 3 in "
                f"{item['support_3']} of {plural(int(item['count']), 'trial')}"
            ),
            data=_bin_data(item["low"], item["high"]),
        )
        for item in summary["gap_bins"]
    ]
    undefined = summary.get("gap_undefined") or {}
    if undefined.get("count"):
        bars.append(
            _Bar(
                label="single level",
                height=undefined["rate"],
                count=int(undefined["count"]),
                title=(
                    f"no gap (a single level): support 3 in {undefined['support_3']} of "
                    f"{plural(int(undefined['count']), 'trial')}"
                ),
                extra=True,
                data=(("data-bin", "single level"),),
            )
        )
    return bars


def _approximation_bars(summary: Mapping[str, Any]) -> list[_Bar]:
    name = str(summary.get("distance_name", "distance"))

    def bar(item: Mapping[str, Any], label: str, where: str, **extra: Any) -> _Bar:
        count = int(item["count"])
        title = f"{where}: {plural(count, 'trial')}"
        if item["mean"] is not None:
            title += f", mean {name} {format_number(item['mean'])}"
        if item["std"] is not None:
            title += f", std {format_number(item['std'])}"
        return _Bar(
            label=label, height=item["mean"], count=count, title=title, spread=item["std"], **extra
        )

    bars: list[_Bar] = []
    below = summary.get("ratio_below_first_edge") or {}
    bins: Sequence[Mapping[str, Any]] = summary["ratio_bins"]
    if below.get("count"):
        first = format_number(bins[0]["low"])
        bars.append(
            bar(
                below,
                f"< {first}",
                f"ratio below {first}",
                extra=True,
                data=(("data-bin", "below first edge"),),
            )
        )
    for item in bins:
        label = _bin_label(item["low"], item["high"])
        bars.append(
            bar(item, label, f"ratio in {label}", data=_bin_data(item["low"], item["high"]))
        )
    missing = summary.get("ratio_missing") or {}
    if missing.get("count"):
        bars.append(
            bar(
                missing,
                "single level",
                "no ratio (a single level)",
                extra=True,
                data=(("data-bin", "single level"),),
            )
        )
    return bars


def _draw_plot(
    svg: SvgBuilder,
    bars: Sequence[_Bar],
    names: tuple[str, str],
    *,
    top: float,
    overall: float | None,
) -> None:
    """The axes (``names``: the y and x axis), one bar per bin with its count and
    whisker, and the ``overall`` line; the y axis reaches ``top`` at least."""
    y_name, x_name = names
    ticks = nice_ticks(0.0, top if top > 0 else 1.0, 5)
    scale_max = max(ticks[-1] if ticks else 1.0, top, 1e-300)
    if ticks and ticks[-1] < top:
        step = ticks[1] - ticks[0] if len(ticks) > 1 else top
        ticks = (*ticks, ticks[-1] + step)
        scale_max = ticks[-1]
    right = _WIDTH - _MARGIN
    bottom = _PLOT_TOP + _PLOT_HEIGHT

    def y_of(value: float) -> float:
        return bottom - _PLOT_HEIGHT * max(0.0, min(value, scale_max)) / scale_max

    svg.open("g", {"class": "grid"})
    for tick in ticks:
        y = y_of(tick)
        svg.element("line", {"x1": _PLOT_LEFT, "y1": y, "x2": right, "y2": y, "stroke": "#dddddd"})
        svg.element(
            "text",
            {
                "x": _PLOT_LEFT - 6,
                "y": y + 4,
                "font-size": _SMALL,
                "text-anchor": "end",
                "fill": _MUTED,
            },
            text=tick_text(tick),
        )
    svg.element(
        "line", {"x1": _PLOT_LEFT, "y1": bottom, "x2": right, "y2": bottom, "stroke": "#999999"}
    )
    middle = _PLOT_TOP + _PLOT_HEIGHT / 2
    svg.element(
        "text",
        {
            "class": "axis-name",
            "x": _MARGIN + 4,
            "y": middle,
            "font-size": _SMALL,
            "text-anchor": "middle",
            "fill": _MUTED,
            "transform": f"rotate(-90 {fmt(_MARGIN + 4)} {fmt(middle)})",
        },
        text=y_name,
    )
    svg.element(
        "text",
        {
            "class": "axis-name",
            "x": (_PLOT_LEFT + right) / 2,
            "y": bottom + 44,
            "font-size": _SMALL,
            "text-anchor": "middle",
            "fill": _MUTED,
        },
        text=x_name,
    )
    svg.close()

    slot = (right - _PLOT_LEFT) / max(1, len(bars))
    width = min(80.0, slot * 0.7)
    svg.open("g", {"class": "bars"})
    for number, bar in enumerate(bars):
        centre = _PLOT_LEFT + slot * (number + 0.5)
        label_y = bottom + 18
        svg.element(
            "text",
            {
                "class": "bin",
                "x": centre,
                "y": label_y,
                "font-size": _SMALL,
                "text-anchor": "middle",
                "fill": "#222222",
            },
            text=shorten(bar.label, slot - 4, _SMALL),
        )
        inside = False
        count_y = bottom - 6
        if bar.height is not None:
            y = y_of(bar.height)
            svg.element(
                "rect",
                {
                    "class": "bar extra" if bar.extra else "bar",
                    **dict(bar.data),
                    "data-count": bar.count,
                    "data-height": repr(bar.height),
                    "x": centre - width / 2,
                    "y": y,
                    "width": width,
                    "height": max(bottom - y, 0.5),
                    "fill": _EXTRA_COLOR if bar.extra else _BAR_COLOR,
                },
                title=bar.title,
            )
            if bar.spread:
                _whisker(svg, centre, y_of(bar.height - bar.spread), y_of(bar.height + bar.spread))
            # The count inside the bar at its foot (clear of the whisker) when it fits,
            # else above the bar and its whisker.
            inside = bottom - y >= 24
            above = y_of(bar.height + bar.spread) if bar.spread else y
            count_y = bottom - 8 if inside else min(y, above) - 6
        svg.element(
            "text",
            {
                "class": "count",
                "data-count": bar.count,
                "x": centre,
                "y": count_y,
                "font-size": _SMALL,
                "text-anchor": "middle",
                "fill": "#ffffff" if inside else "#222222",
            },
            text=f"n = {bar.count}",
        )
    svg.close()
    if overall is not None:
        y = y_of(overall)
        svg.element(
            "line",
            {
                "class": "overall",
                "data-rate": repr(overall),
                "x1": _PLOT_LEFT,
                "y1": y,
                "x2": right,
                "y2": y,
                "stroke": _LINE_COLOR,
                "stroke-width": 2,
                "stroke-dasharray": "6 4",
            },
        )
        svg.element(
            "text",
            {
                "class": "overall-label",
                "x": right,
                "y": y - 5,
                "font-size": _SMALL,
                "text-anchor": "end",
                "fill": _LINE_COLOR,
            },
            text=f"all trials {format_number(overall, 3)}",
        )


def _whisker(svg: SvgBuilder, x: float, low_y: float, high_y: float) -> None:
    """A vertical line from ``low_y`` to ``high_y`` with short caps."""
    svg.open("g", {"class": "whisker", "stroke": "#222222", "stroke-width": 1.2})
    svg.element("line", {"x1": x, "y1": low_y, "x2": x, "y2": high_y})
    for y in (low_y, high_y):
        svg.element("line", {"x1": x - 6, "y1": y, "x2": x + 6, "y2": y})
    svg.close()
