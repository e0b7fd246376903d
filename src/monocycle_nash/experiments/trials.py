"""One trial of an experiment: a random game, its analysis, one flat row of results.

Reproducibility: trial k of an experiment with seed s draws from its own generator,
``random.Random(trial_seed(s, k))``, so a trial's row depends on ``(settings, k)`` only,
not on the process that ran it or on the order trials finished in (RESEARCH.md
section 4). ``rerun_trial`` re-runs one trial from a ``summary.json``.

Draws (``U[a, b)`` is ``a + (b - a) * rng.random()``; a draw that rounds up to b is
replaced by the float below b):

- ``random_roster``: for each character c0, c1, ... in turn its p ~ ``U[power_low,
  power_high)``, then x, then y ~ ``U[vector_low, vector_high)``.
- ``random_skew_matrix``: the upper entries ``A[i][j]`` (i < j) ~ ``U[low, high)`` in
  row-major order (``A[0][1], A[0][2], ..., A[1][2], ...``); ``A[j][i] = -A[i][j]`` and
  the diagonal is 0.

A team-spectrum trial's ``unique`` says whether the team game's equilibrium is its only
one, decided from the equilibrium x found, its support S (weights above
``support_threshold``) and ``A = M`` (the team matrix, skew-symmetric, value 0), with
"0" meaning within ``1e-7 max|A|``. Every equilibrium y lives on the strategies Z that
score 0 against x (``y^T A x = 0`` and ``A x <= 0``), and ``A[S, :] y = 0``:

- a strategy j of Z outside S with ``A[i][j] <= 0`` for every i in Z: x moved a little
  towards j stays an equilibrium, ``unique = False`` (e.g. two teams sharing a dominant
  character);
- Z = S (every other strategy does strictly worse against x): every equilibrium solves
  ``A[S, S] y = 0``, so the equilibrium is unique exactly when the kernel of
  ``A[S, S]`` is one-dimensional, i.e. its rank (by ``spectrum_of``, relative tolerance
  1e-9) is ``|S| - 1``: ``unique = True``; a lower rank leaves a direction ``z`` with
  ``A[S, S] z = 0`` and ``sum z = 0`` along which x moves: ``unique = False``;
- otherwise (ties outside S that no single move settles) deciding needs a linear
  program: ``unique = None``.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from monocycle_nash.approximation import approximate
from monocycle_nash.character import Character
from monocycle_nash.errors import ExperimentSettingError, brief
from monocycle_nash.experiments.settings import KINDS, ExperimentSettings, parse_experiment
from monocycle_nash.game import Game, parse_game
from monocycle_nash.matrix import PayoffMatrix, payoffs_against
from monocycle_nash.spectrum import spectrum_of
from monocycle_nash.teams import TeamSpec, build_team_game, solve_team_game

__all__ = [
    "APPROXIMATION_COLUMNS",
    "TEAM_SPECTRUM_COLUMNS",
    "equilibrium_is_unique",
    "fixed_game_table",
    "format_row",
    "parse_row",
    "random_roster",
    "random_skew_matrix",
    "rerun_trial",
    "run_trial",
    "trial_columns",
    "trial_seed",
]

TEAM_SPECTRUM_COLUMNS: tuple[tuple[str, type], ...] = (
    ("trial", int),
    ("trial_seed", int),
    ("character_count", int),
    ("team_count", int),
    ("sigma_1", float),
    ("sigma_2", float),
    ("sigma_3", float),
    ("ratio2_to_1", float),
    ("ratio3_to_1", float),
    ("dominant_gap", float),
    ("support_size", int),
    ("unique", bool),
    ("value", float),
    ("exploitability", float),
    ("solver", str),
)
"""The columns of a team-spectrum trial and the type of their values (None allowed)."""

APPROXIMATION_COLUMNS: tuple[tuple[str, type], ...] = (
    ("trial", int),
    ("trial_seed", int),
    ("size", int),
    ("sigma_1", float),
    ("sigma_2", float),
    ("dominant_eigen_ratio", float),
    ("distance", float),
    ("max_element", float),
    ("relative_max_element", float),
    ("equilibrium_u", float),
    ("reference_exploitability", float),
    ("strategy_l1", float),
    ("relative_spectral_error", float),
    ("warnings", int),
    ("warning", str),
)
"""The columns of an approximation-quality trial and the type of their values."""

_COLUMNS = {"team_spectrum": TEAM_SPECTRUM_COLUMNS, "approximation_quality": APPROXIMATION_COLUMNS}
_UNIQUE_MARGIN = 1e-7  # relative to max|A|: a strategy doing better than -margin x that ties
_RANK_TOLERANCE = 1e-9  # relative to the support block's sigma_1


def trial_seed(seed: int, index: int) -> int:
    """The seed of trial ``index`` (0, 1, ...) of an experiment seeded ``seed``.

    The first 8 bytes of ``SHA-256("monocycle-nash trial <seed> <index>")`` (decimal
    integers, ASCII), big-endian, shifted right by one: a 63-bit integer, the same on
    every machine and in every process, and unrelated for neighbouring indices.
    """
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError(f"a trial index is a whole number from 0, got {index!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"an experiment seed is a whole number, got {seed!r}")
    digest = hashlib.sha256(f"monocycle-nash trial {seed} {index}".encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _uniform(rng: random.Random, low: float, high: float) -> float:
    """A draw from ``U[low, high)``: ``low + (high - low) * rng.random()``, below ``high``."""
    value = low + (high - low) * rng.random()
    return value if value < high else math.nextafter(high, low)


def _labels(count: int) -> list[str]:
    return [f"c{index}" for index in range(count)]


def random_roster(
    settings: ExperimentSettings, rng: random.Random, *, source: str = "<random roster>"
) -> Game:
    """A roster of ``settings.character_count`` characters c0, c1, ... drawn from ``rng``
    (module docstring: p, x, y of each character in turn)."""
    characters = []
    for label in _labels(settings.character_count):
        power = _uniform(rng, settings.power_low, settings.power_high)
        x = _uniform(rng, settings.vector_low, settings.vector_high)
        y = _uniform(rng, settings.vector_low, settings.vector_high)
        characters.append(Character(label, power, (x, y)))
    return Game.of_roster(characters, source)


def random_skew_matrix(
    settings: ExperimentSettings, rng: random.Random, *, source: str = "<random matrix>"
) -> Game:
    """A ``settings.size`` x ``settings.size`` skew-symmetric game (labels c0, c1, ...)
    whose upper entries are drawn from ``rng`` in row-major order."""
    size = settings.size
    rows = [[0.0] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            value = _uniform(rng, settings.low, settings.high)
            rows[i][j] = value
            rows[j][i] = 0.0 - value  # not -value: no -0.0
    return Game.of_matrix(PayoffMatrix.from_rows(rows, _labels(size)), source)


def trial_columns(kind: str) -> tuple[str, ...]:
    """The names of a trial row's columns for ``kind``, in order (the CSV header)."""
    return tuple(name for name, _ in _columns(kind))


