"""``solve``: pick the monocycle solver for rosters and the simplex for matrices."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from operator import attrgetter

from monocycle_nash.character import Character, roster_arrays
from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.game import Game
from monocycle_nash.matrix import PayoffMatrix, payoffs_against
from monocycle_nash.solver.lp import solve_matrix_game, solve_matrix_game_exact
from monocycle_nash.solver.monocycle import solve_roster

__all__ = ["matrix_exploitability", "solve"]

LP_SOLVER = "simplex"
LP_EXACT_SOLVER = "simplex-exact"


def solve(game: Game | PayoffMatrix | Sequence[Character], *, exact: bool = False) -> Equilibrium:
    """Return an equilibrium of ``game``; ``Equilibrium.solver`` names the method used.

    Rosters (a roster ``Game`` or a sequence of ``Character``) go to the monocycle
    solver, which never builds the payoff matrix; matrices go to the simplex. With
    ``exact=True`` both work in rational arithmetic (slower; for small games).
    """
    if isinstance(game, PayoffMatrix):
        return _solve_matrix(game, exact=exact)
    if isinstance(game, Game):
        if game.characters is None:
            return _solve_matrix(game.matrix, exact=exact)
        return _solve_roster(game.labels, game.arrays, exact=exact)
    characters = list(game)
    labels = tuple(map(attrgetter("label"), characters))
    if not labels or len(set(labels)) != len(labels):
        Game.of_roster(characters)  # raises the GameError that names the problem
    return _solve_roster(labels, roster_arrays(characters), exact=exact)


def matrix_exploitability(
    rows: Sequence[Sequence[float]],
    row_strategy: Sequence[float],
    column_strategy: Sequence[float],
    value: float,
) -> float:
    """Largest gain of a best response against either strategy, relative to ``value``.

    That is ``max(max_i (A y)_i - value, value - min_j (x^T A)_j)``, clipped at 0.
    """
    row_payoffs = payoffs_against(rows, column_strategy)
    column_payoffs = [
        math.fsum(x * row[j] for x, row in zip(row_strategy, rows, strict=True))
        for j in range(len(column_strategy))
    ]
    return max(max(row_payoffs) - value, value - min(column_payoffs), 0.0)


def _exact_exploitability(
    rows: Sequence[Sequence[float]],
    row_strategy: Sequence[Fraction],
    column_strategy: Sequence[Fraction],
    value: Fraction,
) -> Fraction:
    table = [[Fraction(a) for a in row] for row in rows]
    best_row = max(
        sum((a * y for a, y in zip(row, column_strategy, strict=True)), Fraction(0))
        for row in table
    )
    worst_column = min(
        sum((x * row[j] for x, row in zip(row_strategy, table, strict=True)), Fraction(0))
        for j in range(len(column_strategy))
    )
    return max(best_row - value, value - worst_column, Fraction(0))


def _solve_matrix(matrix: PayoffMatrix, *, exact: bool) -> Equilibrium:
    if exact:
        solution = solve_matrix_game_exact(matrix.rows)
        gap = _exact_exploitability(
            matrix.rows, solution.row_strategy, solution.column_strategy, solution.value
        )
        return Equilibrium(
            labels=matrix.labels,
            row_strategy=tuple(float(w) for w in solution.row_strategy),
            column_strategy=tuple(float(w) for w in solution.column_strategy),
            value=float(solution.value),
            exploitability=float(gap),
            solver=LP_EXACT_SOLVER,
        )
    approx = solve_matrix_game(matrix.rows)
    return Equilibrium(
        labels=matrix.labels,
        row_strategy=approx.row_strategy,
        column_strategy=approx.column_strategy,
        value=approx.value,
        exploitability=matrix_exploitability(
            matrix.rows, approx.row_strategy, approx.column_strategy, approx.value
        ),
        solver=LP_SOLVER,
    )


def _solve_roster(
    labels: tuple[str, ...],
    arrays: tuple[list[float], list[float], list[float]],
    *,
    exact: bool,
) -> Equilibrium:
    powers, xs, ys = arrays
    solution = solve_roster(powers, xs, ys, exact=exact)
    strategy = solution.strategy(len(labels))
    return Equilibrium(
        labels=labels,
        row_strategy=strategy,
        column_strategy=strategy,
        value=0.0,  # a skew-symmetric game is worth exactly 0
        exploitability=solution.exploitability,
        solver=solution.method,
        translation=solution.translation,
    )
