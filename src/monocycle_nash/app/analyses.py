"""The analyses a run makes beside its solve, in one place: teams, spectrum, approximation.

A game file with a ``[teams]`` table is played as its team game: the team game is
built (``monocycle_nash.teams``), solved, and written like any game, plus
``team_matrix.json`` and ``team_usage.json``. Every solved game that is skew-symmetric
then gets ``spectrum.json`` (``monocycle_nash.spectrum``) and one summary line; a game
that is not gets the line saying why. A run config's ``[approximation] method`` adds
``approximation.json`` and ``approximated_roster.toml``, its ``[compare] reference``
adds ``comparison.json`` and ``comparison.svg`` (``monocycle_nash.approximation``,
``monocycle_nash.compare``). The definitions and file contracts are those of RESEARCH.md
sections 1 to 3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from monocycle_nash.app.outputs import SCHEMA_VERSION, write_json
from monocycle_nash.approximation import Approximation, approximate
from monocycle_nash.compare import compare_games
from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.errors import AlreadyMonocycleError
from monocycle_nash.game import Game
from monocycle_nash.game_files import read_game_file
from monocycle_nash.plot import comparison_svg
from monocycle_nash.runmeta import write_file_atomically
from monocycle_nash.spectrum import NotSkewSymmetricError, spectrum_of
from monocycle_nash.teams import TeamGame, build_team_game, solve_team_game, team_usage

__all__ = [
    "MAX_MATRIX_SPECTRUM",
    "SPECTRUM_FILE",
    "TEAM_MATRIX_FILE",
    "TEAM_USAGE_FILE",
    "SolvedGame",
    "solve_game",
    "write_approximation",
    "write_comparison",
    "write_spectrum",
    "write_team_outputs",
]

TEAM_MATRIX_FILE = "team_matrix.json"
TEAM_USAGE_FILE = "team_usage.json"
SPECTRUM_FILE = "spectrum.json"
APPROXIMATION_FILE = "approximation.json"
APPROXIMATED_ROSTER_FILE = "approximated_roster.toml"
COMPARISON_FILE = "comparison.json"
COMPARISON_PICTURE = "comparison.svg"
MAX_MATRIX_SPECTRUM = 1000
"""Largest payoff matrix whose spectrum a run computes (O(n^3): about 7 s at 500).

A roster's spectrum costs O(n) at any size and is always computed."""
_INDENTED_UP_TO = 10_000
"""Longer ``moduli`` lists are written compactly (the C encoder; no indentation)."""


@dataclass(frozen=True, slots=True)
class SolvedGame:
    """What a run solved: the game played (the team game when there are teams)."""

    game: Game
    equilibrium: Equilibrium
    team: TeamGame | None


def solve_game(game: Game, *, exact: bool, method: str, tolerance: float | None) -> SolvedGame:
    """Solve ``game``, or its team game when the game file asks for teams."""
    from monocycle_nash.solver import solve  # noqa: PLC0415 - as the main job does

    if game.teams is None:
        equilibrium = solve(game, exact=exact, method=method, tolerance=tolerance)
        return SolvedGame(game, equilibrium, None)
    team = build_team_game(game, exact=exact)
    equilibrium = solve_team_game(team, exact=exact, method=method, tolerance=tolerance)
    return SolvedGame(team.game, equilibrium, team)


def write_team_outputs(output_dir: Path, team: TeamGame, equilibrium: Equilibrium) -> list[Path]:
    """Write ``team_matrix.json`` (labels, members, matrix) and ``team_usage.json``."""
    matrix_path = output_dir / TEAM_MATRIX_FILE
    write_json(matrix_path, {"schema_version": SCHEMA_VERSION, **team.to_json()})
    usage_path = output_dir / TEAM_USAGE_FILE
    usage = team_usage(team, equilibrium)
    write_json(
        usage_path,
        {
            "schema_version": SCHEMA_VERSION,
            "description": "probability that the equilibrium team contains each character",
            "characters": [{"label": label, "usage": value} for label, value in usage.items()],
        },
    )
    return [matrix_path, usage_path]


Figures = dict[str, float | int | str | bool | None]
"""Headline figures of an analysis: what a run stores as its metrics (queryable)."""


