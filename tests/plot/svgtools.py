"""Helpers for reading the SVG pictures back in tests."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from monocycle_nash.character import Character
from monocycle_nash.equilibrium import Equilibrium

SVG = "{http://www.w3.org/2000/svg}"


def parse(text: str) -> ET.Element:
    """Parse an SVG document; fails the test on malformed XML."""
    # The documents are our own output under test, not untrusted input.
    return ET.fromstring(text.encode("utf-8"))  # noqa: S314


def by_class(root: ET.Element, tag: str, name: str) -> list[ET.Element]:
    """Elements ``tag`` whose class list holds ``name``, in document order."""
    return [
        element for element in root.iter(f"{SVG}{tag}") if name in element.get("class", "").split()
    ]


def points(polygon: ET.Element) -> list[tuple[float, float]]:
    """The vertices of a ``<polygon>``."""
    pairs = polygon.get("points", "").split()
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in pairs)]


def path_numbers(element: ET.Element) -> list[float]:
    """All numbers in a ``<path>``'s ``d`` attribute."""
    return [float(number) for number in re.findall(r"-?\d+(?:\.\d+)?", element.get("d", ""))]


def texts(root: ET.Element) -> list[str]:
    """The direct text of every ``<text>`` element."""
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def rps_roster() -> tuple[Character, ...]:
    """The specification's rock-paper-scissors roster: equal power, vectors 120 degrees apart."""
    return (
        Character("A", 0.0, (2.0, 0.0)),
        Character("B", 0.0, (-1.0, 1.7)),
        Character("C", 0.0, (-1.0, -1.7)),
    )


def equilibrium_for(
    labels: tuple[str, ...],
    weights: tuple[float, ...],
    translation: tuple[float, float] | None = None,
    *,
    value: float = 0.0,
    exploitability: float = 0.0,
) -> Equilibrium:
    """A hand-built equilibrium (the tests do not depend on the solver)."""
    return Equilibrium(
        labels=labels,
        row_strategy=weights,
        column_strategy=weights,
        value=value,
        exploitability=exploitability,
        solver="by hand",
        translation=translation,
    )


def rps_equilibrium() -> Equilibrium:
    """The uniform equilibrium of :func:`rps_roster`, translation at the origin."""
    third = 1.0 / 3.0
    return equilibrium_for(("A", "B", "C"), (third, third, third), (0.0, 0.0))
