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
    from monocycle_nash.character import Character
    from monocycle_nash.equilibrium import Equilibrium
    from monocycle_nash.errors import (
        CharacterEntryError,
        GameError,
        GameFileError,
        GameFormatError,
        GameNumberError,
        LabelError,
        MatrixShapeError,
    )
    from monocycle_nash.game import Game, load_game, parse_game
    from monocycle_nash.matrix import PayoffMatrix
    from monocycle_nash.solver import solve

_EXPORTS: dict[str, str] = {
    "divergences": "analysis",
    "pure_strategy_payoffs": "analysis",
    "Character": "character",
    "Equilibrium": "equilibrium",
    "CharacterEntryError": "errors",
    "GameError": "errors",
    "GameFileError": "errors",
    "GameFormatError": "errors",
    "GameNumberError": "errors",
    "LabelError": "errors",
    "MatrixShapeError": "errors",
    "Game": "game",
    "load_game": "game",
    "parse_game": "game",
    "PayoffMatrix": "matrix",
    "solve": "solver",
}

__all__ = [
    "Character",
    "CharacterEntryError",
    "Equilibrium",
    "Game",
    "GameError",
    "GameFileError",
    "GameFormatError",
    "GameNumberError",
    "LabelError",
    "MatrixShapeError",
    "PayoffMatrix",
    "divergences",
    "load_game",
    "parse_game",
    "pure_strategy_payoffs",
    "solve",
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
