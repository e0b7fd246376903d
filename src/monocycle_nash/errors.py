"""Typed errors for malformed games: one base class, one subclass per kind of mistake.

Every message is one line that names the source (usually the game file) and the
offending entry, e.g. ``game.toml: characters[2].v must have 2 numbers, got 3``.
"""

from __future__ import annotations

from monocycle_nash.text import fit

__all__ = [
    "AlreadyMonocycleError",
    "ApproximationError",
    "CharacterEntryError",
    "ComparisonError",
    "ExperimentSettingError",
    "GameError",
    "GameFileError",
    "GameFormatError",
    "GameNumberError",
    "LabelError",
    "MatrixShapeError",
    "TeamError",
    "brief",
]


def brief(value: object, limit: int = 60) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters (ending in ``...``) for messages.

    A wrong value can be a whole table of thousands of numbers; a message shows its start.
    """
    return fit(repr(value), limit, measure=len)


class GameError(Exception):
    """Base of every bad-input error about a game; ``str(err)`` is the user-facing message."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.detail = message


class GameFileError(GameError):
    """The game file cannot be read or is not valid TOML."""


class GameFormatError(GameError):
    """The top-level layout is wrong: both or neither of ``matrix``/``characters``, bad types."""


class MatrixShapeError(GameError):
    """The payoff matrix is empty, ragged or not square, or its labels do not match it."""


class GameNumberError(GameError):
    """An entry that must be a finite number is not (text, boolean, NaN, infinity)."""


class CharacterEntryError(GameError):
    """A ``characters`` entry is malformed: missing ``label``/``p``/``v``, ``v`` not 2 numbers."""


class LabelError(GameError):
    """A label is empty, not a string, or used twice."""


class TeamError(GameError):
    """The teams of a team game are malformed or do not fit the game: an unknown or
    repeated member, an empty team, a repeated team label, a bad ``size``, both input
    spellings at once, or more than ``teams.MAX_TEAMS`` teams."""


class ApproximationError(GameError):
    """The game has no monocycle approximation: it is not skew-symmetric (a general
    game), or a roster's approximation would not fit a roster's number limits."""


class AlreadyMonocycleError(ApproximationError):
    """The game is a roster: a monocycle game already, so there is nothing to approximate.

    Not a failure of the run: ``summary_line()`` is the one line to print instead.
    """

    def summary_line(self) -> str:
        """``Approximation: none, the game is a roster (already a monocycle game)``."""
        return "Approximation: none, the game is a roster (already a monocycle game)"


class ComparisonError(GameError):
    """Two games cannot be compared: their labels differ (the message lists how)."""


class ExperimentSettingError(GameError):
    """A run config's ``[experiment]`` table (or a sweep condition overriding it) is
    malformed: an unknown key, a key of the other kind, a value of the wrong type, not
    finite or out of range, ``low >= high``; or a stored experiment cannot be re-run."""
