"""Draw a solved game's SVG pictures into the run's ``output/`` folder.

A picture illustrates an answer that the JSON files already hold, so a picture that
cannot be drawn or written costs the run nothing but that picture: the failure is
returned as a warning (the main job prints it and stores it in meta.json's
``warnings``) and the run still succeeds.
"""

from __future__ import annotations

from collections.abc import Callable
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


def write_pictures(
    output_dir: Path, game: Game, equilibrium: Equilibrium
) -> tuple[list[Path], list[str]]:
    """Write ``equilibrium.svg``, ``characters.svg`` (rosters) and ``payoff_graph.svg``.

    The payoff graph is drawn only for games of at most ``MAX_GRAPH_STRATEGIES`` strategies.
    Returns the files written and, for each picture that could not be drawn or written,
    a one-line warning (``characters.svg not drawn: ValueError: ... (at scales.py:36)``).
    """
    pictures: list[tuple[str, Callable[[], str]]] = [
        ("equilibrium.svg", lambda: equilibrium_svg(equilibrium)),
    ]
    characters = game.characters
    if characters is not None:
        pictures.append(("characters.svg", lambda: characters_svg(characters, equilibrium)))
    if len(game.labels) <= MAX_GRAPH_STRATEGIES:
        pictures.append(
            ("payoff_graph.svg", lambda: payoff_graph_svg(game.labels, game.matrix.rows))
        )
    written: list[Path] = []
    warnings: list[str] = []
    for name, draw in pictures:
        path = output_dir / name
        try:
            write_file_atomically(path, draw())
        # Any failure, a bug of the drawing code included: the answer is already in the
        # JSON files, and the warning names the exception and where it was raised.
        except Exception as err:
            warnings.append(f"{name} not drawn: {_describe(err)}")
        else:
            written.append(path)
    return written, warnings


def _describe(err: Exception) -> str:
    """``Type: first line (at file.py:line)`` for a picture that failed."""
    import traceback  # noqa: PLC0415 - only a failed picture pays for it

    first_line = next(iter(str(err).splitlines()), "")
    text = f"{type(err).__name__}: {first_line}" if first_line else type(err).__name__
    frames = traceback.extract_tb(err.__traceback__)
    if frames:
        text += f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})"
    return text
