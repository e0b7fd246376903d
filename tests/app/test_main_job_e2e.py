"""End-to-end tests of the main job: real processes, real database, real run folders."""

from __future__ import annotations

import hashlib
import json
import random
import shlex
import signal
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.app.db_rows import DEFAULT_DB, rows

REPO = Path(__file__).resolve().parents[2]
MAIN = REPO / "src" / "main.py"
TIMEOUT = 120
RPS = 'labels = ["R", "P", "S"]\nmatrix = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]\n'
ROSTER = """\
characters = [
  { label = "A", p = 0.0, v = [2.0, 0.0] },
  { label = "B", p = 0.0, v = [-1.0, 1.7] },
  { label = "C", p = 0.0, v = [-1.0, -1.7] },
  { label = "Weak", p = -5.0, v = [0.1, 0.1] },
]
"""
RUN_COLUMNS = (
    "run_id",
    "created_at",
    "started_at",
    "ended_at",
    "status",
    "command",
    "git_commit",
    "note",
    "project_id",
)


def run_main(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python src/main.py ARGS`` in ``cwd`` and capture its output."""
    return subprocess.run(
        [sys.executable, str(MAIN), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def assert_meta_matches_row(run_dir: Path, row: dict[str, Any]) -> dict[str, Any]:
    """meta.json holds the same values as the database row; return it."""
    meta: dict[str, Any] = read_json(run_dir / "meta.json")
    for column in RUN_COLUMNS:
        assert meta[column] == row[column], column
    return meta


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> None:
    """A user-facing failure: exit 1, one stderr line, no traceback on the console."""
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("monocycle-nash: error: ")


def test_default_example_runs_and_records_run_1(tmp_path: Path) -> None:
    """With no INPUT the built-in rock-paper-scissors runs as run 1 and succeeds."""
    result = run_main(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Run 1: solving rock_paper_scissors.toml" in result.stdout
    assert "runmeta show-run --run-id 1" in result.stdout

    [row] = rows(tmp_path / ".runmeta" / "run_history.db")
    assert row["run_id"] == 1
    assert row["status"] == "success"
    assert row["command"] == shlex.join([Path(sys.executable).name, str(MAIN)])
    run_dir = tmp_path / "result" / "1"
    meta = assert_meta_matches_row(run_dir, row)
    assert meta["input"]["split_config_applied"] is True

    merged = tomllib.loads((run_dir / "input" / "merged_input.toml").read_text("utf-8"))
    game_copy = run_dir / "input" / "rock_paper_scissors.toml"
    assert Path(merged["game"]).name == "rock_paper_scissors.toml"
    assert merged["game_sha256"] == hashlib.sha256(game_copy.read_bytes()).hexdigest()
    assert merged["solver"] == {"exact": True}
    for name in ("default_run.toml", "settings.toml", "rock_paper_scissors.toml"):
        assert (run_dir / "input" / name).is_file(), name

    equilibrium = read_json(run_dir / "output" / "equilibrium.json")
    assert equilibrium["labels"] == ["Rock", "Paper", "Scissors"]
    assert equilibrium["row_strategy"] == pytest.approx([1 / 3] * 3, abs=1e-12)
    assert equilibrium["column_strategy"] == pytest.approx([1 / 3] * 3, abs=1e-12)
    assert equilibrium["value"] == pytest.approx(0.0, abs=1e-12)
    assert equilibrium["support"] == ["Rock", "Paper", "Scissors"]
    pure = read_json(run_dir / "output" / "pure_strategy.json")
    assert [entry["payoff"] for entry in pure["strategies"]] == pytest.approx([0.0] * 3)
    divergence = read_json(run_dir / "output" / "divergence.json")
    assert [entry["divergence"] for entry in divergence["strategies"]] == pytest.approx([0] * 3)
    for picture in ("equilibrium.svg", "characters.svg", "payoff_graph.svg"):
        assert (run_dir / "output" / picture).read_text("utf-8").startswith("<")
    assert (run_dir / "logs" / "stdout.log").read_text("utf-8") == result.stdout


def test_second_run_gets_the_next_id(tmp_path: Path) -> None:
    """Runs in the same root are numbered 1, 2, ... with separate folders."""
    assert run_main(tmp_path, "--note", "first").returncode == 0
    second = run_main(tmp_path, "--note", "second")
    assert second.returncode == 0, second.stderr
    recorded = rows(tmp_path / ".runmeta" / "run_history.db")
    assert [(row["run_id"], row["note"]) for row in recorded] == [(1, "first"), (2, "second")]
    assert "Run 2: solving" in second.stdout
    assert (tmp_path / "result" / "2" / "output" / "equilibrium.json").is_file()


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs the code in a git checkout")
def test_git_commit_is_the_code_checkout_s_even_with_root_outside_it(tmp_path: Path) -> None:
    """With --root outside any repository, the run records the commit of the code run."""
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    result = run_main(tmp_path, "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    [row] = rows(tmp_path / ".runmeta" / "run_history.db")
    assert row["git_commit"] == head


def test_roster_game_file(tmp_path: Path) -> None:
    """A roster game file is solved by the monocycle solver and drawn with characters.svg."""
    game = tmp_path / "roster.toml"
    game.write_text(ROSTER, encoding="utf-8")
    root = tmp_path / "root"
    result = run_main(tmp_path, str(game), "--root", str(root), "--note", "roster")
    assert result.returncode == 0, result.stderr
    [row] = rows(root / ".runmeta" / "run_history.db")
    assert row["status"] == "success"
    run_dir = root / "result" / "1"
    meta = assert_meta_matches_row(run_dir, row)
    assert meta["input"]["split_config_applied"] is False
    assert (run_dir / "input" / "roster.toml").read_text("utf-8") == ROSTER
    assert not (run_dir / "input" / "merged_input.toml").exists()
    equilibrium = read_json(run_dir / "output" / "equilibrium.json")
    assert sorted(equilibrium["support"]) == ["A", "B", "C"]
    assert equilibrium["row_strategy"][3] == 0
    for picture in ("equilibrium.svg", "characters.svg", "payoff_graph.svg"):
        assert (run_dir / "output" / picture).is_file(), picture


def test_run_config_with_project_links_the_run(tmp_path: Path) -> None:
    """A settings project with a path is registered and gets a reference to the run."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (tmp_path / "analysis").mkdir()
    (inputs / "game.toml").write_text(RPS, encoding="utf-8")
    (inputs / "settings.toml").write_text(
        '[runmeta]\ndb_path = "db/runs.db"\nresult_root = "runs"\n'
        '[analysis_project]\nproject_id = "study"\nproject_path = "analysis"\n',
        encoding="utf-8",
    )
    (inputs / "run.toml").write_text(
        'game = "game.toml"\nsettings = "settings.toml"\n', encoding="utf-8"
    )
    result = run_main(tmp_path, "inputs/run.toml")
    assert result.returncode == 0, result.stderr
    [row] = rows(tmp_path / "db" / "runs.db")
    assert (row["status"], row["project_id"]) == ("success", "study")
    run_dir = tmp_path / "runs" / "1"
    meta = assert_meta_matches_row(run_dir, row)
    assert meta["project_path"] == str(tmp_path / "analysis")
    (refs,) = (tmp_path / "analysis" / "experiment_refs").iterdir()  # the folder of this root
    assert refs.name.startswith(f"{tmp_path.name}-runs-")
    link, text = refs / "1", refs / "1.txt"
    assert (link.is_symlink() and link.resolve() == run_dir.resolve()) or (
        str(run_dir.resolve()) in text.read_text("utf-8")
    )
    for name in ("run.toml", "game.toml", "settings.toml", "merged_input.toml"):
        assert (run_dir / "input" / name).is_file(), name
    merged = tomllib.loads((run_dir / "input" / "merged_input.toml").read_text("utf-8"))
    assert merged["analysis_project"]["project_id"] == "study"
    assert merged["runmeta"]["result_root"] == str(tmp_path / "runs")

    again = run_main(tmp_path, "inputs/run.toml", "--note", "again")
    assert again.returncode == 0, again.stderr
    assert [row["project_id"] for row in rows(tmp_path / "db" / "runs.db")] == ["study"] * 2


BAD_INPUTS = [
    pytest.param({}, "missing.toml", "no such file", id="missing-file"),
    pytest.param({"bad.toml": "matrix = [[0,"}, "bad.toml", "invalid TOML", id="invalid-toml"),
    pytest.param(
        {"bad.toml": "matrix = [[0.0, 1.0], [1.0]]"}, "bad.toml", "bad.toml", id="ragged-matrix"
    ),
    pytest.param(
        {"bad.toml": 'labels = ["a"]\nmatrix = [[0.0, 1.0], [-1.0, 0.0]]'},
        "bad.toml",
        "bad.toml",
        id="label-count",
    ),
    pytest.param(
        {"bad.toml": 'characters = [{ label = "A", p = 0.0, v = [1.0] }]'},
        "bad.toml",
        "bad.toml",
        id="vector-length",
    ),
    pytest.param(
        {"bad.toml": 'characters = [{ label = "A", p = 0.0, v = [1e200, 0.0] }]'},
        "bad.toml",
        "characters[0].v[0] is too large",
        id="overflowing-vector",
    ),
    pytest.param({"bad.toml": "x = 1"}, "bad.toml", "neither a game file", id="not-a-game"),
    pytest.param(
        {"run.toml": 'game = "g.toml"\n[solver]\nexact = "yes"', "g.toml": RPS},
        "run.toml",
        "exact must be true or false",
        id="bad-setting",
    ),
    pytest.param(
        {"run.toml": 'game = "nowhere.toml"'}, "run.toml", "nowhere.toml", id="missing-game"
    ),
    pytest.param(
        {"run.toml": 'game = "g.toml"\n[analysis_project]\nproject_id = "ghost"', "g.toml": RPS},
        "run.toml",
        "project 'ghost' is not registered",
        id="unknown-project",
    ),
]


@pytest.mark.parametrize(("files", "argument", "fragment"), BAD_INPUTS)
def test_bad_input_is_recorded_as_fail(
    tmp_path: Path, files: dict[str, str], argument: str, fragment: str
) -> None:
    """Bad input: a 'fail' run with the message, one stderr line, exit 1, no traceback."""
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = run_main(tmp_path, argument)
    assert_one_line_error(result)
    assert fragment in result.stderr
    # A game file is read inside the run, after the line naming it; nothing more.
    assert result.stdout in ("", f"Run 1: solving {argument}\n")
    [row] = rows(tmp_path / ".runmeta" / "run_history.db")
    assert row["status"] == "fail"
    assert row["project_id"] is None
    run_dir = tmp_path / "result" / "1"
    meta = assert_meta_matches_row(run_dir, row)
    message = result.stderr.strip().removeprefix("monocycle-nash: error: ")
    assert message in json.dumps(meta, ensure_ascii=False)
    assert message in (run_dir / "logs" / "stderr.log").read_text("utf-8")
    if argument in files:
        assert (run_dir / "input" / argument).read_text("utf-8") == files[argument]


@pytest.mark.parametrize(
    "make_db",
    [
        pytest.param(lambda path: path.mkdir(parents=True), id="db-is-a-folder"),
        pytest.param(
            lambda path: (path.parent.mkdir(parents=True), path.write_text("not sqlite" * 20)),
            id="db-not-sqlite",
        ),
    ],
)
def test_unusable_database_writes_nothing(tmp_path: Path, make_db: Any) -> None:
    """An unusable database: one line, exit 1, no result folder created."""
    db_path = tmp_path / ".runmeta" / "run_history.db"
    make_db(db_path)
    before = db_path.read_bytes() if db_path.is_file() else None
    result = run_main(tmp_path)
    assert_one_line_error(result)
    assert not (tmp_path / "result").exists()
    assert (db_path.read_bytes() if db_path.is_file() else None) == before


@pytest.mark.parametrize(
    "result_root",
    [pytest.param("result", id="result-is-a-file"), pytest.param("result/deeper", id="parent")],
)
def test_unusable_result_folder_writes_nothing(tmp_path: Path, result_root: str) -> None:
    """A result folder that cannot be made: one line, exit 1, no database written."""
    (tmp_path / "result").write_text("in the way", encoding="utf-8")
    (tmp_path / "run.toml").write_text(
        f'game = "g.toml"\n[runmeta]\nresult_root = "{result_root}"\n', encoding="utf-8"
    )
    (tmp_path / "g.toml").write_text(RPS, encoding="utf-8")
    result = run_main(tmp_path, "run.toml")
    assert_one_line_error(result)
    assert "cannot use result folder" in result.stderr
    assert not (tmp_path / ".runmeta").exists()


def _write_large_matrix(path: Path, size: int) -> None:
    rng = random.Random(7)
    matrix = [[rng.uniform(-1.0, 1.0) for _ in range(size)] for _ in range(size)]
    body = ",\n".join("[" + ", ".join(repr(x) for x in row) + "]" for row in matrix)
    path.write_text(f"matrix = [\n{body}\n]\n", encoding="utf-8")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("signum", "exit_code", "word"),
    [
        pytest.param(signal.SIGTERM, 143, "terminated", id="sigterm"),
        pytest.param(signal.SIGINT, 130, "interrupted", id="sigint"),
    ],
)
def test_signal_during_a_long_solve_is_recorded_as_killed(
    tmp_path: Path, signum: int, exit_code: int, word: str
) -> None:
    """SIGTERM / SIGINT during a solve end the run as 'killed' with exit 143 / 130."""
    game = tmp_path / "large.toml"
    _write_large_matrix(game, 400)
    process = subprocess.Popen(
        [sys.executable, str(MAIN), str(game)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell may start background jobs with SIGINT ignored; Ctrl-C is the point here.
        preexec_fn=_default_sigint,  # noqa: PLW1509 - only restores a signal disposition
    )
    try:
        assert process.stdout is not None
        # The first line is printed (flushed) once the run started, the second just
        # before solving.
        header = process.stdout.readline()
        assert header == "Run 1: solving large.toml\n", header
        assert process.stdout.readline() == "Game: 400 strategies, payoff matrix\n"
        [row] = rows(tmp_path / ".runmeta" / "run_history.db")
        assert row["status"] == "running"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == exit_code, stderr
    assert "Traceback" not in stderr
    assert f"monocycle-nash: {word}; run 1 recorded as killed" in stderr
    assert "Solved" not in stdout
    [row] = rows(tmp_path / ".runmeta" / "run_history.db")
    assert row["status"] == "killed"
    assert_meta_matches_row(tmp_path / "result" / "1", row)


def _write_large_roster(path: Path, size: int) -> None:
    """A CSV roster of ``size`` characters (about a second to parse at 4 * 10^5)."""
    lines = (
        f"c{index},{index % 7 - 3}.5,0.{index % 89}25,-1.{index % 97}5\n" for index in range(size)
    )
    path.write_text("label,p,x,y\n" + "".join(lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("signum", "exit_code", "word"),
    [
        pytest.param(signal.SIGTERM, 143, "terminated", id="sigterm"),
        pytest.param(signal.SIGINT, 130, "interrupted", id="sigint"),
    ],
)
def test_signal_while_a_large_roster_is_parsed_is_recorded_as_killed(
    tmp_path: Path, signum: int, exit_code: int, word: str
) -> None:
    """The run starts before the parse: a signal during it ends the run as 'killed'."""
    game = tmp_path / "big.csv"
    _write_large_roster(game, 400_000)
    process = subprocess.Popen(
        [sys.executable, str(MAIN), str(game)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_sigint,  # noqa: PLW1509 - only restores a signal disposition
    )
    try:
        assert process.stdout is not None
        # Printed (flushed) once the run has started, before the roster is read.
        assert process.stdout.readline() == "Run 1: solving big.csv\n"
        [row] = rows(tmp_path / ".runmeta" / "run_history.db")
        assert row["status"] == "running"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == exit_code, stderr
    assert stderr == f"monocycle-nash: {word}; run 1 recorded as killed\n"
    assert stdout == ""  # the line saying the game was read never came
    [row] = rows(tmp_path / ".runmeta" / "run_history.db")
    assert row["status"] == "killed"
    meta = assert_meta_matches_row(tmp_path / "result" / "1", row)
    assert "game" not in meta
    assert (tmp_path / "result" / "1" / "input" / "big.csv").read_bytes() == game.read_bytes()


def test_closed_stdout_pipe_does_not_fail_the_run(tmp_path: Path) -> None:
    """A reader that closes the pipe (`| head -0`) leaves a success run and a full log."""
    process = subprocess.Popen(
        [sys.executable, str(MAIN)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()  # before the job prints anything
    _, stderr = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, stderr
    assert stderr == ""
    [row] = rows(tmp_path / ".runmeta" / "run_history.db")
    assert row["status"] == "success"
    log = (tmp_path / "result" / "1" / "logs" / "stdout.log").read_text("utf-8")
    assert log.startswith("Run 1: solving") and "Results: result/1" in log


def test_runs_registering_one_new_project_at_once_all_succeed(tmp_path: Path) -> None:
    """Four processes naming the same unregistered project: one project row, four runs."""
    (tmp_path / "analysis").mkdir()
    (tmp_path / "g.toml").write_text(RPS, encoding="utf-8")
    config = tmp_path / "run.toml"
    config.write_text(
        'game = "g.toml"\n[analysis_project]\nproject_id = "p"\nproject_path = "analysis"\n',
        encoding="utf-8",
    )
    processes = [
        subprocess.Popen(
            [sys.executable, str(MAIN), str(config), "--root", str(tmp_path)],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    errors = [process.communicate(timeout=TIMEOUT)[1] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], errors
    recorded = rows(tmp_path / DEFAULT_DB)
    assert sorted(r["status"] for r in recorded) == ["success"] * 4
    assert {r["project_id"] for r in recorded} == {"p"}
    (refs,) = (tmp_path / "analysis" / "experiment_refs").iterdir()  # the folder of this root
    assert sorted(p.name for p in refs.iterdir()) == ["1", "2", "3", "4"]
