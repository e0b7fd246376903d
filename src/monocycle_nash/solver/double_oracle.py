"""Double oracle over matrix games: solve a small restricted game, add best responses.

The game restricted to a working set of rows R and columns C is solved with the simplex
(``lp.py``), each round warm-started from the last round's tableau (``WarmStartGame``);
its strategies, extended by zeros, are then checked against the whole matrix: one pass
over the rows against y's support and one over the columns against x's support (O((m +
n) k) for supports of k, see ``certificate.py``). Rows that beat the restricted game's
guarantee ``max_{i in R} (A y)_i`` and columns below ``min_{j in C} (x^T A)_j`` are best
responses the working set lacks; the best of them join it and the loop repeats. The
answer is certified against the whole matrix, so a game whose equilibrium has a small
support (team games, most real rosters) never builds a tableau larger than a few times
its support.

- ``double_oracle``: float simplex on the restricted games. It stops when the gap is
  within ``aim`` (relative, like every tolerance here: see ``certificate.py``) and
  otherwise reports ``"stalled"`` (no new best response, or a simplex
  breakdown: round-off, e.g. on payoffs of very different sizes) or ``"too-large"``
  (the working set outgrew ``max_working``: a dense equilibrium, better solved another
  way) with the best answer seen.
- ``exact_double_oracle``: the same loop in rational arithmetic (``Fraction``); it ends
  at an exact equilibrium of the whole game. A float pass with a margin far wider than
  its round-off picks the few rows and columns that could beat the restricted value;
  only those are checked exactly. Used to refine a float answer that cannot be
  certified (seeded with its supports) and by ``method="exact"`` on larger games.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import compress
from operator import itemgetter
from typing import Literal

from monocycle_nash.solver.certificate import (
    Certificate,
    certificate_of,
    column_payoffs,
    row_payoffs,
)
from monocycle_nash.solver.lp import (
    MatrixGameSolution,
    SolverFailure,
    WarmStartGame,
    solve_matrix_game_exact,
)

__all__ = ["ExactAnswer", "OracleAnswer", "double_oracle", "exact_double_oracle"]

_ADD_MIN = 2  # best responses added per side and round, at least ...
_ADD_SHARE = 0.5  # ... and up to this share of the working set
# Float screening margin of the exact method, relative to the largest |entry| a payoff
# reads: payoffs computed from rounded strategies are off by a few units of 1e-16 of it.
_SCREEN_MARGIN = 1e-7
# A warm tableau is rebuilt when the entries' range is below 1/this of its scaling range.
_NARROWEST_SHARE = 8

Outcome = Literal["certified", "stalled", "too-large"]


@dataclass(frozen=True, slots=True)
class OracleAnswer:
    """The best strategy pair the float double oracle found, and why it stopped.

    ``working_rows`` and ``working_columns`` are the final working sets (a refinement
    starts from them).
    """

    row_strategy: tuple[float, ...]
    column_strategy: tuple[float, ...]
    certificate: Certificate
    outcome: Outcome
    rounds: int
    working_rows: tuple[int, ...]
    working_columns: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ExactAnswer:
    """An exact equilibrium: rational strategies (index -> weight) and value."""

    row_support: dict[int, Fraction]
    column_support: dict[int, Fraction]
    value: Fraction
    rounds: int

    def strategies(self, m: int, n: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Both strategies as full-length tuples of the nearest floats."""
        x = [0.0] * m
        y = [0.0] * n
        for i, weight in self.row_support.items():
            x[i] = float(weight)
        for j, weight in self.column_support.items():
            y[j] = float(weight)
        return tuple(x), tuple(y)


def _picker(indices: Sequence[int]) -> Callable[[Sequence[float]], tuple[float, ...]]:
    """Return a function giving a row's entries at ``indices`` as a tuple."""
    if len(indices) == 1:
        (only,) = indices
        return lambda row: (row[only],)
    return itemgetter(*indices)


def _to_add(size: int) -> int:
    return max(_ADD_MIN, int(_ADD_SHARE * size))


