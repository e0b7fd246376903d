"""The pictures of games whose numbers are subnormal, huge, or both: drawn, never NaN."""

from __future__ import annotations

import math
import re
import sys

import pytest

from monocycle_nash import Game, solve
from monocycle_nash.character import MAX_COORDINATE, MAX_POWER, Character
from monocycle_nash.plot import characters_scale, characters_svg, equilibrium_svg, payoff_graph_svg
from monocycle_nash.plot.scales import nice_step, nice_ticks, tick_text
from tests.plot.svgtools import by_class, equilibrium_for, parse

TINY = 5e-324  # the smallest positive float, a subnormal
HUGE = sys.float_info.max
NOT_FINITE = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)

ROSTERS = [
    pytest.param(
        [(0.0, (TINY, 0.0)), (0.0, (0.0, TINY)), (0.0, (-TINY, -TINY))], id="subnormal-vectors"
    ),
    pytest.param(
        [(1.0, (MAX_COORDINATE * 0.999, TINY)), (-1.0, (MAX_COORDINATE * 0.999, 0.0))],
        id="huge-x-subnormal-y",
    ),
    pytest.param(
        [
            (MAX_POWER, (-MAX_COORDINATE, MAX_COORDINATE)),
            (-MAX_POWER, (MAX_COORDINATE, -MAX_COORDINATE)),
            (0.0, (TINY, -TINY)),
        ],
        id="largest-allowed",
    ),
    pytest.param([(0.0, (1.0, 1.0)), (0.0, (1.0 + 2**-52, 1.0))], id="one-ulp-apart"),
    pytest.param([(TINY, (2.2e-308, 1e-300)), (0.0, (1e-300, 2.2e-308))], id="tiny-normal"),
]


def _roster(entries: list[tuple[float, tuple[float, float]]]) -> list[Character]:
    return [Character(f"c{index}", p, v) for index, (p, v) in enumerate(entries)]


def _assert_finite_svg(svg: str) -> None:
    """Parsable, and no NaN or infinity written anywhere."""
    parse(svg)
    assert NOT_FINITE.search(svg) is None, NOT_FINITE.search(svg)


@pytest.mark.parametrize("entries", ROSTERS)
def test_every_picture_of_an_extreme_roster_is_drawn(
    entries: list[tuple[float, tuple[float, float]]],
) -> None:
    """Solved rosters with subnormal and huge numbers: all three pictures, no NaN."""
    characters = _roster(entries)
    game = Game.of_roster(characters)
    equilibrium = solve(game)
    _assert_finite_svg(characters_svg(characters, equilibrium))
    _assert_finite_svg(equilibrium_svg(equilibrium))
    _assert_finite_svg(payoff_graph_svg(game.labels, game.matrix.rows))


def test_subnormal_points_are_spread_over_the_plot() -> None:
    """Vectors a few subnormals apart still land at distinct places inside the box."""
    characters = _roster([(0.0, (TINY, 0.0)), (0.0, (0.0, TINY)), (0.0, (-TINY, -TINY))])
    equilibrium = equilibrium_for(("c0", "c1", "c2"), (1 / 3, 1 / 3, 1 / 3), (0.0, 0.0))
    scale = characters_scale(characters, equilibrium)
    centres = {scale.to_svg(c.vector) for c in characters}
    assert len(centres) == 3
    for x, y in centres:
        assert scale.left <= x <= scale.left + scale.size
        assert scale.top <= y <= scale.top + scale.size
    ticks = by_class(parse(characters_svg(characters, equilibrium)), "text", "tick-x")
    assert len(ticks) >= 2


def test_a_translation_near_the_largest_float_is_drawn() -> None:
    """A frame wider than the largest float is cut to it; every number stays finite."""
    characters = _roster([(0.0, (1.0, 0.0)), (0.0, (-1.0, 0.0))])
    equilibrium = equilibrium_for(("c0", "c1"), (0.5, 0.5), (-HUGE, HUGE))
    scale = characters_scale(characters, equilibrium)
    assert math.isfinite(scale.span)
    assert all(math.isfinite(v) for c in characters for v in scale.to_svg(c.vector))
    svg = characters_svg(characters, equilibrium)
    parse(svg)
    attributes = re.findall(r' (?:cx|cy|x|y|x1|x2|y1|y2)="([^"]*)"', svg)
    assert all(math.isfinite(float(value)) for value in attributes)


@pytest.mark.parametrize(
    "span",
    [TINY, 2 * TINY, 1e-320, 2.2e-308, 1e-300, 1.0, 0.3, 1e300, HUGE],
    ids=repr,
)
def test_nice_step_is_positive_and_close_to_a_fifth(span: float) -> None:
    """From one subnormal to the largest float: a positive step, at most a few per span."""
    step = nice_step(span)
    assert step > 0
    assert math.isfinite(step)
    assert span / step <= 5 * (1 + 1e-9) or step == TINY


@pytest.mark.parametrize(
    ("low", "high"),
    [(-TINY, TINY), (0.0, 3 * TINY), (-HUGE, HUGE), (1e10, 1e10), (1.0, 1.0 + 2**-52)],
    ids=["subnormal", "three-subnormals", "whole-float-range", "empty", "one-ulp"],
)
def test_nice_ticks_are_few_finite_and_inside(low: float, high: float) -> None:
    """Ticks of any finite range: at most a handful, finite, within the range."""
    ticks = nice_ticks(low, high)
    assert len(ticks) <= 12
    assert all(math.isfinite(tick) and low <= tick <= high for tick in ticks)


def test_nice_ticks_of_a_non_finite_range_are_none() -> None:
    """An infinite end gives no ticks instead of an endless loop."""
    assert nice_ticks(0.0, math.inf) == ()


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (-1.5, "-1.5"), (0.0001, "0.0001"), (5e-05, "5e-05"), (1e149, "1e+149")],
)
def test_tick_text_is_short(value: float, text: str) -> None:
    """Tick labels: plain decimals in the usual range, 6 significant digits outside it."""
    assert tick_text(value) == text
