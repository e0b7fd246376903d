"""``runmeta rerun ID``: the main job again on a run's frozen input, through real processes.

Every test runs the real main job (``src/main.py``) and the real ``runmeta`` command as
processes in a fresh project root, as a user would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta.service import RunSessionService
from tests.app.main_process import run_main_job

pytestmark = pytest.mark.slow

TEAMS = """\
characters = [
  { label = "R", p = 0.0, v = [1.0, 0.0] },
  { label = "P", p = 0.0, v = [-1.0, -1.0] },
  { label = "S", p = 0.0, v = [0.0, 1.0] },
  { label = "D", p = -0.5, v = [1.0, 1.0] },
]

[teams]
size = 2
"""


def runmeta(cwd: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m monocycle_nash.runmeta ARGS`` in ``cwd``, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "monocycle_nash.runmeta", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def meta(root: Path, run_id: int) -> dict[str, Any]:
    """Run ``run_id``'s meta.json below ``root``."""
    data = json.loads((root / "result" / str(run_id) / "meta.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one ``runmeta: error:`` line ``result`` printed on stderr (no traceback)."""
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in lines if line.startswith("runmeta: error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture
def default_run(tmp_path: Path) -> Path:
    """A project root holding run 1, the built-in example (a run config)."""
    assert run_main_job(tmp_path, "--note", "first look").returncode == 0
    return tmp_path


@pytest.fixture
def team_run(tmp_path: Path) -> Path:
    """A project root holding run 1, a team game given as a plain game file."""
    (tmp_path / "teams.toml").write_text(TEAMS, encoding="utf-8")
    assert run_main_job(tmp_path, str(tmp_path / "teams.toml")).returncode == 0
    return tmp_path


def test_rerun_of_the_default_run_is_identical(default_run: Path) -> None:
    """The built-in example reruns from its merged input; every output is byte-identical."""
    result = runmeta(default_run, "rerun", "1")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0] == "Run 2: solving rock_paper_scissors.toml"  # the main job's own output
    assert lines[-2:] == [
        "Rerun of run 1: run 2 (success).",
        "Outputs: identical (7 output files, byte for byte).",
    ]
    recorded = meta(default_run, 2)
    assert recorded["rerun_of"] == 1
    assert recorded["note"] == "rerun of run 1"
    assert recorded["status"] == "success"
    assert recorded["input"]["files"][0]["source"] == str(
        default_run / "result" / "1" / "input" / "merged_input.toml"
    )


def test_rerun_of_a_team_game_is_identical(team_run: Path) -> None:
    """A plain game file (a team game) reruns from its stored copy with --root: identical."""
    result = runmeta(team_run, "rerun", "1", "--note", "same teams?")
    assert (result.returncode, result.stderr) == (0, "")
    assert "Played as its team game: 6 teams." in result.stdout
    assert result.stdout.endswith(
        "Rerun of run 1: run 2 (success).\nOutputs: identical (8 output files, byte for byte).\n"
    )
    recorded = meta(team_run, 2)
    assert (recorded["rerun_of"], recorded["note"]) == (1, "same teams?")
    assert recorded["input"]["checksum_sha256"] == meta(team_run, 1)["input"]["checksum_sha256"]
    assert recorded["command"].endswith(f"--root {team_run}")


def test_rerun_reports_each_output_that_differs(team_run: Path) -> None:
    """An output of the original changed after it ended: the report names every file and,
    for JSON, each number with both values and the difference; exit 1."""
    output = team_run / "result" / "1" / "output"
    equilibrium = json.loads((output / "equilibrium.json").read_text(encoding="utf-8"))
    equilibrium["value"] = 0.125
    (output / "equilibrium.json").write_text(json.dumps(equilibrium, indent=2), encoding="utf-8")
    (output / "notes.txt").write_text("mine\n", encoding="utf-8")
    with (output / "equilibrium.svg").open("a", encoding="utf-8") as svg:
        svg.write("<!-- edited -->\n")

    result = runmeta(team_run, "rerun", "1")

    assert (result.returncode, result.stderr) == (1, "")
    report = result.stdout[result.stdout.index("Rerun of run 1") :].splitlines()
    assert report[:3] == [
        "Rerun of run 1: run 2 (success).",
        "Outputs: different (3 of 9 output files).",
        report[2],
    ]
    assert report[2].startswith("  equilibrium.json: different (run 1 sha256 ")
    assert report[3] == "    1 value differs:"
    assert report[4].split() == ["VALUE", "RUN", "1", "RUN", "2", "ABS", "DIFF", "REL", "DIFF"]
    assert report[5].split()[:2] == ["value", "0.125"]
    assert report[5].split()[3:] == ["0.125", "1"]
    assert report[6].startswith("  equilibrium.svg: different (run 1 sha256 ")
    assert report[7].startswith("  notes.txt: only in run 1 (sha256 ")
    assert meta(team_run, 2)["rerun_of"] == 1


def test_rerun_from_another_folder_with_a_root_layout(team_run: Path) -> None:
    """--db-path ROOT/.runmeta/run_history.db --result-root ROOT/result from elsewhere:
    the game file's rerun goes to ROOT and is found there."""
    elsewhere = team_run / "elsewhere"
    elsewhere.mkdir()
    result = runmeta(
        elsewhere,
        "rerun",
        "1",
        "--db-path",
        "../.runmeta/run_history.db",
        "--result-root",
        "../result",
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert "Outputs: identical" in result.stdout
    assert not (elsewhere / ".runmeta").exists()
    assert not (elsewhere / "result").exists()


def test_a_game_file_run_is_not_rerun_into_another_layout(team_run: Path) -> None:
    """A database not at ROOT/.runmeta/run_history.db: the main job would record a game
    file's rerun elsewhere, so nothing runs; one line, exit 2."""
    moved = team_run / "history.db"
    (team_run / ".runmeta" / "run_history.db").rename(moved)
    result = runmeta(team_run, "rerun", "1", "--db-path", "history.db")
    assert (result.returncode, result.stdout) == (2, "")
    line = one_error_line(result)
    assert line.startswith("runmeta: error: run 1 ran a game file, which the main job records in")
    assert not (team_run / "result" / "2").exists()
    assert not (team_run / ".runmeta" / "run_history.db").exists()


def test_a_merged_input_naming_another_database_is_not_rerun(default_run: Path) -> None:
    """A run config's merged input names its database: given another one, nothing runs."""
    copy = default_run / "copy"
    (copy / ".runmeta").mkdir(parents=True)
    shutil.copy(default_run / ".runmeta" / "run_history.db", copy / ".runmeta")
    shutil.copytree(default_run / "result", copy / "result")
    result = runmeta(copy, "rerun", "1")
    assert (result.returncode, result.stdout) == (2, "")
    line = one_error_line(result)
    assert line.startswith(
        f"runmeta: error: run 1's merged input records its runs in"
        f" {default_run / '.runmeta' / 'run_history.db'}"
    )
    assert "--db-path" in line
    assert not (default_run / "result" / "2").exists()
    assert not (copy / "result" / "2").exists()


def test_a_failing_rerun_says_so_in_one_line(tmp_path: Path) -> None:
    """A run that failed (bad input) fails again: the main job's line, then runmeta's, exit 1."""
    (tmp_path / "broken.toml").write_text("x = \n", encoding="utf-8")
    assert run_main_job(tmp_path, str(tmp_path / "broken.toml")).returncode == 1
    result = runmeta(tmp_path, "rerun", "1")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines()[0].startswith("monocycle-nash: error: ")
    assert one_error_line(result) == (
        "runmeta: error: the rerun of run 1 failed: run 2 ended fail (the main job exited 1),"
        " as run 1 had; its outputs were not compared"
    )
    assert meta(tmp_path, 2)["rerun_of"] == 1


def test_rerun_takes_the_note_from_a_file(team_run: Path) -> None:
    """--note-file PATH (or - for stdin) gives the new run's note, as the main job reads it."""
    (team_run / "note.txt").write_text("checked after the upgrade\n", encoding="utf-8")
    assert runmeta(team_run, "rerun", "1", "--note-file", "note.txt").returncode == 0
    assert meta(team_run, 2)["note"] == "checked after the upgrade"
    assert runmeta(team_run, "rerun", "1", "--note-file", "-", stdin="from stdin\n").returncode == 0
    assert meta(team_run, 3)["note"] == "from stdin"
    missing = runmeta(team_run, "rerun", "1", "--note-file", "nope.txt")
    assert missing.returncode == 2
    assert one_error_line(missing) == "runmeta: error: --note-file nope.txt: no such file"


def test_the_new_run_joins_the_original_project(team_run: Path) -> None:
    """The rerun is attached to the project run ID is in now."""
    analysis = team_run / "analysis"
    analysis.mkdir()
    added = runmeta(team_run, "add-project", "--project-id", "p", "--project-path", "analysis")
    assert added.returncode == 0
    assert runmeta(team_run, "update-run", "--run-id", "1", "--project-id", "p").returncode == 0
    assert runmeta(team_run, "rerun", "1").returncode == 0
    assert meta(team_run, 2)["project_id"] == "p"


def _remove_folder(root: Path) -> None:
    shutil.rmtree(root / "result" / "1")


def _break_meta(root: Path) -> None:
    (root / "result" / "1" / "meta.json").write_text("{", encoding="utf-8")


def _change_input(root: Path) -> None:
    with (root / "result" / "1" / "input" / "teams.toml").open("a", encoding="utf-8") as game:
        game.write("# edited\n")


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        pytest.param(None, "runmeta: error: run 7 not found", id="unknown-run"),
        pytest.param(
            _remove_folder,
            "runmeta: error: run folder result/1 does not exist",
            id="no-folder",
        ),
        pytest.param(
            _break_meta,
            "runmeta: error: result/1/meta.json is unreadable: not valid JSON",
            id="unreadable-meta",
        ),
        pytest.param(
            _change_input,
            "runmeta: error: run 1's stored input result/1/input/teams.toml has changed since"
            " the run stored it",
            id="input-changed",
        ),
    ],
)
def test_refusals_are_one_line_exit_2_and_run_nothing(
    team_run: Path, damage: Any, expected: str
) -> None:
    """Unknown runs, runs without folder or readable meta.json, changed inputs: one line."""
    if damage is not None:
        damage(team_run)
    result = runmeta(team_run, "rerun", "7" if damage is None else "1")
    assert (result.returncode, result.stdout) == (2, "")
    assert one_error_line(result).startswith(expected)
    assert not (team_run / "result" / "2").exists()


def test_a_running_run_is_not_rerun(tmp_path: Path) -> None:
    """A run still running has no final outputs to compare with: refused."""
    with RunSessionService.open(tmp_path) as service:
        service.start("python job.py")
    result = runmeta(tmp_path, "rerun", "1")
    assert (result.returncode, result.stdout) == (2, "")
    assert one_error_line(result).startswith("runmeta: error: run 1 is still running;")


def test_no_database_is_one_line(tmp_path: Path) -> None:
    """Without a database nothing is created and nothing runs."""
    result = runmeta(tmp_path, "rerun", "1")
    assert (result.returncode, result.stdout) == (2, "")
    assert one_error_line(result).startswith("runmeta: error: no run database at")
    assert list(tmp_path.iterdir()) == []


def test_a_game_file_changed_since_a_run_config_run_is_not_rerun(tmp_path: Path) -> None:
    """The merged input names the game file by path and digest: once that file changed,
    the main job would refuse it, so nothing runs; the line names the run's copy."""
    (tmp_path / "teams.toml").write_text(TEAMS, encoding="utf-8")
    (tmp_path / "run.toml").write_text('game = "teams.toml"\n', encoding="utf-8")
    assert run_main_job(tmp_path, str(tmp_path / "run.toml")).returncode == 0
    assert runmeta(tmp_path, "rerun", "1").returncode == 0  # unchanged: identical
    with (tmp_path / "teams.toml").open("a", encoding="utf-8") as game:
        game.write("# edited\n")
    result = runmeta(tmp_path, "rerun", "1")
    assert (result.returncode, result.stdout) == (2, "")
    line = one_error_line(result)
    assert line.startswith(
        f"runmeta: error: the game file {tmp_path / 'teams.toml'} that run 1's merged input"
        " names has changed since the run (sha256 "
    )
    assert line.endswith("; run 1's copy of it is result/1/input/teams.toml; nothing was run")
    assert not (tmp_path / "result" / "3").exists()


@pytest.mark.skipif(not hasattr(Path, "symlink_to"), reason="no symbolic links")
def test_a_result_folder_that_is_a_link_is_still_root_result(team_run: Path) -> None:
    """ROOT/result as a link to another disk is still ROOT/result for a game file's rerun."""
    disk = team_run / "disk"
    disk.mkdir()
    (team_run / "result").rename(disk / "result")
    (team_run / "result").symlink_to(disk / "result")
    result = runmeta(team_run, "rerun", "1")
    assert (result.returncode, result.stderr) == (0, "")
    assert (disk / "result" / "2" / "meta.json").is_file()


def test_a_note_that_looks_like_an_option_is_a_note(team_run: Path) -> None:
    """--note=-5% reaches the main job as the note, not as an option."""
    assert runmeta(team_run, "rerun", "1", "--note=-5% tolerance").returncode == 0
    assert meta(team_run, 2)["note"] == "-5% tolerance"