def _columns(kind: str) -> tuple[tuple[str, type], ...]:
    if kind not in _COLUMNS:
        raise ValueError(f"unknown experiment kind {kind!r}; expected one of {KINDS}")
    return _COLUMNS[kind]


def run_trial(
    settings: ExperimentSettings, index: int, fixed_game: Game | None = None
) -> dict[str, object]:
    """Run trial ``index`` of the experiment and return its row (keys:
    ``trial_columns(settings.kind)`` in order; values int, float, str, bool or None,
    never NaN or infinity).

    ``fixed_game`` replaces the random game (every trial then analyses it; the trial
    seed is still recorded): a team-spectrum experiment plays its own teams when it has
    some (a game file's ``[teams]``), else every team of ``settings.team_size``; an
    approximation-quality experiment approximates its payoff matrix (a roster's too).
    Errors of the game (``GameError``) propagate: the caller decides whether a failed
    trial stops the experiment.
    """
    seed = trial_seed(settings.seed, index)
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    source = f"trial {index} (seed {seed})"
    if settings.kind == "team_spectrum":
        game = fixed_game if fixed_game is not None else random_roster(settings, rng, source=source)
        return _team_spectrum_row(settings, index, seed, game)
    if fixed_game is not None:
        game = Game.of_matrix(fixed_game.matrix, fixed_game.source)
    else:
        game = random_skew_matrix(settings, rng, source=source)
    return _approximation_row(settings, index, seed, game)


