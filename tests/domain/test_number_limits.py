"""Number limits: inputs whose payoffs would overflow are refused; inputs at the limits solve."""

from __future__ import annotations

import math
import random

import pytest

from monocycle_nash import Character, Game, PayoffMatrix, divergences, pure_strategy_payoffs, solve
from monocycle_nash.character import MAX_COORDINATE, MAX_PAYOFF, MAX_POWER
from monocycle_nash.errors import GameNumberError


@pytest.mark.parametrize(
    ("power", "vector"),
    [
        pytest.param(2 * MAX_POWER, (0.0, 0.0), id="power"),
        pytest.param(0.0, (0.0, -2 * MAX_COORDINATE), id="coordinate"),
    ],
)
def test_character_beyond_the_limits_is_refused(power: float, vector: tuple[float, float]) -> None:
    """A character whose payoffs could overflow is refused on construction."""
    with pytest.raises(ValueError, match="so that payoffs stay finite"):
        Character("A", power, vector)


def test_matrix_entry_beyond_the_limit_is_refused() -> None:
    """A payoff matrix entry above MAX_PAYOFF is a GameNumberError naming the entry."""
    with pytest.raises(GameNumberError, match=r"rows\[1\]\[0\] is too large"):
        PayoffMatrix.from_rows([[0.0, 1.0], [-2 * MAX_PAYOFF, 0.0]])


def test_huge_integer_is_too_large_not_a_crash() -> None:
    """An integer too large for a float is refused like any too-large number."""
    with pytest.raises(GameNumberError, match="too large"):
        PayoffMatrix.from_rows([[0, 10**400], [0, 0]])


def _finite(*values: float) -> bool:
    return all(math.isfinite(value) for value in values)


@pytest.mark.parametrize("exact", [pytest.param(False, id="float"), pytest.param(True, id="exact")])
@pytest.mark.parametrize("seed", [pytest.param(seed, id=f"seed{seed}") for seed in range(6)])
def test_roster_at_the_limits_solves_with_finite_results(seed: int, exact: bool) -> None:
    """Powers and coordinates at their limits give finite strategies, payoffs and matrix."""
    rng = random.Random(seed)
    size = (2, 3, 5, 8, 13, 30)[seed]
    roster = [
        Character(
            f"c{index}",
            rng.choice((MAX_POWER, -MAX_POWER, rng.uniform(-MAX_POWER, MAX_POWER))),
            (rng.choice((MAX_COORDINATE, -MAX_COORDINATE)), rng.choice((MAX_COORDINATE, 0.0))),
        )
        for index in range(size)
    ]
    game = Game.of_roster(roster)
    equilibrium = solve(game, exact=exact)
    payoffs = pure_strategy_payoffs(game, equilibrium.column_strategy)
    assert equilibrium.translation is not None
    assert _finite(
        *equilibrium.row_strategy,
        equilibrium.exploitability,
        *equilibrium.translation,
        *payoffs,
        *divergences(payoffs),
    )
    assert max(abs(value) for row in game.matrix.rows for value in row) <= MAX_PAYOFF


@pytest.mark.parametrize("exact", [pytest.param(False, id="float"), pytest.param(True, id="exact")])
def test_matrix_at_the_limit_solves_with_finite_results(exact: bool) -> None:
    """Entries of +-MAX_PAYOFF give a finite value, exploitability and payoffs."""
    rng = random.Random(1)
    rows = [[rng.choice((MAX_PAYOFF, -MAX_PAYOFF)) for _ in range(6)] for _ in range(6)]
    matrix = PayoffMatrix.from_rows(rows)
    equilibrium = solve(matrix, exact=exact)
    payoffs = pure_strategy_payoffs(matrix, equilibrium.column_strategy)
    assert _finite(
        *equilibrium.row_strategy,
        equilibrium.value,
        equilibrium.exploitability,
        *payoffs,
        *divergences(payoffs),
    )
