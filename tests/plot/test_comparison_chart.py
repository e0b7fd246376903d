"""The comparison picture: a heat map of X - R beside both equilibria, safe and deterministic."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from monocycle_nash import Character, Equilibrium, Game, PayoffMatrix, compare_games
from monocycle_nash.compare import Comparison
from monocycle_nash.plot import MAX_HEATMAP_STRATEGIES, comparison_svg
from monocycle_nash.plot.comparison_chart import diverging_color
from tests.plot.svgtools import SVG, by_class, parse

SQRT3 = math.sqrt(3.0)
NASTY = ("<script>alert(1)</script>", "A&B \"q\" 'a'", "リュウ")


def two_games() -> Comparison:
    """The issue's example: an RPS roster against a measured reference."""
    roster = Game.of_roster(
        [
            Character("R", 0.0, (2.0, 0.0)),
            Character("P", 0.0, (-1.0, SQRT3)),
            Character("S", 0.0, (-1.0, -SQRT3)),
        ],
        "roster.toml",
    )
    rows = [[0, 2 * SQRT3, -SQRT3], [-2 * SQRT3, 0, 3 * SQRT3], [SQRT3, -3 * SQRT3, 0]]
    reference = Game.of_matrix(PayoffMatrix.from_rows(rows, ["R", "P", "S"]), "ref.toml")
    return compare_games(roster, reference)


def hand_equilibrium(labels: tuple[str, ...], weights: tuple[float, ...]) -> Equilibrium:
    """An equilibrium built by hand (the picture does not care whether it is one)."""
    return Equilibrium(labels, weights, weights, value=0.0, exploitability=0.0, solver="hand")


def large(size: int) -> Comparison:
    """Two size x size games with ``X - R = min(i, j) / 1000``: strategy k differs by k at most."""
    labels = tuple(f"c{k}" for k in range(size))
    game = PayoffMatrix.from_rows(
        [[float(j - i) for j in range(size)] for i in range(size)], labels
    )
    reference = PayoffMatrix.from_rows(
        [[float(j - i) - min(i, j) / 1000 for j in range(size)] for i in range(size)], labels
    )
    uniform = hand_equilibrium(labels, tuple(1.0 / size for _ in range(size)))
    return compare_games(
        game, reference, game_equilibrium=uniform, reference_equilibrium=uniform, spectral=False
    )


def nasty() -> Comparison:
    game = PayoffMatrix.from_rows([[0.0, 1.0, -1.0], [-1.0, 0.0, 1.0], [1.0, -1.0, 0.0]], NASTY)
    reference = PayoffMatrix.from_rows(
        [[0.0, 2.0, -1.0], [-2.0, 0.0, 1.0], [1.0, -1.0, 0.0]], NASTY
    )
    return compare_games(game, reference)


def test_same_input_gives_the_same_bytes() -> None:
    """Drawing twice gives identical documents."""
    assert comparison_svg(two_games()) == comparison_svg(two_games())


@pytest.mark.parametrize("make", [two_games, nasty, lambda: large(50)], ids=["two", "nasty", "50"])
def test_no_script_and_no_external_reference(make: Callable[[], Comparison]) -> None:
    """No script, event handler, href, foreign content or url() in the document."""
    root = parse(comparison_svg(make()))
    for element in root.iter():
        assert element.tag.removeprefix(SVG) not in {
            "script",
            "image",
            "foreignObject",
            "use",
            "a",
            "style",
        }
        for name, value in element.attrib.items():
            assert "href" not in name
            assert not name.startswith("on")
            assert "url(" not in value


def test_nasty_labels_keep_their_text() -> None:
    """Markup-like labels are text, never markup: each full label is in a <text>."""
    svg = comparison_svg(nasty())
    assert "<script" not in svg
    texts = ["".join(element.itertext()) for element in parse(svg).iter(f"{SVG}text")]
    for label in NASTY:
        assert any(label in text for text in texts), label


