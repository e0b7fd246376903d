"""Monte-Carlo experiments: settings, reproducible trials, CSV rows, summaries, re-runs."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import pickle
import random
import statistics
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash import Character, Game, GameError, PayoffMatrix, TeamSpec
from monocycle_nash.approximation import METHODS
from monocycle_nash.experiments import (
    DEFAULT_RATIO_BIN_EDGES,
    ExperimentSettingError,
    ExperimentSettings,
    equilibrium_is_unique,
    format_row,
    parse_experiment,
    parse_row,
    random_roster,
    random_skew_matrix,
    rerun_trial,
    run_trial,
    summarise,
    trial_columns,
    trial_seed,
)
from monocycle_nash.experiments.rerun import main as rerun_main
from monocycle_nash.toml_writer import dumps

SOURCE = "run.toml"
TEAM = {"kind": "team_spectrum", "trials": 6, "seed": 11}
APPROXIMATION = {"kind": "approximation_quality", "trials": 4, "seed": 5}
NON_TEXT_KEY: dict[object, object] = {**TEAM, 3: 1}

# RESEARCH.md section 1: the roster R, P, S, D; section 2: its team matrix's levels.
RPSD = (
    Character("R", 0.0, (1.0, 0.0)),
    Character("P", 0.0, (-1.0, -1.0)),
    Character("S", 0.0, (0.0, 1.0)),
    Character("D", -0.5, (1.0, 1.0)),
)
RPSD_LEVELS = (1.9809853516888472, 0.8208680909879961, 0.028826150025094897)
# RESEARCH.md section 3: A4, levels (sqrt(6) +- sqrt(2)) / 2, max |J - A4| = sqrt(3) / 6.
A4 = [[0, -1, 1, 1], [1, 0, -1, 0], [-1, 1, 0, 0], [-1, 0, 0, 0]]


def settings(table: dict[str, object]) -> ExperimentSettings:
    return parse_experiment(table, SOURCE)


def team_row(trial: int, gap: float | None, support: int, **values: object) -> dict[str, object]:
    """A hand-made team-spectrum row: only the columns the summary reads matter."""
    row: dict[str, object] = dict.fromkeys(trial_columns("team_spectrum"))
    row.update(trial=trial, trial_seed=trial, dominant_gap=gap, support_size=support)
    row.update(values)
    return row


def approximation_row(trial: int, ratio: float | None, distance: float) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(trial_columns("approximation_quality"))
    row.update(trial=trial, dominant_eigen_ratio=ratio, distance=distance, warnings=0)
    return row


# --- settings ----------------------------------------------------------------------------


def test_defaults_of_both_kinds():
    """A table with only kind and trials gets every documented default."""
    team = settings({"kind": "team_spectrum", "trials": 3})
    assert (team.seed, team.workers, team.skip_failed_trials) == (0, None, False)
    assert (team.character_count, team.team_size) == (6, 2)
    assert (team.power_low, team.power_high, team.vector_low, team.vector_high) == (
        0.0,
        1.0,
        -1.0,
        1.0,
    )
    assert team.support_threshold == 1e-6
    approx = settings({"kind": "approximation_quality", "trials": 3})
    assert (approx.size, approx.low, approx.high) == (6, -1.0, 1.0)
    assert approx.method == METHODS[0] == "dominant_eigenpair"
    assert approx.distance == "max_element"
    assert approx.ratio_bin_edges == DEFAULT_RATIO_BIN_EDGES == (1.0, 1.5, 2.0, 3.0, 5.0)


@pytest.mark.parametrize(
    "table",
    [
        pytest.param({**TEAM, "workers": 3, "power_low": -2, "team_size": 3}, id="team"),
        pytest.param(
            {**APPROXIMATION, "ratio_bin_edges": [1, 4], "method": METHODS[1]}, id="approx"
        ),
    ],
)
def test_to_table_round_trips_through_toml(table):
    """to_table() is every key of the kind; written as TOML and parsed again, the same."""
    resolved = settings(table)
    written = resolved.to_table()
    assert written["kind"] == table["kind"]
    assert parse_experiment(tomllib.loads(dumps(written)), SOURCE) == resolved
    assert parse_experiment(written, SOURCE) == resolved


def test_to_table_leaves_out_workers_when_unset():
    """workers None (the machine's cores) is no key; a given one is kept."""
    assert "workers" not in settings(TEAM).to_table()
    assert settings({**TEAM, "workers": 2}).to_table()["workers"] == 2


def test_with_overrides_checks_the_new_values():
    """A sweep condition replaces keys and is checked like the table."""
    base = settings(TEAM)
    changed = base.with_overrides({"character_count": 8, "seed": 3}, "sweep.toml")
    assert (changed.character_count, changed.seed, changed.trials) == (8, 3, base.trials)
    with pytest.raises(ExperimentSettingError, match=r"^sweep\.toml: \[experiment\] team_size"):
        base.with_overrides({"team_size": 9}, "sweep.toml")
    with pytest.raises(ExperimentSettingError, match="must be a table"):
        base.with_overrides([("seed", 1)], "sweep.toml")  # type: ignore[arg-type]


def test_with_overrides_to_the_other_kind_starts_from_its_defaults():
    """Changing kind keeps trials and seed and drops the old kind's keys."""
    base = settings({**TEAM, "character_count": 9})
    changed = base.with_overrides({"kind": "approximation_quality", "size": 5}, "sweep.toml")
    assert (changed.kind, changed.trials, changed.seed, changed.size) == (
        "approximation_quality",
        6,
        11,
        5,
    )
    assert "character_count" not in changed.to_table()


BAD_TABLES = [
    pytest.param("trials = 3", "[experiment]", id="not-a-table"),
    pytest.param({**TEAM, "colour": 1}, "colour", id="unknown-key"),
    pytest.param(NON_TEXT_KEY, "3", id="key-not-text"),
    pytest.param({"trials": 3}, "kind", id="kind-missing"),
    pytest.param({**TEAM, "kind": "teams"}, "kind", id="kind-unknown"),
    pytest.param({**TEAM, "kind": ["team_spectrum"]}, "kind", id="kind-list"),
    pytest.param({"kind": "team_spectrum"}, "trials", id="trials-missing"),
    pytest.param({**TEAM, "trials": 0}, "trials", id="trials-zero"),
    pytest.param({**TEAM, "trials": True}, "trials", id="trials-bool"),
    pytest.param({**TEAM, "trials": 2.0}, "trials", id="trials-float"),
    pytest.param({**TEAM, "trials": "3"}, "trials", id="trials-text"),
    pytest.param({**TEAM, "seed": 1.5}, "seed", id="seed-float"),
    pytest.param({**TEAM, "seed": False}, "seed", id="seed-bool"),
    pytest.param({**TEAM, "seed": 2**63}, "seed", id="seed-too-large"),
    pytest.param({**TEAM, "workers": 0}, "workers", id="workers-zero"),
    pytest.param({**TEAM, "workers": True}, "workers", id="workers-bool"),
    pytest.param({**TEAM, "skip_failed_trials": 1}, "skip_failed_trials", id="skip-int"),
    pytest.param({**TEAM, "character_count": 1}, "character_count", id="count-1"),
    pytest.param({**TEAM, "team_size": 0}, "team_size", id="team-size-0"),
    pytest.param({**TEAM, "team_size": 7}, "team_size", id="team-size-above-count"),
    pytest.param(
        {**TEAM, "character_count": 100, "team_size": 3}, "team_size", id="too-many-teams"
    ),
    pytest.param({**TEAM, "power_low": math.nan}, "power_low", id="power-nan"),
    pytest.param({**TEAM, "power_high": math.inf}, "power_high", id="power-inf"),
    pytest.param({**TEAM, "power_low": True}, "power_low", id="power-bool"),
    pytest.param({**TEAM, "power_low": "0"}, "power_low", id="power-text"),
    pytest.param({**TEAM, "power_low": 1}, "power_low", id="power-low-equals-high"),
    pytest.param({**TEAM, "vector_low": 2, "vector_high": 1}, "vector_low", id="vector-reversed"),
    pytest.param({**TEAM, "vector_high": 1e200}, "vector_high", id="vector-too-large"),
    pytest.param({**TEAM, "support_threshold": -1e-3}, "support_threshold", id="threshold-neg"),
    pytest.param({**TEAM, "support_threshold": 1}, "support_threshold", id="threshold-1"),
    pytest.param({**TEAM, "support_threshold": math.nan}, "support_threshold", id="threshold-nan"),
    pytest.param({**TEAM, "size": 5}, "size", id="team-with-size"),
    pytest.param({**APPROXIMATION, "team_size": 2}, "team_size", id="approx-with-team-size"),
    pytest.param({**APPROXIMATION, "size": 2}, "size", id="size-2"),
    pytest.param({**APPROXIMATION, "size": 1001}, "size", id="size-too-large"),
    pytest.param({**APPROXIMATION, "low": 1, "high": -1}, "low", id="low-above-high"),
    pytest.param({**APPROXIMATION, "high": math.nan}, "high", id="high-nan"),
    pytest.param({**APPROXIMATION, "method": "svd"}, "method", id="method"),
    pytest.param({**APPROXIMATION, "distance": "l2"}, "distance", id="distance"),
    pytest.param({**APPROXIMATION, "ratio_bin_edges": []}, "ratio_bin_edges", id="edges-empty"),
    pytest.param({**APPROXIMATION, "ratio_bin_edges": "1,2"}, "ratio_bin_edges", id="edges-text"),
    pytest.param({**APPROXIMATION, "ratio_bin_edges": [0.5, 2]}, "ratio_bin_edges", id="below-1"),
    pytest.param({**APPROXIMATION, "ratio_bin_edges": [1, 1]}, "ratio_bin_edges", id="repeated"),
    pytest.param({**APPROXIMATION, "ratio_bin_edges": [2, 1]}, "ratio_bin_edges", id="decreasing"),
    pytest.param({**APPROXIMATION, "ratio_bin_edges": [1, math.nan]}, "ratio_bin_edges", id="nan"),
    pytest.param({**APPROXIMATION, "ratio_bin_edges": [1, math.inf]}, "ratio_bin_edges", id="inf"),
    pytest.param({**APPROXIMATION, "ratio_bin_edges": [1, True]}, "ratio_bin_edges", id="bool"),
]


@pytest.mark.parametrize(("table", "key"), BAD_TABLES)
def test_bad_settings_are_refused_in_one_line_naming_the_key(table, key):
    """Every bad [experiment] value raises ExperimentSettingError: one line, source, key."""
    with pytest.raises(ExperimentSettingError) as caught:
        parse_experiment(table, SOURCE)
    message = str(caught.value)
    assert isinstance(caught.value, GameError)
    assert "\n" not in message
    assert message.startswith(f"{SOURCE}: ")
    assert key in message


def through_pickle(value: Any) -> Any:
    """``value`` pickled and unpickled, as a process pool sends it to a worker."""
    return pickle.loads(pickle.dumps(value))  # noqa: S301 - our own bytes


def test_settings_and_fixed_games_pickle_for_worker_processes():
    """What the app sends to a worker process survives pickling, and so do the rows."""
    resolved = settings({**TEAM, "workers": 2})
    assert through_pickle(resolved) == resolved
    game = through_pickle(Game.of_roster(RPSD, "rpsd.toml"))
    fixed = settings({"kind": "team_spectrum", "trials": 1, "character_count": 4})
    row = run_trial(fixed, 0, fixed_game=game)
    assert row == run_trial(fixed, 0, fixed_game=Game.of_roster(RPSD, "rpsd.toml"))
    assert through_pickle(row) == row


# --- seeds and random games ------------------------------------------------------------------


def test_trial_seed_is_the_documented_hash():
    """trial_seed is the first 8 bytes of SHA-256 of the text, shifted to 63 bits."""
    digest = hashlib.sha256(b"monocycle-nash trial 42 7").digest()
    assert trial_seed(42, 7) == int.from_bytes(digest[:8], "big") >> 1
    seeds = {trial_seed(42, k) for k in range(100)} | {trial_seed(43, 0), trial_seed(-42, 0)}
    assert len(seeds) == 102
    assert all(0 <= seed < 2**63 for seed in seeds)
    with pytest.raises(ValueError, match="trial index"):
        trial_seed(42, -1)


def test_random_roster_draws_p_x_y_of_each_character_in_turn():
    """The roster is c0, c1, ... with p, x, y drawn in that order from the generator."""
    table = {**TEAM, "power_low": 2, "power_high": 3, "character_count": 4}
    game = random_roster(settings(table), random.Random(9))
    expected = random.Random(9)
    assert game.labels == ("c0", "c1", "c2", "c3")
    assert game.characters is not None
    for character in game.characters:
        p = 2.0 + (3.0 - 2.0) * expected.random()
        x = -1.0 + 2.0 * expected.random()
        y = -1.0 + 2.0 * expected.random()
        assert (character.power, character.vector) == (p, (x, y))
        assert 2.0 <= character.power < 3.0


def test_random_skew_matrix_draws_the_upper_triangle_row_by_row():
    """Upper entries come row-major from the generator; the matrix is skew-symmetric."""
    game = random_skew_matrix(settings({**APPROXIMATION, "size": 4, "low": 0}), random.Random(2))
    expected = random.Random(2)
    rows = game.matrix.rows
    for i in range(4):
        assert rows[i][i] == 0.0
        for j in range(i + 1, 4):
            assert rows[i][j] == expected.random()
            assert rows[j][i] == -rows[i][j]
    assert game.labels == ("c0", "c1", "c2", "c3")


# --- trials --------------------------------------------------------------------------------


@pytest.mark.parametrize("table", [TEAM, APPROXIMATION], ids=["team", "approx"])
def test_trials_are_reproducible_in_any_order(table):
    """Trial k gives the same row whatever ran before it; different k differ."""
    resolved = settings(table)
    forward = [run_trial(resolved, k) for k in range(4)]
    backward = [run_trial(resolved, k) for k in reversed(range(4))][::-1]
    assert forward == backward
    assert [row["trial"] for row in forward] == [0, 1, 2, 3]
    assert len({row["trial_seed"] for row in forward}) == 4
    assert forward[0] != forward[1]
    other_seed = run_trial(resolved.with_overrides({"seed": 12}, SOURCE), 0)
    assert other_seed["trial_seed"] != forward[0]["trial_seed"]


@pytest.mark.parametrize("table", [TEAM, APPROXIMATION], ids=["team", "approx"])
def test_rows_have_exactly_the_columns_and_finite_values(table):
    """A row's keys are trial_columns(kind) in order; numbers are finite; types plain."""
    resolved = settings(table)
    for k in range(3):
        row = run_trial(resolved, k)
        assert tuple(row) == trial_columns(resolved.kind)
        for value in row.values():
            assert value is None or type(value) in (int, float, str, bool)
            if isinstance(value, float):
                assert math.isfinite(value)


@pytest.mark.parametrize(
    "game",
    [
        pytest.param(Game.of_roster(RPSD, "rpsd.toml"), id="roster"),
        pytest.param(Game.of_matrix(PayoffMatrix.from_characters(RPSD), "rpsd.toml"), id="matrix"),
    ],
)
def test_worked_example_as_a_one_trial_experiment(game):
    """RESEARCH.md sections 1-2: the R, P, S, D team game has levels 1.98..., 0.82...,
    0.0288... and the unique equilibrium RP = RS = PS = 1/3 (support 3, value 0)."""
    resolved = settings({"kind": "team_spectrum", "trials": 1, "character_count": 4})
    row = run_trial(resolved, 0, fixed_game=game)
    assert (row["character_count"], row["team_count"]) == (4, 6)
    levels = (row["sigma_1"], row["sigma_2"], row["sigma_3"])
    assert levels == pytest.approx(RPSD_LEVELS, rel=1e-12)
    assert row["ratio2_to_1"] == pytest.approx(RPSD_LEVELS[1] / RPSD_LEVELS[0], rel=1e-12)
    assert row["ratio3_to_1"] == pytest.approx(RPSD_LEVELS[2] / RPSD_LEVELS[0], rel=1e-12)
    assert row["dominant_gap"] == pytest.approx(RPSD_LEVELS[0] / RPSD_LEVELS[1], rel=1e-12)
    assert row["support_size"] == 3
    assert row["unique"] is True
    assert row["value"] == pytest.approx(0.0, abs=1e-12)
    summary = summarise(resolved, [row], fixed_game=game)
    assert summary["support_rates"] == {"equal_3": 1.0, "at_most_3": 1.0, "above_3": 0.0}


def test_a_general_fixed_game_is_refused_by_the_team_spectrum():
    """A game that is not skew-symmetric has a team matrix without a spectrum."""
    game = Game.of_matrix(PayoffMatrix.from_rows([[1, 2, 0], [0, 1, 3], [2, 0, 1]]), "g.toml")
    with pytest.raises(ExperimentSettingError, match=r"^g\.toml: .*skew-symmetric"):
        run_trial(settings({**TEAM, "character_count": 3}), 0, fixed_game=game)


def test_approximation_trial_of_a_fixed_game():
    """RESEARCH.md section 3: J of A4 is sqrt(3)/6 away, sigma_1/sigma_2 = 2 + sqrt(3)."""
    game = Game.of_matrix(PayoffMatrix.from_rows(A4), "a4.toml")
    row = run_trial(settings(APPROXIMATION), 0, fixed_game=game)
    assert row["size"] == 4
    assert row["distance"] == row["max_element"] == pytest.approx(math.sqrt(3) / 6, rel=1e-12)
    assert row["dominant_eigen_ratio"] == pytest.approx(2 + math.sqrt(3), rel=1e-12)
    assert (row["warnings"], row["warning"]) == (0, None)


def test_the_chosen_distance_is_recorded():
    """distance is the column the settings name."""
    for name in ("equilibrium_u", "reference_exploitability", "strategy_l1"):
        row = run_trial(settings({**APPROXIMATION, "distance": name}), 1)
        assert row["distance"] == row[name]


def test_uniqueness_cheap_test():
    """Strict support with a one-dimensional kernel: True; a tie that moves x, or a
    rank-deficient support: False; a tie that no single move settles: None."""
    rps = [[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]
    third = 1.0 / 3.0
    assert equilibrium_is_unique(rps, [third] * 3, 1e-6) is True
    two_dominant = [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [-1.0, -1.0, 0.0]]
    assert equilibrium_is_unique(two_dominant, [1.0, 0.0, 0.0], 1e-6) is False
    flat = [[0.0, 0.0, 0.0, 1.0]] * 3 + [[-1.0, -1.0, -1.0, 0.0]]
    assert equilibrium_is_unique(flat, [third, third, third, 0.0], 1e-6) is False
    # R' copies R: weight moves from R to R', which no move towards R' alone shows.
    copy = [[0.0, -1.0, 1.0, 0.0], [1.0, 0.0, -1.0, 1.0], [-1.0, 1.0, 0.0, -1.0]]
    copy.append([0.0, -1.0, 1.0, 0.0])
    assert equilibrium_is_unique(copy, [third, third, third, 0.0], 1e-6) is None
    assert equilibrium_is_unique([[0.0]], [1.0], 1e-6) is True


# --- CSV rows -----------------------------------------------------------------------------


def test_format_row_writes_exact_text():
    """Floats by repr, None empty, booleans true/false, integers plainly."""
    row = {"a": 0.1, "b": None, "c": True, "d": False, "e": 12, "f": "simplex", "g": -0.0}
    assert format_row(row) == ["0.1", "", "true", "false", "12", "simplex", "-0.0"]
    with pytest.raises(ValueError, match="non-finite"):
        format_row({"a": math.inf})


def test_parse_row_refuses_a_broken_line():
    """A short line or a field of the wrong type is a ValueError naming the column."""
    columns = trial_columns("team_spectrum")
    with pytest.raises(ValueError, match="fields"):
        parse_row("team_spectrum", ["1", "2"])
    fields = ["0"] * len(columns)
    fields[columns.index("unique")] = "yes"
    with pytest.raises(ValueError, match="unique"):
        parse_row("team_spectrum", fields)
    with pytest.raises(ValueError, match="unknown experiment kind"):
        parse_row("teams", fields)


@pytest.mark.parametrize("table", [TEAM, APPROXIMATION], ids=["team", "approx"])
def test_summary_from_the_csv_equals_the_summary_in_memory(table, tmp_path: Path):
    """Rows written to trials.csv and read back give the same rows and the same summary."""
    resolved = settings(table)
    rows = [run_trial(resolved, k) for k in (3, 0, 2, 1)]  # in the order they finished
    path = tmp_path / "trials.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(trial_columns(resolved.kind))
        writer.writerows(format_row(row) for row in rows)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        assert tuple(next(reader)) == trial_columns(resolved.kind)
        read = [parse_row(resolved.kind, fields) for fields in reader]
    assert read == rows
    assert summarise(resolved, read) == summarise(resolved, rows)
    assert json.dumps(summarise(resolved, read)) == json.dumps(summarise(resolved, rows))


# --- summaries ------------------------------------------------------------------------------


def hand_rows() -> list[dict[str, object]]:
    """Six team-spectrum rows, one without a gap (a single level)."""
    return [
        team_row(0, 1.1, 3, ratio2_to_1=0.5, unique=True),
        team_row(1, 1.3, 3, ratio2_to_1=0.25, unique=True),
        team_row(2, 1.3, 5, ratio2_to_1=0.75, unique=None),
        team_row(3, 2.5, 1, ratio2_to_1=0.5, unique=False),
        team_row(4, None, 3, ratio2_to_1=None, unique=True),
        team_row(5, 4.0, 3, ratio2_to_1=0.5, unique=True),
    ]


def test_team_summary_by_hand():
    """Histogram, rates, gap bins, Pearson and stats of a hand-made row set."""
    resolved = settings(TEAM)
    summary = summarise(resolved, hand_rows())
    assert (summary["kind"], summary["trials"], summary["completed"]) == ("team_spectrum", 6, 6)
    assert summary["support_size_histogram"] == {"1": 1, "3": 4, "5": 1}
    assert list(summary["support_size_histogram"]) == ["1", "3", "5"]
    assert summary["support_rates"] == {"equal_3": 4 / 6, "at_most_3": 5 / 6, "above_3": 1 / 6}
    assert summary["gap_bins"] == [
        {"low": 1.0, "high": 1.2, "count": 1, "support_3": 1, "rate": 1.0},
        {"low": 1.2, "high": 1.5, "count": 2, "support_3": 1, "rate": 0.5},
        {"low": 1.5, "high": 2.0, "count": 0, "support_3": 0, "rate": None},
        {"low": 2.0, "high": 3.0, "count": 1, "support_3": 0, "rate": 0.0},
        {"low": 3.0, "high": None, "count": 1, "support_3": 1, "rate": 1.0},
    ]
    assert summary["gap_undefined"] == {"count": 1, "support_3": 1, "rate": 1.0}
    ratio = summary["ratio2_to_1"]
    assert ratio == {"count": 5, "mean": 0.5, "std": math.sqrt(0.025), "min": 0.25, "max": 0.75}
    assert summary["ratio3_to_1"] == {
        "count": 0,
        "mean": None,
        "std": None,
        "min": None,
        "max": None,
    }
    gap = summary["dominant_gap"]
    assert gap["count"] == 5
    assert gap["mean"] == pytest.approx(10.2 / 5)
    assert gap["std"] == pytest.approx(statistics.pstdev([1.1, 1.3, 1.3, 2.5, 4.0]))
    correlation = summary["gap_support_correlation"]
    assert correlation["count"] == 5
    expected = statistics.correlation([1.1, 1.3, 1.3, 2.5, 4.0], [3, 3, 5, 1, 3])
    assert correlation["pearson"] == pytest.approx(expected, rel=1e-12)
    assert summary["unique"] == {"true": 4, "false": 1, "undecided": 1}


def test_pearson_is_none_when_undefined():
    """Fewer than two rows with a gap, or a constant support, give no correlation."""
    resolved = settings(TEAM)
    one = summarise(resolved, [team_row(0, 1.5, 3)])
    assert one["gap_support_correlation"] == {"count": 1, "pearson": None}
    constant = summarise(resolved, [team_row(0, 1.5, 3), team_row(1, 2.5, 3)])
    assert constant["gap_support_correlation"]["pearson"] is None
    perfect = summarise(resolved, [team_row(k, 1.0 + k, 1 + 2 * k) for k in range(3)])
    assert perfect["gap_support_correlation"]["pearson"] == 1.0


def test_approximation_summary_by_hand():
    """Overall stats and per-bin stats; rows below the first edge or without a ratio apart."""
    resolved = settings({**APPROXIMATION, "ratio_bin_edges": [1.5, 3]})
    rows = [
        approximation_row(0, 1.2, 1.0),
        approximation_row(1, 1.5, 2.0),
        approximation_row(2, 2.0, 4.0),
        approximation_row(3, 3.0, 3.0),
        approximation_row(4, 7.0, 5.0),
        approximation_row(5, None, 6.0),
    ]
    summary = summarise(resolved, rows)
    assert summary["distance"] == {
        "count": 6,
        "mean": 3.5,
        "std": math.sqrt(17.5 / 6),
        "min": 1.0,
        "max": 6.0,
    }
    assert summary["ratio_bins"] == [
        {"low": 1.5, "high": 3.0, "count": 2, "mean": 3.0, "std": 1.0, "min": 2.0, "max": 4.0},
        {"low": 3.0, "high": None, "count": 2, "mean": 4.0, "std": 1.0, "min": 3.0, "max": 5.0},
    ]
    assert summary["ratio_below_first_edge"] == {
        "count": 1,
        "mean": 1.0,
        "std": 0.0,
        "min": 1.0,
        "max": 1.0,
    }
    assert summary["ratio_missing"]["count"] == 1
    assert summary["ratio_missing"]["mean"] == 6.0
    assert (summary["method"], summary["distance_name"]) == ("dominant_eigenpair", "max_element")


def test_summary_does_not_depend_on_row_order_and_keeps_failures():
    """Rows in any order give one summary; failures are listed by trial; repeats refused."""
    resolved = settings(TEAM)
    rows = hand_rows()
    failed = [
        {"trial": 9, "trial_seed": 1, "error": "b"},
        {"trial": 7, "trial_seed": 2, "error": "a"},
    ]
    summary = summarise(resolved, rows, failed)
    assert summary == summarise(resolved, rows[::-1], failed[::-1])
    assert [entry["trial"] for entry in summary["failed"]] == [7, 9]
    assert summary["settings"] == resolved.to_table()
    with pytest.raises(ValueError, match="trial 1 has two rows"):
        summarise(resolved, [*rows, rows[1]])


@pytest.mark.parametrize("table", [TEAM, APPROXIMATION], ids=["team", "approx"])
@pytest.mark.parametrize("count", [0, 1, 3])
def test_summary_json_has_no_infinity_or_nan(table, count):
    """The summary is strict JSON (allow_nan=False) with 0, 1 or several rows."""
    resolved = settings(table)
    summary = summarise(resolved, [run_trial(resolved, k) for k in range(count)])
    assert summary["completed"] == count
    json.dumps(summary, allow_nan=False)
    json.dumps(
        summarise(resolved, hand_rows() if resolved.kind == "team_spectrum" else []),
        allow_nan=False,
    )


# --- re-running one trial ---------------------------------------------------------------------


def write_summary(tmp_path: Path, summary: dict[str, object]) -> Path:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(summary, allow_nan=False), encoding="utf-8")
    return path


@pytest.mark.slow
def test_rerun_entry_in_a_real_process(tmp_path: Path):
    """python -m monocycle_nash.experiments.rerun SUMMARY INDEX prints trial INDEX's row."""
    resolved = settings(TEAM)
    rows = [run_trial(resolved, k) for k in range(resolved.trials)]
    path = write_summary(tmp_path, summarise(resolved, rows))
    done = subprocess.run(
        [sys.executable, "-m", "monocycle_nash.experiments.rerun", str(path), "4"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout) == rows[4]
    refused = subprocess.run(
        [sys.executable, "-m", "monocycle_nash.experiments.rerun", str(path), "6"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.count("\n") == 1
    assert "trial 6 is not one of the experiment's 6 trials" in refused.stderr


def test_rerun_trial_of_a_fixed_game_experiment(tmp_path: Path):
    """A summary of an experiment on a fixed game holds it, so its trials re-run."""
    resolved = settings({**APPROXIMATION, "trials": 2})
    game = Game.of_matrix(PayoffMatrix.from_rows(A4, ["a", "b", "c", "d"]), "a4.toml")
    row = run_trial(resolved, 1, fixed_game=game)
    summary = json.loads(json.dumps(summarise(resolved, [row], fixed_game=game)))
    assert summary["fixed_game"]["source"] == "a4.toml"
    assert rerun_trial(summary, 1) == row


def test_rerun_trial_of_a_fixed_roster_with_teams():
    """A fixed roster keeps its listed teams through the summary."""
    game = Game.of_roster(RPSD, "rpsd.toml").with_teams(
        TeamSpec.of_teams({"RP": ["R", "P"], "SD": ["S", "D"], "RS": ["R", "S"]})
    )
    resolved = settings({"kind": "team_spectrum", "trials": 1, "character_count": 4})
    row = run_trial(resolved, 0, fixed_game=game)
    assert row["team_count"] == 3
    summary = json.loads(json.dumps(summarise(resolved, [row], fixed_game=game)))
    assert rerun_trial(summary, 0) == row


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(None, "cannot read", id="missing"),
        pytest.param("{not json", "not a JSON summary", id="not-json"),
        pytest.param("[1, 2]", "not a JSON summary", id="not-an-object"),
        pytest.param('{"kind": "team_spectrum"}', "has no 'settings'", id="no-settings"),
        pytest.param('{"settings": {"kind": "x", "trials": 1}}', "kind", id="bad-settings"),
    ],
)
def test_rerun_command_line_refuses_in_one_line(tmp_path: Path, capsys, content, message):
    """Unreadable or unusable summaries: one line on stderr, exit 1, nothing on stdout."""
    path = tmp_path / "summary.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert rerun_main([str(path), "0"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert message in captured.err


def test_rerun_command_line_usage_error(capsys):
    """A trial number that is not a number is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as caught:
        rerun_main(["summary.json", "seven"])
    assert caught.value.code == 2
    assert capsys.readouterr().out == ""
