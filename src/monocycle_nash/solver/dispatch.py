"""``solve``: the monocycle solver for rosters, a certified matrix method for matrices."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from monocycle_nash.character import Character, roster_arrays
from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.game import Game
from monocycle_nash.matrix import PayoffMatrix
from monocycle_nash.solver.errors import SolverSettingError
from monocycle_nash.solver.matrix_game import check_solver_settings, solve_matrix
from monocycle_nash.solver.monocycle import solve_roster

__all__ = ["solve"]

# Methods that make a roster build its payoff matrix (O(n^2)) and solve that instead.
_MATRIX_ONLY = frozenset({"simplex", "highs"})


def solve(
    game: Game | PayoffMatrix | Sequence[Character],
    *,
    exact: bool = False,
    method: str = "auto",
    tolerance: float | None = None,
) -> Equilibrium:
    """Return a certified equilibrium of ``game``; ``Equilibrium.solver`` names the method.

    ``method`` is one of ``matrix_game.METHODS``: ``"auto"`` (the default), ``"simplex"``,
    ``"double-oracle"``, ``"approximate"``, ``"highs"`` (needs the ``highs`` extra) or
    ``"exact"``; ``exact=True`` means ``method="exact"``. ``tolerance`` is the
    certificate's bound on the exploitability (half the gap), relative to the magnitude
    of the payoffs behind it (``solver/certificate.py``): by default 1e-9 (1e-3 for
    ``"approximate"``).

    Rosters (a roster ``Game`` or a sequence of ``Character``) go to the monocycle
    solver, which never builds the payoff matrix and certifies at ``1e-9 S`` whatever the
    tolerance (``"exact"`` runs its rational method; ``"simplex"`` and ``"highs"`` build
    the matrix and solve that). Matrices go to ``matrix_game.solve_matrix``.

    Raise ``SolverSettingError`` (a ``GameError`` and a ``ValueError``) for an unknown
    method or a bad tolerance, and ``UncertifiedAnswerError`` when ``"approximate"``
    cannot reach its tolerance; an answer that is not certified is never returned.
    """
    source = game.source if isinstance(game, Game) else "solver"
    if exact:
        if method not in ("auto", "exact"):
            raise SolverSettingError(
                source, f"exact=True asks for the method 'exact', not {method!r}"
            )
        method = "exact"
    check_solver_settings(method, tolerance, source)
    if isinstance(game, PayoffMatrix):
        return _solve_matrix(game, method, tolerance, source)
    if isinstance(game, Game):
        if game.characters is None or method in _MATRIX_ONLY:
            return _solve_matrix(game.matrix, method, tolerance, source)
        return _solve_roster(game.labels, game.arrays, exact=method == "exact")
    characters = list(game)
    labels = tuple(map(attrgetter("label"), characters))
    if not labels or len(set(labels)) != len(labels):
        Game.of_roster(characters)  # raises the GameError that names the problem
    if method in _MATRIX_ONLY:
        matrix = PayoffMatrix.from_characters(characters)
        return _solve_matrix(matrix, method, tolerance, source)
    return _solve_roster(labels, roster_arrays(characters), exact=method == "exact")


def _solve_matrix(
    matrix: PayoffMatrix, method: str, tolerance: float | None, source: str
) -> Equilibrium:
    answer = solve_matrix(matrix.rows, method=method, tolerance=tolerance, source=source)
    return answer.equilibrium(matrix.labels)


def _solve_roster(
    labels: tuple[str, ...],
    arrays: tuple[list[float], list[float], list[float]],
    *,
    exact: bool,
) -> Equilibrium:
    powers, xs, ys = arrays
    solution = solve_roster(powers, xs, ys, exact=exact)
    strategy = solution.strategy(len(labels))
    # x = y = s in a skew-symmetric game: the guarantees are -e and +e for the
    # exploitability e, so the gap is 2e; the roster's bound is e <= 1e-9 S.
    return Equilibrium(
        labels=labels,
        row_strategy=strategy,
        column_strategy=strategy,
        value=0.0,  # a skew-symmetric game is worth exactly 0
        exploitability=solution.exploitability,
        solver=solution.method,
        translation=solution.translation,
        gap=2.0 * solution.exploitability,
        tolerance=solution.tolerance,
    )