def _team_spectrum_row(
    settings: ExperimentSettings, index: int, seed: int, game: Game
) -> dict[str, object]:
    spec = game.teams if game.teams is not None else TeamSpec.of_size(settings.team_size)
    team = build_team_game(game, spec)
    if not team.mirrored:
        raise ExperimentSettingError(
            game.source,
            "a team_spectrum experiment needs a skew-symmetric game (a roster or a "
            "skew-symmetric matrix): a general game's team matrix has no spectrum",
        )
    equilibrium = solve_team_game(team)
    rows = team.game.matrix.rows
    spectrum = spectrum_of(rows)
    levels = spectrum.levels
    strategy = equilibrium.row_strategy
    threshold = settings.support_threshold
    return {
        "trial": index,
        "trial_seed": seed,
        "character_count": game.size,
        "team_count": team.game.size,
        "sigma_1": levels[0] if levels else None,
        "sigma_2": levels[1] if len(levels) > 1 else None,
        "sigma_3": levels[2] if len(levels) > 2 else None,
        "ratio2_to_1": spectrum.ratio2_to_1,
        "ratio3_to_1": spectrum.ratio3_to_1,
        "dominant_gap": spectrum.dominant_gap,
        "support_size": sum(1 for weight in strategy if weight > threshold),
        "unique": equilibrium_is_unique(rows, strategy, threshold),
        "value": float(equilibrium.value),
        "exploitability": float(equilibrium.exploitability),
        "solver": equilibrium.solver,
    }


def equilibrium_is_unique(
    rows: Sequence[Sequence[float]], strategy: Sequence[float], threshold: float
) -> bool | None:
    """Whether ``strategy``, an equilibrium of the skew-symmetric game ``rows``, is its
    only one: True, False, or None when that needs more than this cheap test (module
    docstring)."""
    size = len(rows)
    largest = max(max(map(abs, row)) for row in rows)
    if largest == 0.0:  # every strategy is an equilibrium
        return size == 1
    margin = _UNIQUE_MARGIN * largest
    support = [i for i, weight in enumerate(strategy) if weight > threshold]
    if not support:  # the threshold is above every weight
        return None
    inside = set(support)
    payoffs = payoffs_against(rows, strategy)
    tied = [i for i in range(size) if payoffs[i] > -margin]
    outside = [j for j in tied if j not in inside]
    for j in outside:
        if all(rows[i][j] <= margin for i in tied):
            return False  # x moves towards j and stays an equilibrium
    if outside:
        return None
    return _kernel_is_a_line([[rows[i][j] for j in support] for i in support])


def _kernel_is_a_line(block: list[list[float]]) -> bool | None:
    """Whether the kernel of the skew-symmetric ``block`` (the support's, which holds the
    equilibrium) is one-dimensional; None when it seems to have none (round-off)."""
    size = len(block)
    rank = 0 if size == 1 else spectrum_of(block, relative_tolerance=_RANK_TOLERANCE).rank
    if rank == size - 1:
        return True
    return False if rank < size - 1 else None


def _approximation_row(
    settings: ExperimentSettings, index: int, seed: int, game: Game
) -> dict[str, object]:
    approximation = approximate(game, settings.method)
    d = approximation.distances
    distances: dict[str, float] = {
        "max_element": d.max_element,
        "equilibrium_u": d.equilibrium_u,
        "reference_exploitability": d.reference_exploitability,
        "strategy_l1": d.strategy_l1,
    }
    levels = approximation.spectrum.levels
    warnings = approximation.warnings
    return {
        "trial": index,
        "trial_seed": seed,
        "size": game.size,
        "sigma_1": levels[0] if levels else None,
        "sigma_2": levels[1] if len(levels) > 1 else None,
        "dominant_eigen_ratio": approximation.dominant_eigen_ratio,
        "distance": distances[settings.distance],
        "max_element": d.max_element,
        "relative_max_element": d.relative_max_element,
        "equilibrium_u": d.equilibrium_u,
        "reference_exploitability": d.reference_exploitability,
        "strategy_l1": d.strategy_l1,
        "relative_spectral_error": d.relative_spectral_error,
        "warnings": len(warnings),
        "warning": " ".join(warnings) if warnings else None,
    }


