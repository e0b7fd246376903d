"""Who beats whom: strategies on a circle, arrows for large advantages (``payoff_graph.svg``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from monocycle_nash.plot.svg import SvgBuilder, fmt, format_number, id_prefix
from monocycle_nash.plot.text import shorten

__all__ = [
    "DEFAULT_ARROWS_PER_STRATEGY",
    "DEFAULT_THRESHOLD_FRACTION",
    "MAX_GRAPH_STRATEGIES",
    "default_threshold",
    "payoff_graph_svg",
]

MAX_GRAPH_STRATEGIES = 40
"""The largest game :func:`payoff_graph_svg` draws by default; callers check the size first."""

DEFAULT_THRESHOLD_FRACTION = 0.2
"""Without an explicit threshold, an arrow needs more than this share of the largest |A[i][j]|."""

DEFAULT_ARROWS_PER_STRATEGY = 4
"""Without an explicit threshold, at most this many arrows per strategy (on average) are drawn."""

_WIDTH = 680.0
_HEIGHT = 740.0
_MARGIN = 20.0
_CENTRE = (340.0, 400.0)
_RADIUS = 200.0
_NODE_R = 6.0
_LABEL_FONT = 12.0
_MAX_LABEL_WIDTH = 100.0
_RADIAL_LABELS_ABOVE = 12
_MIN_STROKE = 0.8
_MAX_STROKE = 4.0
_EDGE_COLOR = "#3b528b"
_MUTED = "#666666"


def default_threshold(rows: Sequence[Sequence[float]]) -> float:
    """Return the default arrow threshold for the payoff matrix ``rows``.

    It is a fifth (:data:`DEFAULT_THRESHOLD_FRACTION`) of the largest absolute payoff,
    so arrows show the clear advantages whatever the payoff unit and near-even matchups
    (numerical noise included) draw nothing; for larger games it is raised, if needed,
    to the payoff that leaves at most :data:`DEFAULT_ARROWS_PER_STRATEGY` arrows per
    strategy. An all-zero matrix gives 0, so it draws no arrow.
    """
    values = sorted(
        (value for i, row in enumerate(rows) for j, value in enumerate(row) if i != j),
        reverse=True,
    )
    largest = max((abs(value) for row in rows for value in row), default=0.0)
    threshold = DEFAULT_THRESHOLD_FRACTION * largest
    budget = DEFAULT_ARROWS_PER_STRATEGY * len(rows)
    if len(values) > budget:
        threshold = max(threshold, values[budget])
    return threshold


def _check(labels: Sequence[str], rows: Sequence[Sequence[float]], max_strategies: int) -> None:
    count = len(labels)
    if count > max_strategies:
        raise ValueError(
            f"the payoff graph draws at most {max_strategies} strategies, this game has {count}"
        )
    if count == 0:
        raise ValueError("there are no strategies to draw")
    if len(rows) != count or any(len(row) != count for row in rows):
        raise ValueError(f"the payoff matrix must be {count} x {count}, one row per label")
    if not all(math.isfinite(value) for row in rows for value in row):
        raise ValueError("the payoff matrix holds a non-finite number")


def _label_position(x: float, y: float, angle: float, count: int) -> tuple[float, float, str, str]:
    """Where a node's label goes: beside it, or along the radius for many strategies.

    Returns x, y, text-anchor and a rotate transform (empty when horizontal).
    """
    cos, sin = math.cos(angle), math.sin(angle)
    lx, ly = x + cos * (_NODE_R + 6), y + sin * (_NODE_R + 6)
    if count > _RADIAL_LABELS_ABOVE:
        # Radial text: neighbours are an arc apart, wider than a line of text.
        degrees = math.degrees(angle)
        anchor = "start" if cos >= 0 else "end"
        if cos < 0:
            degrees += 180.0
        return lx, ly + 4, anchor, f"rotate({fmt(degrees)} {fmt(lx)} {fmt(ly)})"
    anchor = "start" if cos > 0.3 else "end" if cos < -0.3 else "middle"
    return lx, ly + 4 + (8 * sin if anchor == "middle" else 0), anchor, ""


def payoff_graph_svg(
    labels: Sequence[str],
    rows: Sequence[Sequence[float]],
    *,
    threshold: float | None = None,
    max_strategies: int = MAX_GRAPH_STRATEGIES,
) -> str:
    """Draw strategies on a circle with an arrow i -> j wherever ``rows[i][j] > threshold``.

    ``rows`` is the payoff matrix A (row player's advantage). Without ``threshold`` the
    :func:`default_threshold` is used. Stroke width grows with A[i][j]. Each arrow is a
    ``<line class="edge">`` with ``data-from``, ``data-to`` (indices) and ``data-value``;
    each strategy a ``<circle class="strategy">``. Raises ``ValueError`` for more than
    ``max_strategies`` strategies or a matrix that is not square and finite.
    """
    _check(labels, rows, max_strategies)
    count = len(labels)
    limit = default_threshold(rows) if threshold is None else threshold
    if not math.isfinite(limit):
        raise ValueError("the threshold must be a finite number")
    edges = [
        (i, j, float(rows[i][j]))
        for i in range(count)
        for j in range(count)
        if i != j and rows[i][j] > limit
    ]
    strongest = max((value for _, _, value in edges), default=limit)

    def stroke(value: float) -> float:
        if strongest <= limit:
            return (_MIN_STROKE + _MAX_STROKE) / 2
        return _MIN_STROKE + (_MAX_STROKE - _MIN_STROKE) * (value - limit) / (strongest - limit)

    cx, cy = _CENTRE
    angles = [-math.pi / 2 + 2 * math.pi * k / count for k in range(count)]
    nodes = [(cx + _RADIUS * math.cos(a), cy + _RADIUS * math.sin(a)) for a in angles]

    prefix = id_prefix("payoff", (list(labels), [list(row) for row in rows], limit))
    marker_id = f"{prefix}-arrow"
    svg = SvgBuilder(
        _WIDTH,
        _HEIGHT,
        title="Payoff graph: who beats whom",
        description=f"{count} strategies; {len(edges)} arrows where A[i][j] > {limit!r}",
    )
    svg.open("defs")
    svg.open(
        "marker",
        {
            "id": marker_id,
            "viewBox": "0 0 10 10",
            "refX": 9,
            "refY": 5,
            "markerWidth": 9,
            "markerHeight": 9,
            "markerUnits": "userSpaceOnUse",
            "orient": "auto",
        },
    )
    svg.element("path", {"d": "M0,0 L10,5 L0,10 z", "fill": _EDGE_COLOR})
    svg.close()
    svg.close()
    svg.page(f"Payoff graph: who beats whom ({count} strategies)", margin=_MARGIN)
    threshold_source = "default threshold" if threshold is None else "given threshold"
    svg.element(
        "text",
        {"class": "caption", "x": _MARGIN, "y": 58, "font-size": 13, "fill": _MUTED},
        text=(
            f"arrow i → j where A[i][j] > {format_number(limit)} ({threshold_source}); "
            f"width by A[i][j]; {len(edges)} arrows"
        ),
    )

    edge_set = {(i, j) for i, j, _ in edges}
    svg.open("g", {"class": "edges", "stroke": _EDGE_COLOR, "stroke-opacity": 0.75})
    for i, j, value in edges:
        (x1, y1), (x2, y2) = nodes[i], nodes[j]
        length = math.hypot(x2 - x1, y2 - y1)
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        # Two arrows between the same pair (possible when threshold < 0) sit side by side.
        shift = 3.0 if (j, i) in edge_set else 0.0
        ox, oy = -uy * shift, ux * shift
        start = _NODE_R + 2
        end = _NODE_R + 3
        svg.element(
            "line",
            {
                "class": "edge",
                "data-from": str(i),
                "data-to": str(j),
                "data-value": repr(value),
                "x1": x1 + ux * start + ox,
                "y1": y1 + uy * start + oy,
                "x2": x2 - ux * end + ox,
                "y2": y2 - uy * end + oy,
                "stroke-width": stroke(value),
                "marker-end": f"url(#{marker_id})",
            },
            title=f"{labels[i]} → {labels[j]}: A = {format_number(value)}",
        )
    svg.close()

    svg.open("g", {"class": "strategies"})
    for index, ((x, y), angle) in enumerate(zip(nodes, angles, strict=True)):
        label = labels[index]
        svg.element(
            "circle",
            {
                "class": "strategy",
                "data-index": str(index),
                "data-label": label,
                "cx": x,
                "cy": y,
                "r": _NODE_R,
                "fill": "#ffffff",
                "stroke": "#222222",
                "stroke-width": 1.5,
            },
            title=label,
        )
        lx, ly, anchor, transform = _label_position(x, y, angle, count)
        text = shorten(label, _MAX_LABEL_WIDTH, _LABEL_FONT)
        svg.element(
            "text",
            {
                "class": "label",
                "data-index": str(index),
                "x": lx,
                "y": ly,
                "font-size": _LABEL_FONT,
                "text-anchor": anchor,
                **({"transform": transform} if transform else {}),
            },
            text=text,
            title=label if text != label else None,
        )
    svg.close()
    return svg.to_string()
