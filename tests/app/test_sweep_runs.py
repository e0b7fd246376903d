"""Sweeps as recorded runs: a parent main job, one child main job per (condition, seed).

Every run is the real main job (``python src/main.py``), every child its own process;
the database and the run folders are read back as a user would (raw SQL rows, meta.json,
sweep.csv, ``runmeta list-runs --parent``).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from monocycle_nash.toml_writer import dumps
from tests.app import db_rows
from tests.app.experiment_trials import (
    Process,
    descendants,
    start_main_job,
    survivors,
    wait_for_lines,
)
from tests.app.main_process import run_main_job
from tests.app.test_experiment_runs import RPSD_ROSTER, write_config
from tests.app.test_main_job_e2e import assert_one_line_error
from tests.reliability.helpers import db_path, read_meta, runmeta_json

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals, /proc"),
]

SWEEP_COLUMNS = ("condition", "seed", "run_id", "status", "reused")
TRIALS = 12
"""Trials per child where a child is caught mid-way (16 characters: about 0.1 s a trial)."""


def write_sweep(
    folder: Path,
    experiment: Mapping[str, object],
    seeds: Sequence[int],
    conditions: Sequence[Mapping[str, object]],
    **top: object,
) -> Path:
    """A run config ``folder/sweep.toml``: ``top``, ``[experiment]`` and ``[sweep]``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sweep.toml"
    sweep = {"seeds": list(seeds), "conditions": [dict(entry) for entry in conditions]}
    path.write_text(
        dumps({**top, "experiment": dict(experiment), "sweep": sweep}), encoding="utf-8"
    )
    return path


def sweep_rows(root: Path, parent: int) -> list[dict[str, str]]:
    """The rows of the parent's sweep.csv, each as {column: text}."""
    path = root / "result" / str(parent) / "output" / "sweep.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, path
    assert tuple(rows[0])[: len(SWEEP_COLUMNS)] == SWEEP_COLUMNS
    return rows


def children_table(root: Path, parent: int) -> list[tuple[str, ...]]:
    """sweep.csv's (condition, seed, run_id, status, reused) of every child."""
    return [tuple(entry[key] for key in SWEEP_COLUMNS) for entry in sweep_rows(root, parent)]


def statuses(root: Path) -> dict[int, tuple[str, int | None]]:
    """Every run's (status, parent_run_id), straight from the database."""
    return {
        entry["run_id"]: (entry["status"], entry["parent_run_id"])
        for entry in db_rows.rows(db_path(root))
    }


def trials_csv(root: Path, run_id: int) -> bytes:
    """The bytes of run ``run_id``'s trials.csv."""
    return (root / "result" / str(run_id) / "output" / "trials.csv").read_bytes()


