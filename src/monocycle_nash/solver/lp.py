"""Zero-sum matrix games as a linear program: a dense tableau simplex, float or exact.

The payoff ``A`` (m x n, row player maximises) is rescaled to ``B = (A - lo) / span + 1``
so every entry lies in [1, 2] and the value is positive. The column player's program

    maximise sum(y)  subject to  B y <= 1,  y >= 0

is feasible at ``y = 0`` and bounded, so the slack basis starts the simplex without a
phase one. At the optimum ``y / sum(y)`` is an optimal column strategy, the duals of the
rows (read from the reduced costs of the slack columns) give an optimal row strategy,
and the value of ``B`` is ``1 / sum(y)``.

The tableau is kept in condensed (Tucker) form, m x n, and pivots exchange a row
variable with a column variable. The entering column is chosen by *Devex* pricing
(Forrest and Goldfarb's approximation of steepest edge): the largest ``c_j^2 / w_j``,
where the reference weight ``w_j`` estimates the squared length of the edge that column
j would move along and is updated from the pivot row alone (O(n) per pivot). It takes
the steepest step rather than the longest-looking one and needs about half the pivots
of Dantzig's rule (the largest reduced cost) on dense random games. Exact steepest edge
(the true lengths, updated by Goldfarb and Reid's recurrence) saved a few more pivots
but needs an extra O(mn) product per pivot, which made it no faster here. Dantzig's
rule is kept as ``pricing="dantzig"``, the benchmark's baseline. Right after a
degenerate pivot Bland's rule (smallest variable index, for entering and for ties in
the ratio test) is used; a cycle consists of degenerate pivots only, so every pivot in
it would follow Bland's rule, which cannot cycle.

With ``exact=True`` every number is a ``fractions.Fraction`` (floats convert exactly) and
all comparisons are exact, so rock-paper-scissors gives exactly 1/3; the exact tableau
uses Dantzig's rule (it solves small restricted games, where pricing hardly matters).

The value returned here is the tableau's, mapped back from the rescaled table, which
loses about ``span * eps``; ``certificate.py`` computes the value and its guarantees
from the strategies in the original scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, Literal, TypeVar

__all__ = [
    "MatrixGameSolution",
    "Pricing",
    "SolverFailure",
    "check_shape",
    "solve_matrix_game",
    "solve_matrix_game_exact",
]

Pricing = Literal["devex", "dantzig"]

Num = TypeVar("Num", float, Fraction)
_T = TypeVar("_T")

_FLOAT_EPS = 1e-12
# Probabilities below this in a float solution are round-off of an exact zero (they
# appear on degenerate games, e.g. 2.5e-16); they are dropped and the rest renormalised.
_WEIGHT_NOISE = 1e-12


class SolverFailure(RuntimeError):
    """A solver could not produce an answer (a bug or numerical breakdown, not bad input)."""


@dataclass(frozen=True, slots=True)
class MatrixGameSolution(Generic[Num]):
    """Optimal mixed strategies of a matrix game and its value (row player's payoff)."""

    row_strategy: tuple[Num, ...]
    column_strategy: tuple[Num, ...]
    value: Num
    pivots: int


def solve_matrix_game(
    rows: Sequence[Sequence[float]], *, pricing: Pricing = "devex"
) -> MatrixGameSolution[float]:
    """Solve the zero-sum game with payoff ``rows`` (any m x n) in floating point.

    ``pricing`` picks the entering column: ``"devex"`` (the default) or ``"dantzig"``
    (the largest reduced cost: more pivots, kept as the benchmark's baseline).
    """
    if pricing not in ("devex", "dantzig"):
        raise ValueError(f"unknown pricing rule {pricing!r}")
    matrix = check_shape(rows)
    lo = float(min(map(min, matrix)))
    hi = float(max(map(max, matrix)))
    span = hi - lo if hi > lo else 1.0
    scaled = [[(v - lo) / span + 1.0 for v in row] for row in matrix]
    x, y, value_b, pivots = _simplex(scaled, 1.0, 0.0, _FLOAT_EPS, devex=pricing == "devex")
    return MatrixGameSolution(
        tuple(_without_noise(_normalised(x, 0.0))),
        tuple(_without_noise(_normalised(y, 0.0))),
        (value_b - 1.0) * span + lo,
        pivots,
    )


def solve_matrix_game_exact(
    rows: Sequence[Sequence[float | Fraction | int]],
) -> MatrixGameSolution[Fraction]:
    """Solve the zero-sum game with payoff ``rows`` exactly, in rational arithmetic."""
    matrix = [[Fraction(v) for v in row] for row in check_shape(rows)]
    lo = min(min(row) for row in matrix)
    hi = max(max(row) for row in matrix)
    span = hi - lo if hi > lo else Fraction(1)
    one = Fraction(1)
    scaled = [[(v - lo) / span + one for v in row] for row in matrix]
    x, y, value_b, pivots = _simplex(scaled, one, Fraction(0), Fraction(0), devex=False)
    return MatrixGameSolution(
        tuple(_normalised(x, Fraction(0))),
        tuple(_normalised(y, Fraction(0))),
        (value_b - one) * span + lo,
        pivots,
    )


def check_shape(rows: Sequence[Sequence[_T]]) -> Sequence[Sequence[_T]]:
    """Return ``rows`` if it is a non-empty rectangular table, else raise ``ValueError``."""
    if not rows or not rows[0]:
        raise ValueError("a matrix game needs at least one row and one column")
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise ValueError("every row of a matrix game must have the same length")
    return rows


def _normalised(weights: list[Num], zero: Num) -> list[Num]:
    total = sum(weights, zero)
    return [w / total for w in weights]


def _without_noise(strategy: list[float]) -> list[float]:
    """Zero the weights below ``_WEIGHT_NOISE`` and renormalise the rest."""
    return _normalised([w if w > _WEIGHT_NOISE else 0.0 for w in strategy], 0.0)


def _simplex(
    table: list[list[Num]], one: Num, zero: Num, eps: Num, *, devex: bool
) -> tuple[list[Num], list[Num], Num, int]:
    """Maximise sum(y) s.t. table y <= 1, y >= 0 (all entries of ``table`` positive).

    Return (row duals x, primal y, value 1/sum(y), pivot count); ``table`` is consumed.
    """
    tableau = _Tableau(table, one, zero, eps, devex=devex)
    limit = 50 * (tableau.m + tableau.n) + 1000
    bland = False
    pivots = 0
    while True:
        if bland:
            entering = tableau.entering_bland()
        elif devex:
            entering = tableau.entering_devex()
        else:
            entering = tableau.entering_dantzig()
        if entering < 0:
            break
        leaving = tableau.leaving(entering)
        if leaving < 0:  # cannot happen for a positive table: the program is bounded
            raise SolverFailure("simplex found an unbounded direction in a bounded program")
        bland = tableau.rhs[leaving] <= eps
        tableau.pivot(leaving, entering)
        pivots += 1
        if pivots > limit:
            raise SolverFailure(f"simplex did not converge in {limit} pivots")
    x, y = tableau.solution()
    total = sum(y, zero)
    if not total > zero or not sum(x, zero) > zero:
        raise SolverFailure("simplex ended without a strategy")
    return x, y, one / total, pivots


class _Tableau(Generic[Num]):
    """Condensed tableau: row variable i = rhs[i] - sum_j table[i][j] * column variable j."""

    def __init__(
        self, table: list[list[Num]], one: Num, zero: Num, eps: Num, *, devex: bool
    ) -> None:
        self.table: list[list[Num]] = table
        self.m = len(table)
        self.n = len(table[0])
        self.zero: Num = zero
        self.eps: Num = eps
        self.rhs: list[Num] = [one] * self.m
        self.cost: list[Num] = [one] * self.n  # objective = const + sum_j cost[j] * column j
        # Variable ids: y_j -> j, slack of row i -> n + i.
        self.basic = [self.n + i for i in range(self.m)]
        self.nonbasic = list(range(self.n))
        # Devex reference weights (floats), 1 for every column of the first basis.
        self.devex = devex
        self.weights: list[float] = [1.0] * self.n if devex else []

    def entering_dantzig(self) -> int:
        """Column with the largest positive reduced cost, or -1 at the optimum."""
        entering = -1
        best = self.eps
        for j, value in enumerate(self.cost):
            if value > best:
                entering, best = j, value
        return entering

    def entering_devex(self) -> int:
        """Column with the largest ``c_j^2 / w_j`` among positive reduced costs, or -1."""
        entering = -1
        best = 0.0
        eps = self.eps
        for j, (value, weight) in enumerate(zip(self.cost, self.weights, strict=True)):
            if value > eps:
                score = float(value * value) / weight
                if score > best:
                    entering, best = j, score
        return entering

    def entering_bland(self) -> int:
        """Column of smallest variable id with a positive reduced cost, or -1."""
        entering = -1
        best_id = -1
        for j, value in enumerate(self.cost):
            if value > self.eps and (best_id < 0 or self.nonbasic[j] < best_id):
                entering, best_id = j, self.nonbasic[j]
        return entering

    def leaving(self, entering: int) -> int:
        """Row of the minimum ratio test (ties: smallest variable id), or -1 if unbounded."""
        leaving = -1
        best_ratio = self.zero
        for i, row in enumerate(self.table):
            entry = row[entering]
            if entry > self.eps:
                ratio = self.rhs[i] / entry
                if (
                    leaving < 0
                    or ratio < best_ratio
                    or (ratio == best_ratio and self.basic[i] < self.basic[leaving])
                ):
                    leaving, best_ratio = i, ratio
        return leaving

    def pivot(self, r: int, s: int) -> None:
        """Exchange row variable r with column variable s."""
        table, rhs, eps, zero = self.table, self.rhs, self.eps, self.zero
        pivot_row = table[r]
        if self.devex:
            self._update_weights(r, s)
        inv = 1 / pivot_row[s]
        new_row = [v * inv for v in pivot_row]
        new_row[s] = inv
        new_rhs = rhs[r] * inv
        for i, row in enumerate(table):
            factor = row[s]
            if i == r or factor == 0:
                continue
            updated = [a - factor * b for a, b in zip(row, new_row, strict=True)]
            updated[s] = -factor * inv
            table[i] = updated
            value = rhs[i] - factor * new_rhs
            # Float round-off must not leave a basic variable slightly negative.
            rhs[i] = value if value > eps or value < -eps else zero
        factor = self.cost[s]
        updated_cost = [a - factor * b for a, b in zip(self.cost, new_row, strict=True)]
        updated_cost[s] = -factor * inv
        self.cost = updated_cost
        table[r] = new_row
        rhs[r] = new_rhs
        self.basic[r], self.nonbasic[s] = self.nonbasic[s], self.basic[r]

    def _update_weights(self, r: int, s: int) -> None:
        """Devex update for the pivot (r, s), from the pivot row alone.

        Column j's edge changes to ``e_j - alpha_j e_s`` with ``alpha_j = T_rj / T_rs``;
        its weight becomes ``max(w_j, alpha_j^2 w_s)``, and the entering column's edge
        becomes ``e_s / T_rs``, weight ``max(w_s / T_rs^2, 1)``.
        """
        pivot_row = self.table[r]
        inv = 1.0 / float(pivot_row[s])
        weight_s = self.weights[s]
        alphas = [float(value) * inv for value in pivot_row]
        updated = [
            max(weight, alpha * alpha * weight_s)
            for weight, alpha in zip(self.weights, alphas, strict=True)
        ]
        updated[s] = max(weight_s * inv * inv, 1.0)
        self.weights = updated

    def solution(self) -> tuple[list[Num], list[Num]]:
        """Return (row duals x, column primal y), negative round-off clipped to zero."""
        zero = self.zero
        y = [zero] * self.n
        for i, var in enumerate(self.basic):
            if var < self.n and self.rhs[i] > zero:
                y[var] = self.rhs[i]
        x = [zero] * self.m
        for j, var in enumerate(self.nonbasic):
            if var >= self.n and self.cost[j] < zero:
                x[var - self.n] = -self.cost[j]
        return x, y