# --- rows as CSV text ---------------------------------------------------------------------


def format_row(row: Mapping[str, object]) -> list[str]:
    """A row's values as CSV fields, in the row's order: floats by ``repr`` (they read
    back exactly), None as an empty field, booleans as ``true``/``false``."""
    return [_format_value(value) for value in row.values()]


def _format_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a trial row holds the non-finite number {value!r}")
        return repr(value)
    if isinstance(value, int | str):
        return str(value)
    raise TypeError(f"a trial row holds {brief(value)}, not a number, text, boolean or None")


def parse_row(kind: str, strings: Sequence[str]) -> dict[str, object]:
    """The row of ``kind`` that ``format_row`` wrote as ``strings`` (exactly the same
    values). Raise ``ValueError`` naming the column for a field that is not its type
    (e.g. a line cut short by a killed run)."""
    columns = _columns(kind)
    if len(strings) != len(columns):
        raise ValueError(
            f"a {kind} trial row has {len(columns)} fields, got {len(strings)}: {brief(strings)}"
        )
    row: dict[str, object] = {}
    for (name, kind_of_value), text in zip(columns, strings, strict=True):
        try:
            row[name] = None if text == "" else _PARSERS[kind_of_value](text)
        except ValueError:
            raise ValueError(
                f"trial column {name} must hold {kind_of_value.__name__}, got {brief(text)}"
            ) from None
    return row


def _boolean(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(text)
    return text == "true"


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


_PARSERS: dict[type, Callable[[str], Any]] = {int: int, float: _finite, bool: _boolean, str: str}


# --- re-running one trial --------------------------------------------------------------


def fixed_game_table(game: Game) -> dict[str, object]:
    """``game`` as JSON-ready data that ``rerun_trial`` rebuilds it from: ``source`` and
    ``game``, a game file's table (``characters``, or ``labels`` and ``matrix``, and its
    ``teams`` when it has some)."""
    table: dict[str, object]
    if game.characters is not None:
        table = {
            "characters": [
                {"label": c.label, "p": c.power, "v": list(c.vector)} for c in game.characters
            ]
        }
    else:
        table = {"labels": list(game.labels), "matrix": [list(row) for row in game.matrix.rows]}
    teams = game.teams
    if teams is not None:
        if teams.listed is None:
            table["teams"] = {"size": teams.size}
        else:
            table["teams"] = {
                "members": [
                    {"label": team.label, "members": list(team.members)} for team in teams.listed
                ]
            }
    return {"source": game.source, "game": table}


def rerun_trial(
    summary: Mapping[str, Any], index: int, *, source: str = "summary.json"
) -> dict[str, object]:
    """Re-run trial ``index`` of the experiment that ``summary`` (a ``summary.json``, as
    ``summarise`` made it) describes, and return its row: the same row the experiment
    recorded.

    Raise ``ExperimentSettingError`` naming ``source`` when the summary's ``settings``
    (or ``fixed_game``) are missing or malformed, or ``index`` is not one of its trials.
    """
    table = summary.get("settings")
    if not isinstance(table, Mapping):
        raise ExperimentSettingError(
            source, f"has no 'settings' table to re-run a trial from, got {brief(table)}"
        )
    settings = parse_experiment(table, f"{source} settings")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < settings.trials:
        raise ExperimentSettingError(
            source,
            f"trial {brief(index)} is not one of the experiment's {settings.trials} trials "
            f"(0 to {settings.trials - 1})",
        )
    fixed = summary.get("fixed_game")
    game: Game | None = None
    if fixed is not None:
        if not isinstance(fixed, Mapping) or not isinstance(fixed.get("game"), Mapping):
            raise ExperimentSettingError(
                source, f"fixed_game must be a table with a 'game' table, got {brief(fixed)}"
            )
        game = parse_game(fixed["game"], str(fixed.get("source", f"{source} fixed_game")))
    return run_trial(settings, index, game)
