"""Render the example pictures in this folder (linked from the README).

Run from the repository root:

    uv run python document/images/make_examples.py

It writes ``characters_example.svg``, ``equilibrium_example.svg`` and
``payoff_graph_example.svg`` beside this script. The roster is a small rock-paper-scissors
like game with Japanese and Latin names (one long enough to be shortened); its
equilibrium comes from the package's own solver.
"""

from __future__ import annotations

from pathlib import Path

from monocycle_nash import Character, PayoffMatrix, solve
from monocycle_nash.plot import characters_svg, equilibrium_svg, payoff_graph_svg

HERE = Path(__file__).resolve().parent

ROSTER = (
    Character("剣士", -0.62, (2.8, 0.6)),
    Character("Archer", 2.14, (-0.1, 2.3)),
    Character("忍者", -0.38, (-0.3, -1.1)),
    Character("Knight", 0.31, (1.4, 1.2)),
    Character("魔法使い", -1.94, (2.2, -0.8)),
    Character("The Wandering Lancer of the North", 0.54, (0.4, 0.8)),
)


def main() -> None:
    """Write the example SVGs beside this script."""
    equilibrium = solve(ROSTER)
    labels = [character.label for character in ROSTER]
    rows = PayoffMatrix.from_characters(ROSTER).rows
    pictures = {
        "characters_example.svg": characters_svg(ROSTER, equilibrium),
        "equilibrium_example.svg": equilibrium_svg(equilibrium),
        "payoff_graph_example.svg": payoff_graph_svg(labels, rows),
    }
    for name, text in pictures.items():
        (HERE / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
