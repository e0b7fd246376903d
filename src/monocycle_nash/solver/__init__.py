"""Equilibrium solvers: certified matrix-game methods, sampling + double oracle for rosters."""

from __future__ import annotations

from monocycle_nash.character import roster_arrays
from monocycle_nash.solver.certificate import Certificate, certify
from monocycle_nash.solver.dispatch import solve
from monocycle_nash.solver.errors import SolverError, SolverSettingError, UncertifiedAnswerError
from monocycle_nash.solver.lp import (
    MatrixGameSolution,
    SolverFailure,
    solve_matrix_game,
    solve_matrix_game_exact,
)
from monocycle_nash.solver.matrix_game import METHODS, MatrixAnswer, solve_matrix
from monocycle_nash.solver.monocycle import (
    RELATIVE_TOLERANCE,
    RosterSolution,
    roster_scale,
    solve_roster,
    translated_power_excess,
)

__all__ = [
    "METHODS",
    "RELATIVE_TOLERANCE",
    "Certificate",
    "MatrixAnswer",
    "MatrixGameSolution",
    "RosterSolution",
    "SolverError",
    "SolverFailure",
    "SolverSettingError",
    "UncertifiedAnswerError",
    "certify",
    "roster_arrays",
    "roster_scale",
    "solve",
    "solve_matrix",
    "solve_matrix_game",
    "solve_matrix_game_exact",
    "solve_roster",
    "translated_power_excess",
]
