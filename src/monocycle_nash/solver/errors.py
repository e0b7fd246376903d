"""Typed errors of the solvers that a user can act on (a ``GameError`` each).

``SolverFailure`` (``lp.py``) is different: a numerical breakdown or a bug, never the
user's doing. These are settings the solver cannot follow and answers it cannot
certify; the main job reports them in one line and records the run as ``fail``.
"""

from __future__ import annotations

from monocycle_nash.errors import GameError

__all__ = ["SolverError", "SolverSettingError", "UncertifiedAnswerError"]


class SolverError(GameError):
    """Base of the solvers' user-facing errors; ``source`` names the game."""


class SolverSettingError(SolverError, ValueError):
    """An unknown method, a tolerance out of range, or a method whose package is missing."""


class UncertifiedAnswerError(SolverError):
    """The method stopped without an answer whose gap is within the tolerance."""
