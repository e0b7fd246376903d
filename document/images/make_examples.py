"""Render the example pictures in this folder (linked from the README).

Run from the repository root:

    uv run python document/images/make_examples.py

It writes ``characters_example.svg``, ``equilibrium_example.svg`` and
``payoff_graph_example.svg`` beside this script. The roster is a small rock-paper-scissors
like game; its equilibrium is found here by checking every support of one to three
characters (enough for a monocycle roster in general position), so the script needs
nothing but the plot package and the domain types.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

from monocycle_nash.character import Character, cross
from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.plot import characters_svg, equilibrium_svg, payoff_graph_svg

HERE = Path(__file__).resolve().parent

ROSTER = (
    Character("リュウ", -0.62, (2.8, 0.6)),
    Character("Ken", 2.14, (-0.1, 2.3)),
    Character("春麗", -0.38, (-0.3, -1.1)),
    Character("Guile", 0.31, (1.4, 1.2)),
    Character("ザンギエフ", -1.94, (2.2, -0.8)),
    Character("E. Honda the Sumo Champion", 0.54, (0.4, 0.8)),
)


def _matrix(roster: tuple[Character, ...]) -> list[list[float]]:
    return [[a.advantage_over(b) for b in roster] for a in roster]


def _candidate_weights(rows: list[list[float]], support: tuple[int, ...]) -> list[float] | None:
    """Weights that make every support member earn the same (zero) against the mix."""
    size = len(rows)
    if len(support) == 1:
        raw = {support[0]: 1.0}
    elif len(support) == 2:
        return None  # a two-member support needs a zero payoff between them: not here
    else:
        i, j, k = support
        raw = {i: rows[j][k], j: rows[k][i], k: rows[i][j]}
    if any(weight <= 0 for weight in raw.values()):
        return None
    total = math.fsum(raw.values())
    return [raw.get(index, 0.0) / total for index in range(size)]


def _exploitability(rows: list[list[float]], weights: list[float]) -> float:
    """The best pure reply's payoff against ``weights`` (0 at an equilibrium)."""
    return max(math.fsum(row[j] * weights[j] for j in range(len(rows))) for row in rows)


def _translation(roster: tuple[Character, ...], support: tuple[int, ...]) -> tuple[float, float]:
    """The point a that gives the three support members equal power p_i + v_i x a."""
    i, j, k = (roster[index] for index in support)
    # (v_i - v_j) x a = p_j - p_i and (v_i - v_k) x a = p_k - p_i; b x a = b.x a.y - b.y a.x.
    b1 = (i.vector[0] - j.vector[0], i.vector[1] - j.vector[1])
    b2 = (i.vector[0] - k.vector[0], i.vector[1] - k.vector[1])
    c1, c2 = j.power - i.power, k.power - i.power
    det = cross(b1, b2)
    return ((b2[0] * c1 - b1[0] * c2) / det, (b2[1] * c1 - b1[1] * c2) / det)


def solve_example(roster: tuple[Character, ...]) -> Equilibrium:
    """Return the roster's equilibrium with a support of one or three characters."""
    rows = _matrix(roster)
    for size in (1, 3):
        for support in itertools.combinations(range(len(roster)), size):
            weights = _candidate_weights(rows, support)
            if weights is None:
                continue
            gap = _exploitability(rows, weights)
            if gap <= 1e-12:
                return Equilibrium(
                    labels=tuple(c.label for c in roster),
                    row_strategy=tuple(weights),
                    column_strategy=tuple(weights),
                    value=0.0,
                    exploitability=max(gap, 0.0),
                    solver="example support enumeration",
                    translation=_translation(roster, support) if size == 3 else None,
                )
    raise SystemExit("the example roster has no support of one or three characters")


def main() -> None:
    """Write the example SVGs beside this script."""
    equilibrium = solve_example(ROSTER)
    labels = [character.label for character in ROSTER]
    pictures = {
        "characters_example.svg": characters_svg(ROSTER, equilibrium),
        "equilibrium_example.svg": equilibrium_svg(equilibrium),
        "payoff_graph_example.svg": payoff_graph_svg(labels, _matrix(ROSTER)),
    }
    for name, text in pictures.items():
        (HERE / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
