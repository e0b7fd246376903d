"""The result of solving a game: optimal strategies, value and how exact they are."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Equilibrium"]


@dataclass(frozen=True, slots=True)
class Equilibrium:
    """A (near-)optimal pair of mixed strategies of a zero-sum game.

    ``row_strategy`` and ``column_strategy`` hold one probability per label, in the
    game's order, each summing to 1. ``exploitability`` is what a best response gains
    against the returned strategies (0 at an exact equilibrium). ``solver`` names the
    method used. ``translation`` is the monocycle translation ``a`` that gives the
    support equal, maximal power (``None`` for matrix games).

    The certificate: ``gap`` is ``max_i (A y)_i - min_j (x^T A)_j``, the distance between
    what the row strategy guarantees and what the column strategy concedes, computed
    from the returned strategies in the original scale; the value of the game lies
    within it and ``value`` is its midpoint (so ``exploitability`` is ``gap / 2``).
    ``tolerance`` is the bound the solver held the exploitability to (absolute; the
    solver computes it relative to the size of the payoffs), so ``certified`` is
    ``exploitability <= tolerance``. Exact methods report gap 0. The defaults describe
    an equilibrium built by hand.
    """

    labels: tuple[str, ...]
    row_strategy: tuple[float, ...]
    column_strategy: tuple[float, ...]
    value: float
    exploitability: float
    solver: str
    translation: tuple[float, float] | None = None
    gap: float = 0.0
    tolerance: float = 0.0

    @property
    def certified(self) -> bool:
        """Whether the exploitability is within the tolerance the solver promised."""
        return self.exploitability <= self.tolerance

    @property
    def support(self) -> tuple[str, ...]:
        """Labels played with positive probability by the row player."""
        return tuple(
            label
            for label, weight in zip(self.labels, self.row_strategy, strict=True)
            if weight > 0
        )
