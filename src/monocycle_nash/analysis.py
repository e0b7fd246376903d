"""Per-strategy outputs of an equilibrium: pure-strategy payoffs and divergences."""

from __future__ import annotations

from collections.abc import Sequence

from monocycle_nash.character import Character, roster_arrays
from monocycle_nash.game import Game
from monocycle_nash.matrix import PayoffMatrix, payoffs_against
from monocycle_nash.solver.monocycle import translation_and_mean_power

__all__ = ["divergences", "pure_strategy_payoffs"]


def pure_strategy_payoffs(
    game: Game | PayoffMatrix | Sequence[Character], column_strategy: Sequence[float]
) -> tuple[float, ...]:
    """Return ``(A y)_i`` for every strategy i: its payoff against the column strategy y.

    For rosters this is ``p_i - P + v_i x a`` with ``a = sum y_j v_j`` and
    ``P = sum y_j p_j``, computed in O(n) without the matrix.
    """
    if isinstance(game, Game) and game.characters is not None:
        return _roster_payoffs(game.arrays, column_strategy)
    if isinstance(game, Game):
        game = game.matrix
    if isinstance(game, PayoffMatrix):
        _check_length(game.size, column_strategy)
        return payoffs_against(game.rows, column_strategy)
    return _roster_payoffs(roster_arrays(game), column_strategy)


def divergences(payoffs: Sequence[float]) -> tuple[float, ...]:
    """Return ``max(payoffs) - payoff_i`` for each i: 0 for best responses (the support)."""
    if not payoffs:
        raise ValueError("divergences need at least one payoff")
    best = max(payoffs)
    return tuple(best - payoff for payoff in payoffs)


def _roster_payoffs(
    arrays: tuple[list[float], list[float], list[float]], column_strategy: Sequence[float]
) -> tuple[float, ...]:
    powers, xs, ys = arrays
    _check_length(len(powers), column_strategy)
    support = [(i, w) for i, w in enumerate(column_strategy) if w]
    ax, ay, mean = translation_and_mean_power(powers, xs, ys, support)
    return tuple(p - mean + x * ay - y * ax for p, x, y in zip(powers, xs, ys, strict=True))


def _check_length(size: int, column_strategy: Sequence[float]) -> None:
    if len(column_strategy) != size:
        raise ValueError(
            f"the column strategy has {len(column_strategy)} entries for {size} strategies"
        )
