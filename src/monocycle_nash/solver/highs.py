"""Optional HiGHS backend: the matrix game's linear program solved by ``highspy``.

Installed with the ``highs`` extra (``monocycle-nash[highs]``); the core never needs it.
``highspy`` (and the ``numpy`` it brings) is imported inside the functions, so importing
this module costs nothing and works without the package.

The program, for a payoff A (m x n) scaled by an exact power of two so that every entry
is at most 1 in absolute value (the strategies do not change):

    minimise v  subject to  A y - v <= 0 (m rows),  sum(y) = 1,  y >= 0,  v free.

The column player's strategy is y; the duals of the m rows, negated, are the row
player's strategy. HiGHS answers in floating point with its own tolerances, so the
answer is certified like any other (``certificate.py``) and refined when it falls short.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from collections.abc import Sequence
from typing import Any

from monocycle_nash.solver.lp import SolverFailure

__all__ = ["HIGHS_MIN_SIZE", "highs_available", "highs_program", "solve_with_highs"]

HIGHS_MIN_SIZE = 60
"""``method="auto"`` hands a dense game to HiGHS only with at least this many strategies
on each side (below it the standard-library path takes about as long)."""

_quiet = False  # whether a Highs object has been built (and its banner swallowed)


def highs_available() -> bool:
    """Whether the ``highspy`` package can be imported."""
    return importlib.util.find_spec("highspy") is not None


def highs_program(rows: Sequence[Sequence[float]]) -> Any:
    """Return the game's program as a ``highspy.HighsLp`` (columns y_0..y_{n-1}, v)."""
    import highspy  # noqa: PLC0415 - optional dependency, imported on use
    import numpy as np  # noqa: PLC0415 - comes with highspy

    m, n = len(rows), len(rows[0])
    payoffs = np.array(rows, dtype=np.float64)
    scale = float(np.abs(payoffs).max())
    if scale > 0.0:
        payoffs *= 2.0 ** -math.frexp(scale)[1]
    block = np.zeros((m + 1, n + 1))
    block[:m, :n] = payoffs
    block[m, :n] = 1.0
    block[:m, n] = -1.0
    # Column-major; the last entry is block[m, n] = 0, which is left out.
    size = (m + 1) * (n + 1) - 1
    program = highspy.HighsLp()
    program.num_col_ = n + 1
    program.num_row_ = m + 1
    program.col_cost_ = np.r_[np.zeros(n), 1.0]
    program.col_lower_ = np.r_[np.zeros(n), -highspy.kHighsInf]
    program.col_upper_ = np.full(n + 1, highspy.kHighsInf)
    program.row_lower_ = np.r_[np.full(m, -highspy.kHighsInf), 1.0]
    program.row_upper_ = np.r_[np.zeros(m), 1.0]
    matrix = program.a_matrix_
    matrix.format_ = highspy.MatrixFormat.kColwise
    matrix.num_col_ = n + 1
    matrix.num_row_ = m + 1
    matrix.start_ = np.append(np.arange(0, size, m + 1), size).astype(np.int32)
    matrix.index_ = np.tile(np.arange(m + 1, dtype=np.int32), n + 1)[:size]
    matrix.value_ = block.ravel(order="F")[:size]
    return program


def solve_with_highs(
    rows: Sequence[Sequence[float]],
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Solve the game with HiGHS; return (row strategy, column strategy) as floats.

    Raise ``SolverFailure`` if HiGHS does not report an optimal solution.
    """
    import highspy  # noqa: PLC0415 - optional dependency, imported on use

    m, n = len(rows), len(rows[0])
    solver = _new_highs(highspy)
    # Payoffs below 1e-9 (after scaling) would be dropped by default; keep them.
    solver.setOptionValue("small_matrix_value", 1e-12)
    solver.passModel(highs_program(rows))
    solver.run()
    status = solver.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolverFailure(f"HiGHS ended with {solver.modelStatusToString(status)}")
    solution = solver.getSolution()
    column = _distribution(solution.col_value[:n])
    row = _distribution([-dual for dual in solution.row_dual[:m]])
    return row, column


def _distribution(weights: Sequence[float]) -> tuple[float, ...]:
    """Clip the solver's tiny negative weights to 0 and renormalise."""
    clipped = [max(float(w), 0.0) for w in weights]
    total = math.fsum(clipped)
    if not total > 0.0:
        raise SolverFailure("HiGHS returned no strategy")
    return tuple(w / total for w in clipped)


def _new_highs(highspy: Any) -> Any:
    """A silent ``Highs`` object.

    HiGHS writes its banner straight to file descriptor 1 when the first object of a
    process is built, before any option can turn it off; that one time, descriptor 1
    points to the null device (the app's console and its log stay clean).
    """
    global _quiet  # noqa: PLW0603 - one flag per process, like the banner itself
    if _quiet:
        solver = highspy.Highs()
    else:
        sys.stdout.flush()
        try:
            saved = os.dup(1)
        except OSError:  # no descriptor 1 at all: nothing to protect
            solver = highspy.Highs()
        else:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 1)
                solver = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(null)
        _quiet = True
    solver.setOptionValue("output_flag", False)
    return solver