def test_sweep_records_a_parent_and_a_child_per_condition_and_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2 conditions x 2 seeds: run 1 the parent, runs 2-5 its children (parent_run_id,
    list-runs --parent); sweep.csv lists them with their figures; a child's trials.csv
    is that of the same experiment run alone."""
    base = {"kind": "team_spectrum", "trials": 10, "workers": 1}
    conditions = [{"name": "six", "character_count": 6}, {"name": "eight", "character_count": 8}]
    result = run_main_job(tmp_path, str(write_sweep(tmp_path, base, [1, 2], conditions)))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert statuses(tmp_path) == {
        1: ("success", None),
        **dict.fromkeys((2, 3, 4, 5), ("success", 1)),
    }
    listed = runmeta_json(capsys, tmp_path, "list-runs", "--parent", "1")
    assert sorted(entry["run_id"] for entry in listed) == [2, 3, 4, 5]
    assert children_table(tmp_path, 1) == [
        ("six", "1", "2", "success", "false"),
        ("six", "2", "3", "success", "false"),
        ("eight", "1", "4", "success", "false"),
        ("eight", "2", "5", "success", "false"),
    ]
    for entry in sweep_rows(tmp_path, 1):
        child = read_meta(tmp_path, int(entry["run_id"]))
        assert child["parent_run_id"] == 1
        assert int(entry["completed"]) == child["result"]["completed"] == 10
        assert float(entry["support_3_rate"]) == child["result"]["support_3_rate"]
    parent = read_meta(tmp_path, 1)
    assert parent["result"] == {"children": 4, "succeeded": 4, "reused": 0}
    configs = sorted((tmp_path / "result" / "1" / "output" / "children").iterdir())
    assert [path.name for path in configs] == [
        "001-six-seed1.toml",
        "002-six-seed2.toml",
        "003-eight-seed1.toml",
        "004-eight-seed2.toml",
    ]

    alone = tmp_path / "alone"
    config = write_config(alone, {**base, "seed": 2, "character_count": 8})
    assert run_main_job(alone, str(config)).returncode == 0
    assert trials_csv(alone, 1) == trials_csv(tmp_path, 5)


def test_sweep_killed_mid_child_then_resumed(tmp_path: Path) -> None:
    """SIGTERM to the parent while its third child runs: parent and that child killed,
    no process left, sweep.csv lists what finished; --resume 1 reuses the two successes,
    resumes the killed child from its trials and runs the last afresh: all succeed."""
    base = {"kind": "team_spectrum", "trials": TRIALS, "workers": 2}
    conditions = [
        {"name": "six", "character_count": 6},
        # About 0.1 s a trial: the signal finds this child with trials still to run.
        {"name": "sixteen", "character_count": 16},
    ]
    process = start_main_job(tmp_path, str(write_sweep(tmp_path, base, [1, 2], conditions)))
    try:
        wait_for_lines(process, tmp_path / "result" / "4" / "output" / "trials.csv", 2)
        tree = descendants(process.pid)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 143, stderr
    assert stderr == "monocycle-nash: terminated; run 1 recorded as killed\n"
    assert statuses(tmp_path) == {
        1: ("killed", None),
        2: ("success", 1),
        3: ("success", 1),
        4: ("killed", 1),
    }
    child_pid = read_meta(tmp_path, 4)["process"]["pid"]
    assert child_pid in {entry.pid for entry in tree}
    assert survivors(tree, within=30) == []
    assert children_table(tmp_path, 1) == [
        ("six", "1", "2", "success", "false"),
        ("six", "2", "3", "success", "false"),
        ("sixteen", "1", "4", "killed", "false"),
        ("sixteen", "2", "", "not run", "false"),
    ]
    killed = read_meta(tmp_path, 4)["experiment"]
    assert 1 <= killed["completed"] < TRIALS

    resumed = run_main_job(tmp_path, "--resume", "1")
    assert resumed.returncode == 0, resumed.stderr
    assert children_table(tmp_path, 5) == [
        ("six", "1", "2", "success", "true"),
        ("six", "2", "3", "success", "true"),
        ("sixteen", "1", "6", "success", "false"),
        ("sixteen", "2", "7", "success", "false"),
    ]
    assert statuses(tmp_path) == {
        1: ("killed", None),
        2: ("success", 1),
        3: ("success", 1),
        4: ("killed", 1),
        5: ("success", None),
        6: ("success", 5),
        7: ("success", 5),
    }
    assert read_meta(tmp_path, 5)["sweep"]["resumed_from"] == 1
    again = read_meta(tmp_path, 6)["experiment"]
    assert (again["resumed_from"], again["reused_trials"]) == (4, killed["completed"])
    assert again["completed"] == TRIALS
    fresh = read_meta(tmp_path, 7)["experiment"]
    assert (fresh["resumed_from"], fresh["reused_trials"], fresh["completed"]) == (None, 0, TRIALS)
    finished = trials_csv(tmp_path, 6).decode("utf-8").splitlines()
    assert set(trials_csv(tmp_path, 4).decode("utf-8").splitlines()) <= set(finished)
    assert len(finished) == 1 + TRIALS


def test_resume_of_a_resumed_sweep_reuses_every_success(tmp_path: Path) -> None:
    """Run 1's children are reused by run 4 (--resume 1); --resume 4 reuses them too
    instead of running them again."""
    base = {"kind": "team_spectrum", "trials": 3, "workers": 1}
    config = write_sweep(tmp_path, base, [1, 2], [{"name": "six"}])
    assert run_main_job(tmp_path, str(config)).returncode == 0
    first = run_main_job(tmp_path, "--resume", "1")
    assert first.returncode == 0, first.stderr
    assert [entry[4] for entry in children_table(tmp_path, 4)] == ["true", "true"]
    second = run_main_job(tmp_path, "--resume", "4")
    assert second.returncode == 0, second.stderr
    assert children_table(tmp_path, 5) == [
        ("six", "1", "2", "success", "true"),
        ("six", "2", "3", "success", "true"),
    ]
    assert sorted(statuses(tmp_path)) == [1, 2, 3, 4, 5]


def test_failed_child_fails_the_parent_at_the_end(tmp_path: Path) -> None:
    """A child whose trial fails (teams of 5 from a roster of 4) does not stop the sweep;
    the parent fails at the end with one line naming it."""
    (tmp_path / "roster.toml").write_text(RPSD_ROSTER, encoding="utf-8")
    base = {"kind": "team_spectrum", "trials": 1, "workers": 1}
    conditions: list[dict[str, object]] = [
        {"name": "fives", "team_size": 5},
        {"name": "pairs", "team_size": 2},
    ]
    config = write_sweep(tmp_path, base, [1], conditions, game="roster.toml")
    result = run_main_job(tmp_path, str(config))
    assert_one_line_error(result)
    assert "1 child run of the sweep did not succeed" in result.stderr
    assert "condition 'fives', seed 1 (run 2) ended fail" in result.stderr
    assert statuses(tmp_path) == {1: ("fail", None), 2: ("fail", 1), 3: ("success", 1)}
    assert children_table(tmp_path, 1) == [
        ("fives", "1", "2", "fail", "false"),
        ("pairs", "1", "3", "success", "false"),
    ]


def test_sweep_with_an_invalid_condition_runs_no_child(tmp_path: Path) -> None:
    """A condition with character_count = 1: one line naming it, exit 1, no child run."""
    base = {"kind": "team_spectrum", "trials": 2, "workers": 1}
    conditions: list[dict[str, object]] = [{"name": "six"}, {"name": "one", "character_count": 1}]
    result = run_main_job(tmp_path, str(write_sweep(tmp_path, base, [1], conditions)))
    assert_one_line_error(result)
    assert "[sweep] conditions[1]: [experiment] character_count must be" in result.stderr
    assert statuses(tmp_path) == {1: ("fail", None)}
    assert not (tmp_path / "result" / "1" / "output" / "children").exists()


def test_child_killed_with_sigkill_does_not_hang_the_sweep(tmp_path: Path) -> None:
    """The out-of-memory killer takes a child main job: the parent goes on and fails at
    the end instead of waiting forever."""
    base = {"kind": "team_spectrum", "trials": TRIALS, "workers": 2}
    conditions: list[dict[str, object]] = [
        {"name": "six"},
        {"name": "sixteen", "character_count": 16},
    ]
    process = start_main_job(tmp_path, str(write_sweep(tmp_path, base, [1], conditions)))
    tree: list[Process] = []
    try:
        wait_for_lines(process, tmp_path / "result" / "3" / "output" / "trials.csv", 2)
        tree = descendants(process.pid)
        os.kill(read_meta(tmp_path, 3)["process"]["pid"], signal.SIGKILL)
        _, stderr = process.communicate(timeout=3)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        for orphan in survivors(tree, within=0):
            os.kill(orphan.pid, signal.SIGKILL)
    assert process.returncode == 1, stderr
    [_, child] = sweep_rows(tmp_path, 1)
    assert child["status"] != "success"
    assert json.loads((tmp_path / "result" / "1" / "meta.json").read_text())["status"] == "fail"
