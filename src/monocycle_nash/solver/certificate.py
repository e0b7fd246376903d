"""Certificates of matrix-game answers: both players' guarantees in the original scale.

For mixed strategies x (rows, maximising) and y (columns) of a payoff matrix A,

    lower = min_j (x^T A)_j     what x guarantees the row player,
    upper = max_i (A y)_i       what y concedes at most,

and the value of the game lies in ``[lower, upper]`` whatever the solver did. Their
difference ``gap = upper - lower`` measures how far the pair is from an equilibrium (0
at an exact one); the reported value is the midpoint, so the exploitability (what a best
response gains against either strategy, relative to the value) is ``gap / 2``.

The payoffs are computed from the strategies and the original entries with compensated
sums (``math.fsum``), never from a rescaled tableau. Only the strategies' supports are
read: O(m k) for a support of k, which keeps the double oracle's passes cheap.

The tolerance is relative to the *magnitude* of the sums that make the guarantees: with
``T_i = sum_j |A_ij| y_j`` (the size of the terms of row i's payoff) and
``U_j = sum_i x_i |A_ij|``,

    magnitude = max T_i over the rows that could be the best  +  max U_j over the
                columns that could be the worst

("could be": within ``1e-13 B`` of ``upper``, resp. ``lower``, where ``B`` is the
largest |entry| the sums read, far more than their round-off of about ``1e-16 T_i``). It
bounds the round-off of the gap, and it is the precision to which a float strategy pair
can be an equilibrium at all: weights known to 1e-16 move a payoff by 1e-16 of its
terms. It is at most ``2 max |A_ij|`` and often far less: on ``[[0, 1e17], [-1, 0]]``
the equilibrium's deciding payoffs read only zeros, so a pair conceding 1 is not
certified although 1 is tiny next to 1e17. An answer is *certified* when its
exploitability is within the tolerance: ``gap / 2 <= relative_tolerance * magnitude``
(the roster solver's rule: exploitability at most ``1e-9`` of the scale).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import compress
from operator import itemgetter, mul

__all__ = [
    "Certificate",
    "Payoffs",
    "certificate_of",
    "certify",
    "column_payoffs",
    "row_payoffs",
    "support_of",
]


@dataclass(frozen=True, slots=True)
class Certificate:
    """The two players' guarantees of a strategy pair and the tolerance they are held to.

    ``lower`` = min_j (x^T A)_j and ``upper`` = max_i (A y)_i bound the value of the game;
    ``magnitude`` is the size of the sums behind them (module docstring) and
    ``relative_tolerance`` the share of it the gap may reach.
    """

    lower: float
    upper: float
    magnitude: float
    relative_tolerance: float

    @property
    def tolerance(self) -> float:
        """The absolute bound on the exploitability: ``relative_tolerance * magnitude``."""
        return self.relative_tolerance * self.magnitude

    @property
    def gap(self) -> float:
        """``upper - lower``, clipped at 0 (round-off can cross them at an exact answer)."""
        return max(self.upper - self.lower, 0.0)

    @property
    def certified(self) -> bool:
        """Whether the exploitability (half the gap) is within the tolerance."""
        return self.exploitability <= self.tolerance

    @property
    def value(self) -> float:
        """The midpoint of the guarantees: within ``gap / 2`` of the value of the game."""
        low, high = sorted((self.lower, self.upper))
        return min(max(low + (high - low) / 2.0, low), high)

    @property
    def exploitability(self) -> float:
        """What a best response gains against either strategy relative to ``value``."""
        value = self.value
        return max(self.upper - value, value - self.lower, 0.0)

    def at_exact_value(self, value: float) -> Certificate:
        """The certificate of an exact equilibrium of value ``value`` (gap 0)."""
        return replace(self, lower=value, upper=value)


# A payoff within this share of its terms' size of the best (worst) one could be the
# best (worst) one: round-off is about 1e-16 of that size.
_TIE_WINDOW = 1e-13


@dataclass(frozen=True, slots=True)
class Payoffs:
    """Payoffs of every pure strategy against a mixed one.

    ``values[i] = sum_k terms[i][k] * weights[k]``; ``bound`` is the largest |term|, a
    bound on every ``size(i) = sum_k |terms[i][k]| * weights[k]`` (weights sum to 1),
    which is computed only for the few payoffs near the best.
    """

    values: list[float]
    terms: list[tuple[float, ...]]
    weights: tuple[float, ...]
    bound: float

    def size(self, index: int) -> float:
        """The size of payoff ``index``'s terms: ``sum_k |terms[k]| * weights[k]``."""
        return float(sum(map(mul, map(abs, self.terms[index]), self.weights)))

    def best(self, sign: float) -> tuple[float, float]:
        """Return the largest value (sign 1; the smallest for -1) and the largest size
        among the values that could be it: those within ``1e-13 bound`` of it."""
        values = self.values
        reach = _TIE_WINDOW * self.bound
        if sign > 0:
            best = max(values)
            near = map((best - reach).__le__, values)
        else:
            best = min(values)
            near = map((best + reach).__ge__, values)
        return best, max(map(self.size, compress(range(len(values)), near)))


