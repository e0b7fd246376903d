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
    "WarmStartGame",
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
    tableau = _Tableau(scaled, 1.0, 0.0, _FLOAT_EPS, devex=pricing == "devex")
    pivots = tableau.optimise()
    return _float_solution(tableau, lo, span, pivots)


class WarmStartGame:
    """A float matrix game whose simplex keeps its tableau between solves.

    The double oracle (``double_oracle.py``) grows its restricted game by a few rows and
    columns a round; re-solving from the slack basis would repeat every pivot. Here new
    columns enter the last optimal tableau as ``B^-1 a`` (it stays primal feasible: the
    primal simplex goes on) and new rows as constraints on the current basis (it stays
    dual feasible: the dual simplex restores the rhs). Every payoff is rescaled with the
    ``lo``/``hi`` given up front (those of the whole game), so entries stay in [1, 2].
    """

    def __init__(self, rows: Sequence[Sequence[float]], *, lo: float, hi: float) -> None:
        self._lo = lo
        self._span = hi - lo if hi > lo else 1.0
        table = [self._scaled(row) for row in check_shape(rows)]
        self._tableau = _Tableau(table, 1.0, 0.0, _FLOAT_EPS, devex=True)
        self.pivots = self._tableau.optimise()

    def _scaled(self, payoffs: Sequence[float]) -> list[float]:
        lo, span = self._lo, self._span
        return [(v - lo) / span + 1.0 for v in payoffs]

    def extend(self, columns: Sequence[Sequence[float]], rows: Sequence[Sequence[float]]) -> None:
        """Add ``columns`` (each: its payoffs against the rows so far) and re-optimise,
        then ``rows`` (each: its payoffs against every column, the new ones included)."""
        tableau = self._tableau
        if columns:
            for column in columns:
                tableau.add_column(self._scaled(column))
            self.pivots += tableau.optimise()
        if rows:
            for row in rows:
                tableau.add_row(self._scaled(row))
            self.pivots += tableau.dual_optimise()
            self.pivots += tableau.optimise()  # round-off may leave a positive reduced cost

    def solution(self) -> MatrixGameSolution[float]:
        """Optimal strategies of the game so far (columns and rows in the order added)."""
        return _float_solution(self._tableau, self._lo, self._span, self.pivots)


def _float_solution(
    tableau: _Tableau[float], lo: float, span: float, pivots: int
) -> MatrixGameSolution[float]:
    x, y, value_b = _optimum(tableau)
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
    tableau = _Tableau(scaled, one, Fraction(0), Fraction(0), devex=False)
    pivots = tableau.optimise()
    x, y, value_b = _optimum(tableau)
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


def _optimum(tableau: _Tableau[Num]) -> tuple[list[Num], list[Num], Num]:
    """Row duals x, primal y and value ``1 / sum(y)`` of an optimal tableau."""
    x, y = tableau.solution()
    zero = tableau.zero
    total = sum(y, zero)
    if not total > zero or not sum(x, zero) > zero:
        raise SolverFailure("simplex ended without a strategy")
    return x, y, tableau.one / total


