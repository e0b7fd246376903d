"""Equilibrium solvers: the simplex for matrix games, sampling + double oracle for rosters."""

from __future__ import annotations

from monocycle_nash.character import roster_arrays
from monocycle_nash.solver.dispatch import matrix_exploitability, solve
from monocycle_nash.solver.lp import (
    MatrixGameSolution,
    SolverFailure,
    solve_matrix_game,
    solve_matrix_game_exact,
)
from monocycle_nash.solver.monocycle import (
    RELATIVE_TOLERANCE,
    RosterSolution,
    roster_scale,
    solve_roster,
    translated_power_excess,
)

__all__ = [
    "RELATIVE_TOLERANCE",
    "MatrixGameSolution",
    "RosterSolution",
    "SolverFailure",
    "matrix_exploitability",
    "roster_arrays",
    "roster_scale",
    "solve",
    "solve_matrix_game",
    "solve_matrix_game_exact",
    "solve_roster",
    "translated_power_excess",
]
