"""A character of the monocycle model: a power and a 2-D matchup vector."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter

__all__ = ["Character", "cross", "roster_arrays"]


def cross(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the 2-D cross product ``a x b = a.x * b.y - a.y * b.x``."""
    return a[0] * b[1] - a[1] * b[0]


@dataclass(frozen=True, slots=True)
class Character:
    """One selectable character: ``label``, ``power`` p and matchup ``vector`` v = (x, y).

    Against another character j its advantage is ``p_i - p_j + v_i x v_j``.
    """

    label: str
    power: float
    vector: tuple[float, float]

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label:
            raise ValueError("a character needs a non-empty string label")
        values = (self.power, *self.vector)
        if len(self.vector) != 2 or not all(math.isfinite(value) for value in values):
            raise ValueError(f"character {self.label!r}: power and vector must be finite numbers")

    def advantage_over(self, other: Character) -> float:
        """Return A[self][other], this character's payoff against ``other``."""
        return self.power - other.power + cross(self.vector, other.vector)


def roster_arrays(
    characters: Sequence[Character],
) -> tuple[list[float], list[float], list[float]]:
    """Return (powers, xs, ys) as parallel plain lists, the layout O(n) passes loop over."""
    powers = list(map(attrgetter("power"), characters))
    vectors = list(map(attrgetter("vector"), characters))
    return powers, list(map(itemgetter(0), vectors)), list(map(itemgetter(1), vectors))
