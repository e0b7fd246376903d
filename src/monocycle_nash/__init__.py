"""monocycle-nash: Nash equilibria of character-selection games, with every run recorded."""

from __future__ import annotations

from monocycle_nash.character import Character
from monocycle_nash.equilibrium import Equilibrium

__all__ = ["Character", "Equilibrium"]
