"""monocycle-nash: Nash equilibria of character-selection games, with every run recorded."""

from __future__ import annotations

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
