"""Monte-Carlo experiments over random games (RESEARCH.md section 4): the domain side.

An experiment is an ``[experiment]`` table (``parse_experiment`` -> ``ExperimentSettings``)
and a number of independent trials. Trial k draws a random game from its own generator
seeded by ``trial_seed(seed, k)`` and analyses it (``run_trial``), giving one flat row
(``trial_columns``); ``format_row`` / ``parse_row`` write and read rows as CSV fields
exactly. ``summarise`` turns the rows into the JSON-ready summary, ``rerun_trial``
re-runs one trial from it, and ``monocycle_nash.plot.experiment_chart`` draws it.

Kinds: ``team_spectrum`` (a random roster, its team game, the team equilibrium's support
and the team matrix's levels) and ``approximation_quality`` (a random skew-symmetric
matrix, its monocycle approximation and a distance). Every function here is plain,
picklable and deterministic, so the app can run trials in worker processes in any
order. Re-run one trial from the command line with
``python -m monocycle_nash.experiments.rerun output/summary.json 7``.
"""

from __future__ import annotations

from monocycle_nash.errors import ExperimentSettingError
from monocycle_nash.experiments.settings import (
    DEFAULT_RATIO_BIN_EDGES,
    DISTANCES,
    KINDS,
    MAX_MATRIX_SIZE,
    Distance,
    ExperimentKind,
    ExperimentSettings,
    parse_experiment,
)
from monocycle_nash.experiments.summary import GAP_BIN_EDGES, summarise
from monocycle_nash.experiments.trials import (
    APPROXIMATION_COLUMNS,
    TEAM_SPECTRUM_COLUMNS,
    equilibrium_is_unique,
    fixed_game_table,
    format_row,
    parse_row,
    random_roster,
    random_skew_matrix,
    rerun_trial,
    run_trial,
    trial_columns,
    trial_seed,
)

__all__ = [
    "APPROXIMATION_COLUMNS",
    "DEFAULT_RATIO_BIN_EDGES",
    "DISTANCES",
    "GAP_BIN_EDGES",
    "KINDS",
    "MAX_MATRIX_SIZE",
    "TEAM_SPECTRUM_COLUMNS",
    "Distance",
    "ExperimentKind",
    "ExperimentSettingError",
    "ExperimentSettings",
    "equilibrium_is_unique",
    "fixed_game_table",
    "format_row",
    "parse_experiment",
    "parse_row",
    "random_roster",
    "random_skew_matrix",
    "rerun_trial",
    "run_trial",
    "summarise",
    "trial_columns",
    "trial_seed",
]