def support_of(strategy: Sequence[float]) -> list[tuple[int, float]]:
    """Return the (index, weight) pairs of the positive weights of ``strategy``."""
    return [(index, weight) for index, weight in enumerate(strategy) if weight > 0.0]


def row_payoffs(
    rows: Sequence[Sequence[float]],
    column_support: Sequence[tuple[int, float]],
    *,
    bound: float | None = None,
) -> Payoffs:
    """Return ``(A y)_i`` for every row i, y given by its support pairs (O(m k)).

    ``bound``, if known, is the largest |A_ij| over y's support columns.
    """
    indices, weights = zip(*column_support, strict=True)
    terms: list[tuple[float, ...]]
    if len(indices) == 1:
        (j,) = indices
        terms = [(row[j],) for row in rows]
    else:
        pick = itemgetter(*indices)
        terms = [pick(row) for row in rows]
    return _payoffs(terms, weights, bound)


def column_payoffs(
    rows: Sequence[Sequence[float]],
    row_support: Sequence[tuple[int, float]],
    *,
    bound: float | None = None,
) -> Payoffs:
    """Return ``(x^T A)_j`` for every column j, x given by its support pairs (O(n k)).

    As ``row_payoffs``; ``bound`` is the largest |A_ij| over x's support rows.
    """
    indices, weights = zip(*row_support, strict=True)
    terms = list(zip(*(rows[i] for i in indices), strict=True))
    return _payoffs(terms, weights, bound)


def _payoffs(
    terms: list[tuple[float, ...]], weights: tuple[float, ...], bound: float | None
) -> Payoffs:
    """Payoffs ``sum_k t_k w_k`` for each tuple t of entries, weights w > 0 (fsum is as
    fast as a plain sum for a few terms)."""
    values = [math.fsum(map(mul, entries, weights)) for entries in terms]
    if bound is None:
        highest = max(map(max, terms))
        lowest = min(map(min, terms))
        bound = max(highest, -lowest)
    return Payoffs(values, terms, weights, float(bound))


def certificate_of(
    against_x: Payoffs, against_y: Payoffs, relative_tolerance: float
) -> Certificate:
    """The certificate from the columns' payoffs against x and the rows' against y."""
    lower, lower_size = against_x.best(-1.0)
    upper, upper_size = against_y.best(1.0)
    return Certificate(lower, upper, lower_size + upper_size, relative_tolerance)


def certify(
    rows: Sequence[Sequence[float]],
    row_strategy: Sequence[float],
    column_strategy: Sequence[float],
    relative_tolerance: float,
) -> Certificate:
    """Return the certificate of the pair (x, y) against the whole matrix ``rows``."""
    against_x = column_payoffs(rows, support_of(row_strategy))
    against_y = row_payoffs(rows, support_of(column_strategy))
    return certificate_of(against_x, against_y, relative_tolerance)