def double_oracle(
    rows: Sequence[Sequence[float]],
    start_rows: Sequence[int],
    start_columns: Sequence[int],
    *,
    tolerance: float,
    aim: float,
    max_working: int,
) -> OracleAnswer:
    """Float double oracle from the given working sets (see the module docstring).

    ``tolerance`` (relative) goes into the certificate; the loop stops once the gap is
    within ``aim`` (relative, at most ``tolerance``) and otherwise returns its best answer.
    """
    m, n = len(rows), len(rows[0])
    working_rows = list(dict.fromkeys(start_rows))
    working_columns = list(dict.fromkeys(start_columns))
    bounds = _Bounds(rows)
    best: tuple[Certificate, list[tuple[int, float]], list[tuple[int, float]]] | None = None
    outcome: Outcome = "stalled"
    rounds = 0
    restricted = _RestrictedGame(rows)
    added_rows: list[int] = []
    added_columns: list[int] = []
    while True:
        rounds += 1
        try:
            solution = restricted.solve(working_rows, working_columns, added_rows, added_columns)
        except SolverFailure:
            break
        x_support = _support(working_rows, solution.row_strategy)
        y_support = _support(working_columns, solution.column_strategy)
        against_y = row_payoffs(rows, y_support, bound=bounds.of_columns(y_support))
        against_x = column_payoffs(rows, x_support, bound=bounds.of_rows(x_support))
        certificate = certificate_of(against_x, against_y, tolerance)
        if best is None or certificate.gap < best[0].gap:
            best = (certificate, x_support, y_support)
        if certificate.gap <= aim * certificate.magnitude:
            outcome = "certified"
            break
        upper = max(against_y.values[i] for i in working_rows)
        lower = min(against_x.values[j] for j in working_columns)
        new_rows = _beyond(against_y.values, working_rows, upper, 1.0)
        new_columns = _beyond(against_x.values, working_columns, lower, -1.0)
        if not new_rows and not new_columns:
            break
        added_rows = new_rows[: _to_add(len(working_rows))]
        added_columns = new_columns[: _to_add(len(working_columns))]
        working_rows += added_rows
        working_columns += added_columns
        if len(working_rows) > max_working or len(working_columns) > max_working:
            outcome = "too-large"
            break
    if best is None:
        raise SolverFailure("the double oracle could not solve its first restricted game")
    certificate, x_support, y_support = best
    if outcome == "certified" and not certificate.certified:
        outcome = "stalled"
    return OracleAnswer(
        _full(m, x_support),
        _full(n, y_support),
        certificate,
        outcome,
        rounds,
        tuple(working_rows),
        tuple(working_columns),
    )


class _RestrictedGame:
    """The restricted games of one double oracle, each solved from the last one's basis
    (``WarmStartGame``); from scratch when that breaks down or its scale no longer fits.

    The warm tableau rescales payoffs with bounds fixed when it is built: the range of
    the entries read so far, widened by that range on each side (reading the whole
    matrix for its bounds would cost more than a small-support game's whole solve). New
    entries outside the bounds, or a range much narrower than them (the first restricted
    game can be a single entry), rebuild the tableau with fresh bounds.
    """

    def __init__(self, rows: Sequence[Sequence[float]]) -> None:
        self.rows = rows
        self.game: WarmStartGame | None = None
        self.seen = (0.0, 0.0)  # lowest and highest entry read so far
        self.bounds = (0.0, 0.0)  # the bounds the warm tableau was built with

    def solve(
        self,
        working_rows: Sequence[int],
        working_columns: Sequence[int],
        added_rows: Sequence[int],
        added_columns: Sequence[int],
    ) -> MatrixGameSolution[float]:
        """Solve the game on the working sets, which end with the ``added`` indices."""
        pick = _picker(working_columns)
        if self.game is not None:
            old_rows = [self.rows[i] for i in working_rows[: len(working_rows) - len(added_rows)]]
            columns = [[row[j] for row in old_rows] for j in added_columns]
            new_rows = [pick(self.rows[i]) for i in added_rows]
            if self._fits([*columns, *new_rows]):
                try:
                    self.game.extend(columns, new_rows)
                    return self.game.solution()
                except SolverFailure:
                    pass
        restricted = [pick(self.rows[i]) for i in working_rows]
        lo = min(map(min, restricted))
        hi = max(map(max, restricted))
        self.seen = (lo, hi)
        width = hi - lo or abs(hi) or 1.0
        self.bounds = (lo - width, hi + width)
        self.game = WarmStartGame(restricted, lo=self.bounds[0], hi=self.bounds[1])
        return self.game.solution()

    def _fits(self, entries: Sequence[Sequence[float]]) -> bool:
        """Whether the warm tableau's bounds still suit the entries read, ``entries`` too."""
        lo, hi = self.seen
        if entries:
            lo = min(lo, *map(min, entries))
            hi = max(hi, *map(max, entries))
        self.seen = (lo, hi)
        low, high = self.bounds
        return low <= lo and hi <= high and (hi - lo) * _NARROWEST_SHARE >= high - low


