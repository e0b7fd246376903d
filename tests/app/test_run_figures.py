"""The main job's headline figures are the run's metrics: in meta.json and in the
database, queryable with ``runmeta list-runs --where``; and its ``--note-file``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.main_process import run_main_job
from tests.app.test_experiment_runs import RPSD_ROSTER, write_config
from tests.reliability.helpers import read_meta, runmeta_json

pytestmark = pytest.mark.slow


def _listed(capsys: pytest.CaptureFixture[str], root: Path, where: str) -> list[int]:
    runs = runmeta_json(capsys, root, "list-runs", "--where", where, "--json")
    return [run["run_id"] for run in runs]


def test_a_solve_stores_its_figures_and_list_runs_finds_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default run: value, exploitability, support size, solver, and the spectrum's
    figures, in meta.json and the database alike."""
    assert run_main_job(tmp_path).returncode == 0
    metrics = read_meta(tmp_path, 1)["metrics"]
    assert metrics["support_size"] == 3
    assert metrics["value"] == 0.0
    assert metrics["solver"] == "monocycle-exact"
    assert metrics["rank"] == 2
    assert metrics["sigma_1"] == pytest.approx(3**0.5)
    assert _listed(capsys, tmp_path, "support_size=3") == [1]
    assert _listed(capsys, tmp_path, "support_size>3") == []
    assert _listed(capsys, tmp_path, "solver~exact") == [1]


def test_team_and_experiment_runs_store_their_own_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A team game adds its team count and spectrum; an experiment its headline."""
    roster = tmp_path / "teams.toml"
    roster.write_text(RPSD_ROSTER + "\n[teams]\nsize = 2\n", encoding="utf-8")
    assert run_main_job(tmp_path, str(roster)).returncode == 0
    experiment = {"kind": "team_spectrum", "trials": 20, "seed": 1, "workers": 1}
    config = write_config(tmp_path / "exp", experiment)
    assert run_main_job(tmp_path, str(config)).returncode == 0
    team = read_meta(tmp_path, 1)["metrics"]
    assert team["team_count"] == 6
    assert team["support_size"] == 3
    assert team["ratio2_to_1"] == pytest.approx(0.8208680909879961 / 1.9809853516888472)
    figures = read_meta(tmp_path, 2)["metrics"]
    assert figures["completed"] == 20
    assert 0.0 <= figures["support_3_rate"] <= 1.0
    assert _listed(capsys, tmp_path, "team_count=6") == [1]
    assert _listed(capsys, tmp_path, "completed=20") == [2]


def test_note_file_gives_the_run_its_note(tmp_path: Path) -> None:
    """``--note-file PATH``: the file's text, without its final newline."""
    note = tmp_path / "note.txt"
    note.write_text("baseline for the\nsecond study\n", encoding="utf-8")
    done = run_main_job(tmp_path, "--note-file", str(note))
    assert done.returncode == 0, done.stderr
    assert read_meta(tmp_path, 1)["note"] == "baseline for the\nsecond study"
    missing = run_main_job(tmp_path, "--note-file", str(tmp_path / "absent.txt"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines()[-1].startswith("monocycle-nash: error: --note-file")
