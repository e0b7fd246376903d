"""Matrix games solved by a named method, every answer certified in the original scale.

Methods (``METHODS``) and what ``MatrixAnswer.solver`` records:

- ``"auto"``: games up to ``SMALL_SIZE`` strategies a side go to the simplex
  (``simplex-devex``). Larger ones start with a double oracle from one pure strategy a
  side whose working set may grow to an eighth of the game (``double-oracle``): enough
  for the small supports of team games and most real rosters. A denser equilibrium goes
  to HiGHS when ``highspy`` is installed and the game has at least ``HIGHS_MIN_SIZE``
  strategies a side (``highs``), otherwise to a double oracle seeded with the supports
  that a short run of regret matching suggests (``double-oracle``).
- ``"simplex"``: the Devex simplex on the whole game (``simplex-devex``).
- ``"double-oracle"``: the double oracle from one pure strategy a side, unbounded.
- ``"highs"``: HiGHS on the whole game (needs the ``highs`` extra).
- ``"approximate"``: predictive regret matching+ until the gap is within the tolerance
  (``approximate``; default relative tolerance ``APPROXIMATE_TOLERANCE``). It raises
  ``UncertifiedAnswerError`` if ``APPROXIMATE_MAX_ITERATIONS`` do not get there.
- ``"exact"``: rational arithmetic, exact equilibrium: the exact simplex on games up to
  ``EXACT_DIRECT_SIZE`` a side (``simplex-exact``), else the exact double oracle seeded
  with the supports of the float answer (``double-oracle-exact``).

Certification: a float answer is certified when its exploitability (half its gap,
``certificate.py``) is at most ``tolerance`` times the magnitude of the payoff sums
behind it (relative tolerance
``RELATIVE_TOLERANCE`` unless given). One that is not is never returned as it is: the
exact double oracle, seeded with its supports, refines it to an exact equilibrium
(``solver`` gets ``+exact``, e.g. ``simplex-devex+exact``). Exact answers carry an exact
certificate: gap 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.solver.certificate import Certificate, certify, support_of
from monocycle_nash.solver.double_oracle import (
    OracleAnswer,
    double_oracle,
    exact_double_oracle,
)
from monocycle_nash.solver.errors import SolverSettingError, UncertifiedAnswerError
from monocycle_nash.solver.highs import HIGHS_MIN_SIZE, highs_available, solve_with_highs
from monocycle_nash.solver.lp import check_shape, solve_matrix_game, solve_matrix_game_exact
from monocycle_nash.solver.regret_matching import likely_support, regret_matching

__all__ = [
    "APPROXIMATE_MAX_ITERATIONS",
    "APPROXIMATE_TOLERANCE",
    "EXACT_DIRECT_SIZE",
    "METHODS",
    "RELATIVE_TOLERANCE",
    "SEARCH_TOLERANCE",
    "SMALL_SIZE",
    "MatrixAnswer",
    "check_solver_settings",
    "solve_matrix",
]

METHODS = ("auto", "simplex", "double-oracle", "approximate", "highs", "exact")
"""The method names ``solve`` accepts."""

RELATIVE_TOLERANCE = 1e-9
"""Default certification tolerance, relative to the payoffs' magnitude (as for rosters)."""

SEARCH_TOLERANCE = 1e-12
"""What the double oracle aims for, relative to the magnitude (far above round-off)."""

APPROXIMATE_TOLERANCE = 1e-3
"""Default relative tolerance of ``method="approximate"``."""

APPROXIMATE_MAX_ITERATIONS = 20_000
"""Regret-matching iterations ``method="approximate"`` allows itself."""

SMALL_SIZE = 12
"""``auto`` solves games with at most this many strategies a side by the simplex."""

EXACT_DIRECT_SIZE = 16
"""``exact`` runs the exact simplex on the whole game up to this many strategies a side."""

_DENSE_SHARE = 8  # auto's first double oracle may grow to 1/8 of the game (at least SMALL_SIZE)
_GUESS_TOLERANCE = 2e-3  # regret matching seeds the double oracle at this tolerance ...
_GUESS_ITERATIONS = 150  # ... or after this many iterations


