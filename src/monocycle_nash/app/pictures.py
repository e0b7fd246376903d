"""Draw a solved game's SVG pictures into the run's ``output/`` folder."""

from __future__ import annotations

from pathlib import Path

from monocycle_nash import Game
from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.plot import (
    MAX_GRAPH_STRATEGIES,
    characters_svg,
    equilibrium_svg,
    payoff_graph_svg,
)
from monocycle_nash.runmeta import write_file_atomically

__all__ = ["write_pictures"]


def write_pictures(output_dir: Path, game: Game, equilibrium: Equilibrium) -> list[Path]:
    """Write ``equilibrium.svg``, ``characters.svg`` (rosters) and ``payoff_graph.svg``.

    The payoff graph is drawn only for games of at most ``MAX_GRAPH_STRATEGIES`` strategies.
    Returns the files written.
    """
    written = [output_dir / "equilibrium.svg"]
    write_file_atomically(written[0], equilibrium_svg(equilibrium))
    if game.characters is not None:
        written.append(output_dir / "characters.svg")
        write_file_atomically(written[-1], characters_svg(game.characters, equilibrium))
    if len(game.labels) <= MAX_GRAPH_STRATEGIES:
        written.append(output_dir / "payoff_graph.svg")
        write_file_atomically(
            written[-1],
            payoff_graph_svg(game.labels, game.matrix.rows),
        )
    return written