class _Tableau(Generic[Num]):
    """Condensed tableau: row variable i = rhs[i] - sum_j table[i][j] * column variable j."""

    def __init__(
        self, table: list[list[Num]], one: Num, zero: Num, eps: Num, *, devex: bool
    ) -> None:
        self.table: list[list[Num]] = table
        self.m = len(table)
        self.n = len(table[0])
        self.zero: Num = zero
        self.one: Num = one
        self.eps: Num = eps
        self.rhs: list[Num] = [one] * self.m
        self.cost: list[Num] = [one] * self.n  # objective = const + sum_j cost[j] * column j
        # Variable ids: y_j -> 2j, slack of row i -> 2i + 1 (stable when rows or columns
        # are added, see ``WarmStartGame``).
        self.basic = [2 * i + 1 for i in range(self.m)]
        self.nonbasic = [2 * j for j in range(self.n)]
        # Devex reference weights (floats), 1 for every column of the first basis.
        self.devex = devex
        self.weights: list[float] = [1.0] * self.n if devex else []

    def optimise(self) -> int:
        """Primal simplex from a feasible basis (every rhs >= 0) to the optimum; return
        the number of pivots."""
        limit = 50 * (self.m + self.n) + 1000
        bland = False
        pivots = 0
        while True:
            if bland:
                entering = self.entering_bland()
            elif self.devex:
                entering = self.entering_devex()
            else:
                entering = self.entering_dantzig()
            if entering < 0:
                return pivots
            leaving = self.leaving(entering)
            if leaving < 0:  # cannot happen for a positive table: the program is bounded
                raise SolverFailure("simplex found an unbounded direction in a bounded program")
            bland = self.rhs[leaving] <= self.eps
            self.pivot(leaving, entering)
            pivots += 1
            if pivots > limit:
                raise SolverFailure(f"simplex did not converge in {limit} pivots")

    def dual_optimise(self) -> int:
        """Dual simplex from a dual feasible basis (no reduced cost above eps) until every
        rhs is >= 0; return the number of pivots.

        The leaving row is the most negative rhs; the entering column keeps the reduced
        costs non-positive: among ``table[r][j] < 0`` the smallest ``cost[j] / table[r][j]``.
        """
        limit = 50 * (self.m + self.n) + 1000
        eps, zero = self.eps, self.zero
        pivots = 0
        while True:
            leaving = -1
            lowest = -eps
            for i, value in enumerate(self.rhs):
                if value < lowest:
                    leaving, lowest = i, value
            if leaving < 0:
                return pivots
            entering = -1
            best_ratio = zero
            for j, entry in enumerate(self.table[leaving]):
                if entry < -eps:
                    ratio = min(self.cost[j], zero) / entry
                    if (
                        entering < 0
                        or ratio < best_ratio
                        or (ratio == best_ratio and self.nonbasic[j] < self.nonbasic[entering])
                    ):
                        entering, best_ratio = j, ratio
            if entering < 0:  # cannot happen: y = 0 is always feasible
                raise SolverFailure("dual simplex found an infeasible row in a feasible program")
            self.pivot(leaving, entering)
            pivots += 1
            if pivots > limit:
                raise SolverFailure(f"dual simplex did not converge in {limit} pivots")

    def add_column(self, payoffs: Sequence[Num]) -> None:
        """Add a column variable whose entries in the original rows are ``payoffs``.

        Its tableau column is ``B^-1 a``: ``B^-1``'s column for original row k is the
        tableau column of slack k where that slack is non-basic, else a unit vector at its
        row; its reduced cost is ``1 - x . a`` (x: the duals, minus the slacks' costs).
        """
        slack_positions = [(j, payoffs[var >> 1]) for j, var in enumerate(self.nonbasic) if var & 1]
        cost = self.cost
        cost.append(sum((cost[j] * a for j, a in slack_positions), self.one))
        for i, row in enumerate(self.table):
            var = self.basic[i]
            entry = payoffs[var >> 1] if var & 1 else self.zero
            row.append(sum((row[j] * a for j, a in slack_positions), entry))
        self.nonbasic.append(2 * self.n)
        if self.devex:
            self.weights.append(1.0)
        self.n += 1

    def add_row(self, payoffs: Sequence[Num]) -> None:
        """Add a row constraint ``payoffs . y <= 1`` over the column variables so far.

        Its slack becomes basic: the row is the constraint with every basic column
        variable replaced by its tableau row; its rhs may be negative (``dual_optimise``).
        """
        row = [payoffs[var >> 1] if not var & 1 else self.zero for var in self.nonbasic]
        rhs = self.one
        for i, var in enumerate(self.basic):
            if not var & 1:
                weight = payoffs[var >> 1]
                rhs -= weight * self.rhs[i]
                row = [a - weight * b for a, b in zip(row, self.table[i], strict=True)]
        self.table.append(row)
        self.rhs.append(rhs if rhs > self.eps or rhs < -self.eps else self.zero)
        self.basic.append(2 * self.m + 1)
        self.m += 1

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
            if not var & 1 and self.rhs[i] > zero:
                y[var >> 1] = self.rhs[i]
        x = [zero] * self.m
        for j, var in enumerate(self.nonbasic):
            if var & 1 and self.cost[j] < zero:
                x[var >> 1] = -self.cost[j]
        return x, y