@dataclass(frozen=True, slots=True)
class MatrixAnswer:
    """Strategies of both players, their certificate and the method that found them."""

    row_strategy: tuple[float, ...]
    column_strategy: tuple[float, ...]
    certificate: Certificate
    solver: str

    def equilibrium(self, labels: tuple[str, ...]) -> Equilibrium:
        """The answer as an :class:`Equilibrium` of the game whose strategies are ``labels``."""
        certificate = self.certificate
        return Equilibrium(
            labels=labels,
            row_strategy=self.row_strategy,
            column_strategy=self.column_strategy,
            value=certificate.value,
            exploitability=certificate.exploitability,
            solver=self.solver,
            gap=certificate.gap,
            tolerance=certificate.tolerance,
        )


def solve_matrix(
    rows: Sequence[Sequence[float]],
    *,
    method: str = "auto",
    tolerance: float | None = None,
    source: str = "payoff matrix",
    allow_highs: bool = True,
) -> MatrixAnswer:
    """Solve the zero-sum game ``rows`` (m x n, row player maximises) by ``method``.

    ``tolerance`` is relative to the payoffs' magnitude (``certificate.py``). The method
    names and the ``solver`` values are in the module docstring; ``allow_highs=False``
    keeps ``auto`` in the standard library even when ``highspy`` is installed.
    Errors name ``source``: ``SolverSettingError`` for an unknown method, a tolerance
    that is not a number in (0, 1), or ``highs`` without ``highspy``;
    ``UncertifiedAnswerError`` when ``approximate`` does not reach its tolerance.
    """
    check_solver_settings(method, tolerance, source)
    check_shape(rows)
    if method == "approximate":
        return _approximate(rows, tolerance or APPROXIMATE_TOLERANCE, source)
    relative = tolerance or RELATIVE_TOLERANCE
    if method == "exact":
        return _exact(rows, relative)
    aim = min(SEARCH_TOLERANCE, relative)
    if method == "simplex":
        answer = _whole_simplex(rows, relative)
    elif method == "highs":
        answer = _highs(rows, relative)
    elif method == "double-oracle":
        answer = _double_oracle(rows, relative, aim, max_working=len(rows) + len(rows[0]))
    else:
        answer = _auto(rows, relative, aim, allow_highs=allow_highs)
    return answer if answer.certificate.certified else _refined(rows, answer)


def check_solver_settings(method: str, tolerance: float | None, source: str) -> None:
    """Refuse (``SolverSettingError`` naming ``source``) an unknown method, a tolerance
    outside (0, 1), and ``"highs"`` without ``highspy``."""
    if method not in METHODS:
        raise SolverSettingError(
            source, f"unknown solver method {method!r}; expected one of {', '.join(METHODS)}"
        )
    if tolerance is not None and (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, int | float)
        or not 0.0 < tolerance < 1.0
    ):
        raise SolverSettingError(
            source, f"the solver tolerance must be a number between 0 and 1, got {tolerance!r}"
        )
    if method == "highs" and not highs_available():
        raise SolverSettingError(
            source,
            "solver method 'highs' needs the highspy package "
            "(install monocycle-nash[highs], or choose another method)",
        )


def _whole_simplex(rows: Sequence[Sequence[float]], tolerance: float) -> MatrixAnswer:
    solution = solve_matrix_game(rows)
    return _answer(
        rows, solution.row_strategy, solution.column_strategy, tolerance, "simplex-devex"
    )


def _highs(rows: Sequence[Sequence[float]], tolerance: float) -> MatrixAnswer:
    x, y = solve_with_highs(rows)
    return _answer(rows, x, y, tolerance, "highs")


def _answer(
    rows: Sequence[Sequence[float]],
    x: tuple[float, ...],
    y: tuple[float, ...],
    tolerance: float,
    solver: str,
) -> MatrixAnswer:
    return MatrixAnswer(x, y, certify(rows, x, y, tolerance), solver)


def _first_pair(rows: Sequence[Sequence[float]]) -> tuple[int, int]:
    """A cheap (O(m + n)) first pure pair: the best row against column 0, and the best
    column against that row."""
    column = [row[0] for row in rows]
    first = max(range(len(rows)), key=column.__getitem__)
    row = rows[first]
    return first, min(range(len(row)), key=row.__getitem__)


