"""Tests of the payoff graph (strategies on a circle, arrows for advantages)."""

from __future__ import annotations

import math

import pytest

from monocycle_nash.plot import (
    DEFAULT_ARROWS_PER_STRATEGY,
    DEFAULT_THRESHOLD_FRACTION,
    MAX_GRAPH_STRATEGIES,
    default_threshold,
    payoff_graph_svg,
)
from tests.plot.svgtools import SVG, by_class, parse

RPS = [[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]


def _skew(count: int) -> list[list[float]]:
    """A deterministic skew-symmetric matrix with varied entries."""
    rows = [[0.0] * count for _ in range(count)]
    for i in range(count):
        for j in range(i + 1, count):
            value = math.sin(3.1 * i + 1.7 * j) * (1 + (i * j) % 5)
            rows[i][j], rows[j][i] = value, -value
    return rows


def _edges(svg: str) -> set[tuple[int, int]]:
    return {
        (int(e.get("data-from", "")), int(e.get("data-to", "")))
        for e in by_class(parse(svg), "line", "edge")
    }


def test_rock_paper_scissors_has_its_three_arrows() -> None:
    """Each strategy points at the one it beats."""
    svg = payoff_graph_svg(["Rock", "Paper", "Scissors"], RPS)
    assert _edges(svg) == {(0, 2), (1, 0), (2, 1)}
    assert len(by_class(parse(svg), "circle", "strategy")) == 3


@pytest.mark.parametrize(
    "threshold",
    [
        pytest.param(0.0, id="zero"),
        pytest.param(0.5, id="half"),
        pytest.param(2.0, id="two"),
        pytest.param(-0.5, id="negative"),
    ],
)
def test_one_arrow_per_entry_above_the_threshold(threshold: float) -> None:
    """Arrows are exactly the pairs i != j with A[i][j] > threshold."""
    rows = _skew(9)
    labels = [f"S{index}" for index in range(9)]
    expected = {(i, j) for i in range(9) for j in range(9) if i != j and rows[i][j] > threshold}
    svg = payoff_graph_svg(labels, rows, threshold=threshold)
    edges = by_class(parse(svg), "line", "edge")
    assert len(edges) == len(expected)
    assert _edges(svg) == expected


def test_default_threshold_is_a_fifth_of_the_largest_payoff() -> None:
    """Without a threshold, arrows need more than DEFAULT_THRESHOLD_FRACTION of max |A|."""
    rows = _skew(7)
    largest = max(abs(value) for row in rows for value in row)
    assert default_threshold(rows) == pytest.approx(DEFAULT_THRESHOLD_FRACTION * largest)
    labels = [str(index) for index in range(7)]
    assert _edges(payoff_graph_svg(labels, rows)) == _edges(
        payoff_graph_svg(labels, rows, threshold=default_threshold(rows))
    )


def test_default_threshold_caps_arrows_for_large_games() -> None:
    """For many strategies the default draws at most DEFAULT_ARROWS_PER_STRATEGY per node."""
    rows = _skew(30)
    edges = _edges(payoff_graph_svg([f"S{i}" for i in range(30)], rows))
    assert 0 < len(edges) <= DEFAULT_ARROWS_PER_STRATEGY * 30
    weakest_drawn = min(rows[i][j] for i, j in edges)
    strongest_left_out = max(
        rows[i][j] for i in range(30) for j in range(30) if i != j and (i, j) not in edges
    )
    assert weakest_drawn > strongest_left_out


def test_many_strategies_get_radial_labels() -> None:
    """Above a dozen strategies labels are rotated along the radius; small games stay level."""
    many = parse(payoff_graph_svg([f"S{i}" for i in range(20)], _skew(20)))
    assert all(
        label.get("transform", "").startswith("rotate(")
        for label in by_class(many, "text", "label")
    )
    few = parse(payoff_graph_svg(["Rock", "Paper", "Scissors"], RPS))
    assert all(label.get("transform") is None for label in by_class(few, "text", "label"))


def test_all_zero_matrix_draws_no_arrow() -> None:
    """An all-even game has nothing to point at."""
    assert _edges(payoff_graph_svg(["A", "B"], [[0.0, 0.0], [0.0, 0.0]])) == set()


def test_stroke_width_grows_with_the_advantage() -> None:
    """A larger A[i][j] gives a wider arrow."""
    root = parse(payoff_graph_svg([f"S{i}" for i in range(8)], _skew(8), threshold=0.0))
    pairs = sorted(
        (float(e.get("data-value", "")), float(e.get("stroke-width", "")))
        for e in by_class(root, "line", "edge")
    )
    widths = [width for _, width in pairs]
    assert widths == sorted(widths)
    assert widths[0] < widths[-1]


def test_arrow_marker_is_defined_inside_the_document() -> None:
    """Every arrow's marker-end points at a <marker> defined in the same SVG."""
    root = parse(payoff_graph_svg(["Rock", "Paper", "Scissors"], RPS))
    ids = {marker.get("id") for marker in root.iter(f"{SVG}marker")}
    edges = by_class(root, "line", "edge")
    assert len(edges) == 3  # each of Rock, Paper, Scissors beats exactly one other
    for edge in edges:
        reference = edge.get("marker-end", "")
        assert reference.startswith("url(#")
        assert reference[5:-1] in ids


def test_strategies_sit_on_a_circle() -> None:
    """All strategy nodes are the same distance from their common centre."""
    root = parse(payoff_graph_svg([f"S{i}" for i in range(10)], _skew(10)))
    centres = [
        (float(c.get("cx", "")), float(c.get("cy", "")))
        for c in by_class(root, "circle", "strategy")
    ]
    mx = sum(x for x, _ in centres) / len(centres)
    my = sum(y for _, y in centres) / len(centres)
    radii = [math.hypot(x - mx, y - my) for x, y in centres]
    assert max(radii) - min(radii) < 0.02


def test_more_strategies_than_the_limit_are_refused() -> None:
    """Above max_strategies the caller gets a ValueError naming the limit."""
    count = MAX_GRAPH_STRATEGIES + 1
    labels = [f"S{i}" for i in range(count)]
    with pytest.raises(ValueError, match=f"at most {MAX_GRAPH_STRATEGIES} strategies"):
        payoff_graph_svg(labels, _skew(count))
    with pytest.raises(ValueError, match="at most 5 strategies"):
        payoff_graph_svg(labels[:6], _skew(6), max_strategies=5)
    assert MAX_GRAPH_STRATEGIES == 40
    payoff_graph_svg(labels[:-1], _skew(count - 1))


@pytest.mark.parametrize(
    ("labels", "rows", "message"),
    [
        pytest.param(["A", "B"], [[0.0, 1.0]], "2 x 2", id="missing-row"),
        pytest.param(["A", "B"], [[0.0], [1.0]], "2 x 2", id="short-rows"),
        pytest.param(["A", "B"], [[0.0, math.nan], [0.0, 0.0]], "non-finite", id="nan"),
        pytest.param([], [], "no strategies", id="empty"),
    ],
)
def test_malformed_matrix_is_refused(
    labels: list[str], rows: list[list[float]], message: str
) -> None:
    """A matrix that is not square, finite and non-empty raises ValueError."""
    with pytest.raises(ValueError, match=message):
        payoff_graph_svg(labels, rows)


def test_labels_are_escaped_and_long_ones_shortened() -> None:
    """Markup in labels is escaped; a long label keeps its full text in a <title>."""
    long = "ザンギエフ the Red Cyclone of the Soviet Union"
    root = parse(payoff_graph_svg(["<&>\"'", long, "リュウ"], RPS))
    labels = by_class(root, "text", "label")
    assert labels[0].text == "<&>\"'"
    assert labels[1].text != long
    assert labels[1].findtext(f"{SVG}title") == long
    assert labels[2].text == "リュウ"