def solve_figures(equilibrium: Equilibrium) -> Figures:
    """The solve's headline figures: value, exploitability, support size, solver, gap."""
    return {
        "value": float(equilibrium.value),
        "exploitability": float(equilibrium.exploitability),
        "support_size": len(equilibrium.support),
        "solver": equilibrium.solver,
        "gap": float(equilibrium.gap),
    }


def distance_figures(prefix: str, distances: Mapping[str, object]) -> Figures:
    """The finite numeric distances, each named ``<prefix>.<distance>``."""
    return {
        f"{prefix}.{name}": float(value)
        for name, value in distances.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def write_spectrum(output_dir: Path, game: Game) -> tuple[list[Path], str, Figures]:
    """Write ``spectrum.json`` for a skew-symmetric ``game``; return it, the summary line
    and the figures (``sigma_1``, ``ratio2_to_1``, ``dominant_gap``, ``rank``).

    A game that is not skew-symmetric, or a payoff matrix above
    :data:`MAX_MATRIX_SPECTRUM` strategies, gets no file and a line saying why.
    """
    if _too_large_matrix(game):
        return (
            [],
            (
                f"Spectrum: not computed for {len(game.labels):,} strategies (a payoff matrix"
                f" above {MAX_MATRIX_SPECTRUM:,} takes O(n^3) time)"
            ),
            {},
        )
    try:
        spectrum = spectrum_of(game)
    except NotSkewSymmetricError as err:
        return [], err.summary_line(), {}
    path = output_dir / SPECTRUM_FILE
    write_json(
        path,
        {"schema_version": SCHEMA_VERSION, **spectrum.to_json()},
        indent=len(spectrum.moduli) <= _INDENTED_UP_TO,
    )
    figures: Figures = {
        "sigma_1": spectrum.levels[0] if spectrum.levels else 0.0,
        "ratio2_to_1": spectrum.ratio2_to_1,
        "dominant_gap": spectrum.dominant_gap,
        "rank": spectrum.rank,
    }
    return [path], spectrum.summary_line(), figures


def write_approximation(
    output_dir: Path, game: Game, equilibrium: Equilibrium, method: str
) -> tuple[list[Path], str, Approximation | None]:
    """Write ``approximation.json`` and ``approximated_roster.toml``; return them, the line.

    A roster is a monocycle game already (no files, a line saying so); a payoff matrix
    above :data:`MAX_MATRIX_SPECTRUM` strategies is not approximated (O(n^3)). A game
    that is not skew-symmetric raises its one-line ``GameError`` (the run fails).
    """
    if _too_large_matrix(game):
        return [], f"Approximation: not computed for {len(game.labels):,} strategies", None
    try:
        approximation = approximate(game, method, equilibrium=equilibrium)
    except AlreadyMonocycleError as err:
        return [], err.summary_line(), None
    json_path = output_dir / APPROXIMATION_FILE
    write_json(json_path, {"schema_version": SCHEMA_VERSION, **approximation.to_json()})
    roster_path = output_dir / APPROXIMATED_ROSTER_FILE
    write_file_atomically(roster_path, approximation.roster_toml())
    return [json_path, roster_path], approximation.summary_line(), approximation


def write_comparison(
    output_dir: Path,
    game: Game,
    equilibrium: Equilibrium,
    reference_path: Path,
) -> tuple[list[Path], str, Figures]:
    """Compare ``game`` with the reference game file; write the JSON and the picture;
    return them, the summary line and the distances as figures (``comparison.*``)."""
    reference = read_game_file(reference_path)
    comparison = compare_games(game, reference, game_equilibrium=equilibrium)
    json_path = output_dir / COMPARISON_FILE
    write_json(json_path, {"schema_version": SCHEMA_VERSION, **comparison.to_json()})
    picture_path = output_dir / COMPARISON_PICTURE
    write_file_atomically(
        picture_path, comparison_svg(comparison, reference_name=reference_path.name)
    )
    line = comparison.summary_line(reference_name=reference_path.name)
    return [json_path, picture_path], line, distance_figures("comparison", comparison.distances())


def _too_large_matrix(game: Game) -> bool:
    """Whether ``game`` is a payoff matrix above :data:`MAX_MATRIX_SPECTRUM` strategies."""
    return game.characters is None and len(game.labels) > MAX_MATRIX_SPECTRUM