def _double_oracle(
    rows: Sequence[Sequence[float]], tolerance: float, aim: float, *, max_working: int
) -> MatrixAnswer:
    i, j = _first_pair(rows)
    found = double_oracle(rows, [i], [j], tolerance=tolerance, aim=aim, max_working=max_working)
    return _oracle_answer(found)


def _oracle_answer(found: OracleAnswer) -> MatrixAnswer:
    return MatrixAnswer(
        found.row_strategy, found.column_strategy, found.certificate, "double-oracle"
    )


def _auto(
    rows: Sequence[Sequence[float]], tolerance: float, aim: float, *, allow_highs: bool = True
) -> MatrixAnswer:
    m, n = len(rows), len(rows[0])
    if max(m, n) <= SMALL_SIZE:
        return _whole_simplex(rows, tolerance)
    i, j = _first_pair(rows)
    limit = max(SMALL_SIZE, min(m, n) // _DENSE_SHARE)
    found = double_oracle(rows, [i], [j], tolerance=tolerance, aim=aim, max_working=limit)
    if found.outcome != "too-large":
        return _oracle_answer(found)
    if allow_highs and min(m, n) >= HIGHS_MIN_SIZE and highs_available():
        return _highs(rows, tolerance)
    guess = regret_matching(rows, tolerance=_GUESS_TOLERANCE, max_iterations=_GUESS_ITERATIONS)
    likely_rows, likely_columns = likely_support(rows, guess)
    seeded = double_oracle(
        rows,
        [*found.working_rows, *likely_rows],
        [*found.working_columns, *likely_columns],
        tolerance=tolerance,
        aim=aim,
        max_working=m + n,
    )
    return _oracle_answer(seeded)


def _approximate(rows: Sequence[Sequence[float]], tolerance: float, source: str) -> MatrixAnswer:
    result = regret_matching(rows, tolerance=tolerance, max_iterations=APPROXIMATE_MAX_ITERATIONS)
    certificate = result.certificate
    if not certificate.certified:
        raise UncertifiedAnswerError(
            source,
            f"the approximate method reached an exploitability of "
            f"{certificate.exploitability:.3g} after {result.iterations} iterations, above "
            f"its tolerance {certificate.tolerance:.3g}; "
            "raise the tolerance or choose another method",
        )
    return MatrixAnswer(result.row_strategy, result.column_strategy, certificate, "approximate")


def _exact(rows: Sequence[Sequence[float]], tolerance: float) -> MatrixAnswer:
    m, n = len(rows), len(rows[0])
    if max(m, n) <= EXACT_DIRECT_SIZE:
        solution = solve_matrix_game_exact(rows)
        x = tuple(float(w) for w in solution.row_strategy)
        y = tuple(float(w) for w in solution.column_strategy)
        return _exact_answer(
            rows, (x, y), solution.value, tolerance=tolerance, solver="simplex-exact"
        )
    rough = _auto(rows, tolerance, min(SEARCH_TOLERANCE, tolerance))
    return _refined(rows, rough, solver="double-oracle-exact")


def _refined(
    rows: Sequence[Sequence[float]], answer: MatrixAnswer, *, solver: str | None = None
) -> MatrixAnswer:
    """The exact equilibrium found by the exact double oracle from ``answer``'s supports."""
    start_rows = [i for i, _ in support_of(answer.row_strategy)]
    start_columns = [j for j, _ in support_of(answer.column_strategy)]
    found = exact_double_oracle(rows, start_rows, start_columns)
    return _exact_answer(
        rows,
        found.strategies(len(rows), len(rows[0])),
        found.value,
        tolerance=answer.certificate.relative_tolerance,
        solver=solver or f"{answer.solver}+exact",
    )


def _exact_answer(
    rows: Sequence[Sequence[float]],
    strategies: tuple[tuple[float, ...], tuple[float, ...]],
    value: Fraction,
    *,
    tolerance: float,
    solver: str,
) -> MatrixAnswer:
    """An exact equilibrium (given rounded to floats): its guarantees meet at its value,
    gap 0; the magnitude (hence the tolerance) is that of the rounded strategies."""
    x, y = strategies
    certificate = certify(rows, x, y, tolerance).at_exact_value(float(value))
    return MatrixAnswer(x, y, certificate, solver)
