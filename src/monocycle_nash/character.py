"""A character of the monocycle model: a power and a 2-D matchup vector."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter

__all__ = [
    "MAX_COORDINATE",
    "MAX_PAYOFF",
    "MAX_POWER",
    "Character",
    "characters_of_columns",
    "cross",
    "roster_arrays",
]

MAX_PAYOFF = 1e300
"""Largest absolute payoff accepted: sums and differences of a few payoffs stay finite."""

MAX_POWER = 1e299
"""Largest absolute power accepted (with ``MAX_COORDINATE``, every payoff is below 3e299)."""

MAX_COORDINATE = 1e149
"""Largest absolute matchup-vector coordinate accepted: cross products stay finite."""


def cross(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the 2-D cross product ``a x b = a.x * b.y - a.y * b.x``."""
    return a[0] * b[1] - a[1] * b[0]


@dataclass(frozen=True, slots=True)
class Character:
    """One selectable character: ``label``, ``power`` p and matchup ``vector`` v = (x, y).

    Against another character j its advantage is ``p_i - p_j + v_i x v_j``. Numbers must
    be finite, ``|power| <= MAX_POWER`` and ``|x|, |y| <= MAX_COORDINATE`` (``ValueError``
    otherwise), so that every payoff is a finite float.
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
        if abs(self.power) > MAX_POWER or max(map(abs, self.vector)) > MAX_COORDINATE:
            raise ValueError(
                f"character {self.label!r}: |power| must be at most {MAX_POWER:g} and "
                f"|x|, |y| at most {MAX_COORDINATE:g}, so that payoffs stay finite"
            )

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


def characters_of_columns(
    labels: Sequence[str], powers: Sequence[float], xs: Sequence[float], ys: Sequence[float]
) -> tuple[Character, ...]:
    """Return one ``Character`` per entry of the parallel columns, without checking them.

    For columns already checked as a whole (``game.roster_of_columns``: finite numbers
    within the limits, labels valid and unique): the per-character check of
    ``Character(...)`` would cost about three times the building here at 10^6 characters.
    """
    new = object.__new__
    # The slots' own descriptors set the fields of a frozen instance.
    set_label, set_power, set_vector = (
        Character.__dict__[name].__set__ for name in ("label", "power", "vector")
    )
    characters: list[Character] = []
    append = characters.append
    for label, power, vector in zip(labels, powers, zip(xs, ys, strict=True), strict=True):
        character = new(Character)
        set_label(character, label)
        set_power(character, power)
        set_vector(character, vector)
        append(character)
    return tuple(characters)
