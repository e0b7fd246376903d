"""Approximate equilibria of matrix games by predictive regret matching+ (first order).

Each player keeps a vector of clipped cumulative regrets ``Q`` (one entry per pure
strategy). In every iteration the row player meets the column player's current strategy
y: its payoffs ``u = A y``, expected payoff ``<u, x>`` and instantaneous regrets
``r = u - <u, x>``; ``Q <- max(Q + r, 0)`` (regret matching+), and the next strategy is
proportional to ``max(Q + r, 0)``, which counts the last regrets once more as a
prediction of the next ones (the predictive step of Farina, Kroer and Sandholm). The
column player then does the same against the new x (alternating updates). The averages
of the iterates, weighted by ``t^2``, converge to an equilibrium; each iteration costs
two products with the matrix, over the iterates' supports (about half the strategies).

The averages' payoffs are linear in the iterates', so their gap is known at every
iteration from running sums; when it looks within the tolerance, the averages are
certified against the whole matrix (``certificate.py``) and the method stops if they
pass, so an answer is never better or worse than it says. It also gives the double oracle its
first guess of the supports (``likely_support``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter, mul

from monocycle_nash.solver.certificate import Certificate, certify

__all__ = ["RegretMatchingResult", "likely_support", "regret_matching"]


@dataclass(frozen=True, slots=True)
class RegretMatchingResult:
    """The averaged strategies after ``iterations`` rounds and their certificate."""

    row_strategy: tuple[float, ...]
    column_strategy: tuple[float, ...]
    certificate: Certificate
    iterations: int


def regret_matching(
    rows: Sequence[Sequence[float]], *, tolerance: float, max_iterations: int
) -> RegretMatchingResult:
    """Run predictive regret matching+ until the averages' certificate holds.

    ``tolerance`` is relative to the payoffs' magnitude (``certificate.py``). Stops after
    ``max_iterations`` in any case; the result's certificate says whether it was met.
    """
    m, n = len(rows), len(rows[0])
    columns = list(zip(*rows, strict=True))
    x = [1.0 / m] * m
    y = [1.0 / n] * n
    regrets_x = [0.0] * m
    regrets_y = [0.0] * n
    # Weighted sums of the iterates and of their payoffs: the averages' payoffs are
    # linear in them, so their gap is known every iteration without another product.
    total_x = [0.0] * m
    total_y = [0.0] * n
    total_row_payoffs = [0.0] * m
    total_column_payoffs = [0.0] * n
    total_weight = 0.0
    weight = 0.0
    magnitude: float | None = None
    for t in range(1, max_iterations + 1):
        payoffs = _products(rows, y)
        if t > 1:
            # y is the last average's newest member: complete the averages' payoffs.
            total_row_payoffs = _added(total_row_payoffs, weight, payoffs)
            estimate = (max(total_row_payoffs) - min(total_column_payoffs)) / total_weight
            if magnitude is None or estimate <= 2.0 * tolerance * magnitude:
                result = _certified_average(rows, total_x, total_y, tolerance, t - 1)
                if result.certificate.certified:
                    return result
                magnitude = result.certificate.magnitude
        regrets_x, x = _regret_step(regrets_x, payoffs, x)
        column_payoffs = _products(columns, x)
        regrets_y, y = _regret_step(regrets_y, [-payoff for payoff in column_payoffs], y)
        weight = float(t * t)
        total_weight += weight
        total_x = _added(total_x, weight, x)
        total_y = _added(total_y, weight, y)
        total_column_payoffs = _added(total_column_payoffs, weight, column_payoffs)
    if total_weight == 0.0:  # no iteration at all
        return _certified_average(rows, [1.0] * m, [1.0] * n, tolerance, 0)
    return _certified_average(rows, total_x, total_y, tolerance, max_iterations)


def _added(total: list[float], weight: float, values: list[float]) -> list[float]:
    return [a + weight * b for a, b in zip(total, values, strict=True)]


def _products(vectors: Sequence[Sequence[float]], strategy: list[float]) -> list[float]:
    """``v . strategy`` for every v, reading only the strategy's support (iterates of
    regret matching+ are sparse: about half the strategies have no positive regret)."""
    support = [i for i, w in enumerate(strategy) if w > 0.0]
    if len(support) == len(strategy):
        return [sum(map(mul, vector, strategy)) for vector in vectors]
    weights = [strategy[i] for i in support]
    if len(support) == 1:
        (only,) = support
        return [vector[only] * weights[0] for vector in vectors]
    pick = itemgetter(*support)
    return [sum(map(mul, pick(vector), weights)) for vector in vectors]


def _regret_step(
    regrets: list[float], payoffs: list[float], strategy: list[float]
) -> tuple[list[float], list[float]]:
    """One predictive RM+ update: return the new clipped regrets and the next strategy."""
    expected = sum(map(mul, payoffs, strategy))
    instant = [payoff - expected for payoff in payoffs]
    regrets = [max(q + r, 0.0) for q, r in zip(regrets, instant, strict=True)]
    predicted = [max(q + r, 0.0) for q, r in zip(regrets, instant, strict=True)]
    total = sum(predicted)
    if total <= 0.0:  # no regret at all: keep playing the same strategy
        return regrets, strategy
    return regrets, [w / total for w in predicted]


def _certified_average(
    rows: Sequence[Sequence[float]],
    total_x: list[float],
    total_y: list[float],
    tolerance: float,
    iterations: int,
) -> RegretMatchingResult:
    sum_x, sum_y = sum(total_x), sum(total_y)
    x = tuple(w / sum_x for w in total_x)
    y = tuple(w / sum_y for w in total_y)
    return RegretMatchingResult(x, y, certify(rows, x, y, tolerance), iterations)


def likely_support(
    rows: Sequence[Sequence[float]], result: RegretMatchingResult, *, width: float = 2.0
) -> tuple[list[int], list[int]]:
    """Guess the equilibrium supports from approximate strategies.

    The support of an equilibrium consists of best responses to the other player's
    equilibrium strategy, so the guess is every pure strategy within ``width`` gaps of
    the best response to the other's average (measured in one O(mn) pass).
    """
    x, y = result.row_strategy, result.column_strategy
    slack = width * max(result.certificate.gap, 0.0)
    row_payoff = [sum(map(mul, row, y)) for row in rows]
    column_payoff = [sum(map(mul, column, x)) for column in zip(*rows, strict=True)]
    best_row = max(row_payoff)
    best_column = min(column_payoff)
    likely_rows = [i for i, payoff in enumerate(row_payoff) if payoff >= best_row - slack]
    likely_columns = [j for j, payoff in enumerate(column_payoff) if payoff <= best_column + slack]
    return likely_rows, likely_columns
