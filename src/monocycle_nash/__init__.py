"""monocycle-nash: Nash equilibria of character-selection games, with every run recorded.

Names are re-exported lazily (PEP 562): ``import monocycle_nash`` loads nothing else,
so ``monocycle_nash.runmeta`` (and its CLI) start without loading the solver; the
module that defines a name is imported the first time the name is used.
"""

from __future__ import annotations

import sys

# Not ``typing.TYPE_CHECKING``: importing ``typing`` costs a few milliseconds on every
# start of the runmeta CLI. Type checkers treat any name ``TYPE_CHECKING`` as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from monocycle_nash.analysis import divergences, pure_strategy_payoffs
    from monocycle_nash.approximation import (
        Approximation,
        approximate,
        dominant_eigenpair,
        equilibrium_preserving,
    )
    from monocycle_nash.character import Character
    from monocycle_nash.compare import Comparison, compare_games
    from monocycle_nash.equilibrium import Equilibrium
    from monocycle_nash.errors import (
        AlreadyMonocycleError,
        ApproximationError,
        CharacterEntryError,
        ComparisonError,
        ExperimentSettingError,
        GameError,
        GameFileError,
        GameFormatError,
        GameNumberError,
        LabelError,
        MatrixShapeError,
        TeamError,
    )
    from monocycle_nash.game import Game, load_game, parse_game
    from monocycle_nash.matrix import PayoffMatrix
    from monocycle_nash.solver import solve
    from monocycle_nash.spectrum import NotSkewSymmetricError, Spectrum, spectrum_of
    from monocycle_nash.teams import (
        TeamGame,
        TeamSpec,
        build_team_game,
        solve_team_game,
        team_usage,
    )

_EXPORTS: dict[str, str] = {
    "divergences": "analysis",
    "pure_strategy_payoffs": "analysis",
    "Approximation": "approximation",
    "approximate": "approximation",
    "dominant_eigenpair": "approximation",
    "equilibrium_preserving": "approximation",
    "Character": "character",
    "Comparison": "compare",
    "compare_games": "compare",
    "Equilibrium": "equilibrium",
    "AlreadyMonocycleError": "errors",
    "ApproximationError": "errors",
    "CharacterEntryError": "errors",
    "ComparisonError": "errors",
    "ExperimentSettingError": "errors",
    "GameError": "errors",
    "GameFileError": "errors",
    "GameFormatError": "errors",
    "GameNumberError": "errors",
    "LabelError": "errors",
    "MatrixShapeError": "errors",
    "TeamError": "errors",
    "Game": "game",
    "load_game": "game",
    "parse_game": "game",
    "PayoffMatrix": "matrix",
    "solve": "solver",
    "NotSkewSymmetricError": "spectrum",
    "Spectrum": "spectrum",
    "spectrum_of": "spectrum",
    "TeamGame": "teams",
    "TeamSpec": "teams",
    "build_team_game": "teams",
    "solve_team_game": "teams",
    "team_usage": "teams",
}

__all__ = [
    "AlreadyMonocycleError",
    "Approximation",
    "ApproximationError",
    "Character",
    "CharacterEntryError",
    "Comparison",
    "ComparisonError",
    "Equilibrium",
    "ExperimentSettingError",
    "Game",
    "GameError",
    "GameFileError",
    "GameFormatError",
    "GameNumberError",
    "LabelError",
    "MatrixShapeError",
    "NotSkewSymmetricError",
    "PayoffMatrix",
    "Spectrum",
    "TeamError",
    "TeamGame",
    "TeamSpec",
    "approximate",
    "build_team_game",
    "compare_games",
    "divergences",
    "dominant_eigenpair",
    "equilibrium_preserving",
    "load_game",
    "parse_game",
    "pure_strategy_payoffs",
    "solve",
    "solve_team_game",
    "spectrum_of",
    "team_usage",
]


def __getattr__(name: str) -> Any:
    """Load the module that defines ``name`` on first use (PEP 562)."""
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # __import__ rather than importlib.import_module: the importlib package would add
    # its own import (and warnings') to every start.
    full_name = f"{__name__}.{module_name}"
    __import__(full_name)
    value = getattr(sys.modules[full_name], name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names alongside the module's own attributes."""
    return sorted({*globals(), *_EXPORTS})