def test_one_cell_per_pair_with_its_difference() -> None:
    """n^2 cells, each carrying X - R; the largest difference is outlined and full colour."""
    comparison = two_games()
    root = parse(comparison_svg(comparison))
    cells = by_class(root, "rect", "cell")
    assert len(cells) == 9
    difference = comparison.difference()
    labels = comparison.labels
    for cell in cells:
        i, j = labels.index(cell.get("data-row", "")), labels.index(cell.get("data-column", ""))
        assert float(cell.get("data-difference", "nan")) == difference[i][j]
    assert len(by_class(root, "rect", "largest")) == 1
    row, column = comparison.max_element_at
    (largest,) = [
        cell for cell in cells if (cell.get("data-row"), cell.get("data-column")) == (row, column)
    ]
    sign = 1.0 if difference[labels.index(row)][labels.index(column)] > 0 else -1.0
    assert largest.get("fill") == diverging_color(sign)


def test_both_equilibria_are_drawn() -> None:
    """One game bar and one reference bar per played strategy, with their probabilities."""
    root = parse(comparison_svg(two_games()))
    game = {
        bar.get("data-label"): float(bar.get("data-probability", "0"))
        for bar in by_class(root, "rect", "game")
    }
    reference = {
        bar.get("data-label"): float(bar.get("data-probability", "0"))
        for bar in by_class(root, "rect", "reference")
    }
    assert game == pytest.approx({"R": 1 / 3, "P": 1 / 3, "S": 1 / 3})
    assert reference == pytest.approx({"R": 1 / 2, "P": 1 / 6, "S": 1 / 3})


def test_distances_are_in_the_caption() -> None:
    """The caption states max |X - R|, where it is, and equilibrium_u."""
    comparison = two_games()
    row, column = comparison.max_element_at
    texts = " ".join(
        "".join(e.itertext()) for e in parse(comparison_svg(comparison)).iter(f"{SVG}text")
    )
    assert f"max |X - R| 1.732 at ({row}, {column})" in texts
    assert "equilibrium_u 1.155" in texts


def test_large_games_show_where_they_differ_most() -> None:
    """More than 40 strategies: the 40 with the largest differences, in order, and a note."""
    comparison = large(50)
    svg = comparison_svg(comparison)
    root = parse(svg)
    cells = by_class(root, "rect", "cell")
    assert len(cells) == MAX_HEATMAP_STRATEGIES**2
    rows = list(dict.fromkeys(cell.get("data-row") for cell in cells))
    assert rows == [f"c{k}" for k in range(10, 50)]
    (note,) = by_class(root, "text", "note")
    assert note.text is not None
    assert note.text.startswith("Showing the 40 of 50 strategies where the games differ most")
    assert "10 other strategies hold probability 0.2 (X) and 0.2 (R)" in note.text


def test_identical_games_draw_white_cells() -> None:
    """A game against itself: every cell is the colour of 0, nothing outlined."""
    comparison = compare_games(two_games().reference, two_games().reference)
    root = parse(comparison_svg(comparison))
    assert {cell.get("fill") for cell in by_class(root, "rect", "cell")} == {diverging_color(0.0)}
    assert by_class(root, "rect", "largest") == []


def test_numbers_are_plain() -> None:
    """Coordinates are plain decimals: no exponent, NaN or infinity anywhere."""
    svg = comparison_svg(large(50))
    assert not re.search(r'="[^"]*(nan|inf)[^"]*"', svg, re.IGNORECASE)
    ET.fromstring(svg.encode("utf-8"))  # noqa: S314 - our own output


def test_bad_limit_is_refused() -> None:
    """``max_strategies`` below 1 is a ValueError."""
    with pytest.raises(ValueError, match="max_strategies"):
        comparison_svg(two_games(), max_strategies=0)


def test_diverging_colors() -> None:
    """-1 is blue, 0 near white, +1 red; values beyond are clamped."""
    assert diverging_color(-1.0) == "#2166ac"
    assert diverging_color(0.0) == "#f7f7f7"
    assert diverging_color(1.0) == "#b2182b"
    assert diverging_color(5.0) == diverging_color(1.0)