class _Bounds:
    """Largest |A_ij| of each row and column, computed when first needed."""

    def __init__(self, rows: Sequence[Sequence[float]]) -> None:
        self.rows = rows
        self.row_bound: dict[int, float] = {}
        self.column_bound: dict[int, float] = {}

    def of_rows(self, support: Sequence[tuple[int, float]]) -> float:
        """Largest |A_ij| over the rows of ``support``."""
        found = self.row_bound
        for i, _ in support:
            if i not in found:
                found[i] = _largest_magnitude(self.rows[i])
        return max(found[i] for i, _ in support)

    def of_columns(self, support: Sequence[tuple[int, float]]) -> float:
        """Largest |A_ij| over the columns of ``support``."""
        found = self.column_bound
        for j, _ in support:
            if j not in found:
                found[j] = _largest_magnitude([row[j] for row in self.rows])
        return max(found[j] for j, _ in support)


def _largest_magnitude(values: Sequence[float]) -> float:
    highest = max(values)
    lowest = min(values)
    return float(max(highest, -lowest))


def _support(indices: Sequence[int], weights: Sequence[float]) -> list[tuple[int, float]]:
    return [(index, weight) for index, weight in zip(indices, weights, strict=True) if weight > 0]


def _full(size: int, support: Sequence[tuple[int, float]]) -> tuple[float, ...]:
    strategy = [0.0] * size
    for index, weight in support:
        strategy[index] = weight
    return tuple(strategy)


def _beyond(
    payoffs: Sequence[float], working: Sequence[int], threshold: float, sign: float
) -> list[int]:
    """Indices outside ``working`` whose payoff beats ``threshold`` (sign 1: above,
    -1: below), best first."""
    beats = threshold.__lt__ if sign > 0 else threshold.__gt__
    members = set(working)
    better = [i for i in compress(range(len(payoffs)), map(beats, payoffs)) if i not in members]
    better.sort(key=payoffs.__getitem__, reverse=sign > 0)
    return better


def exact_double_oracle(
    rows: Sequence[Sequence[float]],
    start_rows: Sequence[int],
    start_columns: Sequence[int],
) -> ExactAnswer:
    """Rational double oracle from the given working sets; ends at an exact equilibrium."""
    working_rows = list(dict.fromkeys(start_rows))
    working_columns = list(dict.fromkeys(start_columns))
    exact: dict[tuple[int, int], Fraction] = {}

    def entry(i: int, j: int) -> Fraction:
        key = (i, j)
        value = exact.get(key)
        if value is None:
            value = exact[key] = Fraction(rows[i][j])
        return value

    rounds = 0
    while True:
        rounds += 1
        solution = solve_matrix_game_exact(
            [[entry(i, j) for j in working_columns] for i in working_rows]
        )
        x = {i: w for i, w in zip(working_rows, solution.row_strategy, strict=True) if w > 0}
        y = {j: w for j, w in zip(working_columns, solution.column_strategy, strict=True) if w > 0}
        value = solution.value
        rough = float(value)
        against_y = row_payoffs(rows, [(j, float(w)) for j, w in y.items()])
        against_x = column_payoffs(rows, [(i, float(w)) for i, w in x.items()])
        row_members, column_members = set(working_rows), set(working_columns)
        better_rows: list[tuple[Fraction, int]] = []
        margin = _SCREEN_MARGIN * against_y.bound
        for i, payoff in enumerate(against_y.values):
            if i not in row_members and payoff >= rough - margin:
                exact_payoff = sum((entry(i, j) * w for j, w in y.items()), Fraction(0))
                if exact_payoff > value:
                    better_rows.append((exact_payoff, i))
        better_columns: list[tuple[Fraction, int]] = []
        margin = _SCREEN_MARGIN * against_x.bound
        for j, payoff in enumerate(against_x.values):
            if j not in column_members and payoff <= rough + margin:
                exact_payoff = sum((entry(i, j) * w for i, w in x.items()), Fraction(0))
                if exact_payoff < value:
                    better_columns.append((exact_payoff, j))
        if not better_rows and not better_columns:
            return ExactAnswer(x, y, value, rounds)
        better_rows.sort(key=lambda pair: (-pair[0], pair[1]))
        better_columns.sort()
        working_rows += [i for _, i in better_rows[: _to_add(len(working_rows))]]
        working_columns += [j for _, j in better_columns[: _to_add(len(working_columns))]]
