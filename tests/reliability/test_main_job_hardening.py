"""The main job under hostile input and interruptions: real processes, real signals, real files.

Every test runs ``python src/main.py`` (or the runmeta CLI) in its own process and checks
the one line it prints, its exit status, and what the database and the run folder hold.
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.helpers import HERE

MAIN = HERE.parents[1] / "src" / "main.py"
FAULTS = HERE / "faults.py"
TIMEOUT = 120
ROSTER = """\
characters = [
  {{ label = "A", p = 0.0, v = [{a}, 0.0] }},
  {{ label = "B", p = 0.0, v = [0.0, {b}] }},
  {{ label = "C", p = 0.0, v = [-{a}, -{b}] }},
]
"""
RPS = 'labels = ["R", "P", "S"]\nmatrix = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]\n'


def _main_job(
    cwd: Path, *args: str | bytes, rules: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Run ``python src/main.py ARGS`` in ``cwd`` (with ``faults.py`` rules, if any)."""
    prefix = [str(FAULTS), *rules, "--"] if rules else []
    # Without uv's mark, so that the Details hint reads "runmeta ..." under `uv run pytest`.
    env = {key: value for key, value in os.environ.items() if key != "UV_RUN_RECURSION_DEPTH"}
    return subprocess.run(
        [sys.executable, *prefix, str(MAIN), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=TIMEOUT,
        check=False,
    )


def _rows(db: Path) -> list[dict[str, Any]]:
    if not db.exists():
        return []
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute("SELECT * FROM runs ORDER BY run_id")]


def _db(root: Path) -> Path:
    return root / ".runmeta" / "run_history.db"


def _meta(root: Path, run_id: int = 1) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (root / "result" / str(run_id) / "meta.json").read_text("utf-8")
    )
    return data


def _one_error_line(result: subprocess.CompletedProcess[str], *pieces: str) -> str:
    """Exit 1 and one ``monocycle-nash: error:`` line holding ``pieces``; return it."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("monocycle-nash: error: "), lines[0]
    for piece in pieces:
        assert piece in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty project folder."""
    folder = tmp_path / "project"
    folder.mkdir()
    return folder


# -- item 5: pictures never fail a solved run ------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("5e-324", "5e-324", id="subnormal"),
        pytest.param("1e149", "5e-324", id="huge-and-subnormal"),
        pytest.param("1e149", "1e149", id="largest-allowed"),
    ],
)
def test_a_roster_of_extreme_numbers_is_solved_and_drawn(root: Path, a: str, b: str) -> None:
    """Subnormal or huge coordinates: success, every picture drawn, no NaN in any SVG."""
    (root / "extreme.toml").write_text(ROSTER.format(a=a, b=b), encoding="utf-8")
    result = _main_job(root, "extreme.toml")
    assert (result.returncode, result.stderr) == (0, "")
    [row] = _rows(_db(root))
    assert row["status"] == "success"
    output = root / "result" / "1" / "output"
    pictures = ["characters.svg", "equilibrium.svg", "payoff_graph.svg"]
    assert sorted(path.name for path in output.glob("*.svg")) == pictures
    for picture in pictures:
        text = (output / picture).read_text("utf-8")
        assert re.search(r"\b(nan|inf)\b", text, re.IGNORECASE) is None, picture
    assert _meta(root)["warnings"] == []


def test_a_coordinate_beyond_the_limit_is_bad_input(root: Path) -> None:
    """A 1e300 coordinate is refused in one line naming the entry; the run is a fail."""
    (root / "far.toml").write_text(ROSTER.format(a="1e300", b="1.0"), encoding="utf-8")
    _one_error_line(_main_job(root, "far.toml"), "far.toml", "characters[0].v[0]")
    assert [row["status"] for row in _rows(_db(root))] == ["fail"]


def test_a_picture_that_cannot_be_written_is_a_warning(root: Path) -> None:
    """characters.svg failing (EIO): the run succeeds with the JSON files and a warning."""
    (root / "rps.toml").write_text(ROSTER.format(a="2.0", b="1.7"), encoding="utf-8")
    result = _main_job(root, "rps.toml", rules=("write:characters.svg:EIO",))
    assert result.returncode == 0, result.stderr
    [warning] = result.stderr.splitlines()
    assert warning.startswith("monocycle-nash: warning: run 1: characters.svg not drawn: ")
    assert "Input/output error" in warning
    assert "Solved by" in result.stdout
    [row] = _rows(_db(root))
    assert row["status"] == "success"
    meta = _meta(root)
    assert meta["status"] == "success"
    assert meta["warnings"] == [warning.removeprefix("monocycle-nash: warning: run 1: ")]
    assert "output/characters.svg" not in meta["outputs"]
    output = root / "result" / "1" / "output"
    for name in ("equilibrium.json", "pure_strategy.json", "divergence.json", "equilibrium.svg"):
        assert (output / name).is_file(), name
        assert f"output/{name}" in meta["outputs"]
    assert not (output / "characters.svg").exists()
    assert warning in (root / "result" / "1" / "logs" / "stderr.log").read_text("utf-8")


# -- item 7: bytes that are not UTF-8 ----------------------------------------------------


def test_a_note_that_is_not_utf8_is_stored_escaped(root: Path) -> None:
    """--note with invalid UTF-8: the run succeeds, the note is stored with \\x escapes."""
    (root / "rps.toml").write_text(RPS, encoding="utf-8")
    result = _main_job(root, "rps.toml", "--note", b"patch \xe3\x81")
    assert result.returncode == 0, result.stderr
    [row] = _rows(_db(root))
    assert (row["status"], row["note"]) == ("success", "patch \\xe3\\x81")
    assert _meta(root)["note"] == "patch \\xe3\\x81"
    assert result.stderr == (
        "monocycle-nash: warning: run 1: the note is not valid UTF-8 text; stored with "
        "\\x escapes as 'patch \\\\xe3\\\\x81'\n"
    )


def test_a_file_name_that_is_not_utf8_is_refused_and_recorded(root: Path) -> None:
    """A game file named b'\\xff.toml': one line, exit 1, and a fail run naming it escaped."""
    (root / os.fsdecode(b"\xff.toml")).write_text(RPS, encoding="utf-8")
    result = _main_job(root, b"\xff.toml")
    _one_error_line(result, "\\xff.toml: the file name is not valid UTF-8 text")
    [row] = _rows(_db(root))
    assert row["status"] == "fail"
    assert row["command"].endswith("main.py '\\xff.toml'")
    meta = _meta(root)
    assert (meta["status"], meta["input"]) == ("fail", None)


# -- item 9: interruptions before the run exists -----------------------------------------

# Sends itself SIGNAL while the main job's modules are being imported, then runs it.
_DURING_IMPORTS = """
import os, runpy, signal, sys
class Hook:
    def find_spec(self, name, path=None, target=None):
        if name == "monocycle_nash.runmeta.service":
            os.kill(os.getpid(), signal.{signal})
        return None
sys.meta_path.insert(0, Hook())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.mark.parametrize(
    ("name", "code", "word"),
    [
        pytest.param("SIGINT", 130, "interrupted", id="ctrl-c"),
        pytest.param("SIGTERM", 143, "terminated", id="sigterm"),
    ],
)
def test_a_signal_during_start_up_imports_is_one_line(
    root: Path, name: str, code: int, word: str
) -> None:
    """Ctrl-C or SIGTERM while the program loads: one line, exit 130/143, nothing recorded."""
    script = _DURING_IMPORTS.format(signal=name)
    result = subprocess.run(
        [sys.executable, "-c", script, str(MAIN), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        preexec_fn=_default_signals,
    )
    assert (result.returncode, result.stdout) == (code, "")
    assert result.stderr == (
        f"monocycle-nash: {word} before the run started; no run was recorded\n"
    )
    assert not (root / ".runmeta").exists()
    assert not (root / "result").exists()


def _default_signals() -> None:
    """In the child: SIGINT and SIGTERM with their default action (a shell may ignore them)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _big_matrix(path: Path, size: int) -> int:
    """Write a run config with an inline ``size`` x ``size`` game (several seconds to parse,
    before the run: the settings it may hold decide where the run is recorded); return its
    size in bytes."""
    rng = random.Random(size)
    row = "[" + ", ".join(f"{rng.uniform(-1, 1):.6f}" for _ in range(size)) + "]"
    text = "[game]\nmatrix = [\n" + ",\n".join([row] * size) + "\n]\n"
    path.write_text(text, encoding="utf-8")
    return path.stat().st_size


def _bytes_read(pid: int) -> int:
    """What process ``pid`` has read so far (``rchar`` of ``/proc/<pid>/io``)."""
    for line in Path(f"/proc/{pid}/io").read_text("ascii").splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar")  # pragma: no cover


@pytest.mark.skipif(not Path("/proc/self/io").exists(), reason="needs Linux /proc/<pid>/io")
@pytest.mark.parametrize(
    ("signum", "code", "word"),
    [
        pytest.param(signal.SIGTERM, 143, "terminated", id="sigterm"),
        pytest.param(signal.SIGINT, 130, "interrupted", id="ctrl-c"),
    ],
)
def test_a_signal_while_a_large_input_is_parsed_is_one_true_line(
    root: Path, signum: int, code: int, word: str
) -> None:
    """SIGTERM/Ctrl-C while a 20 MB game file is parsed: one line, exit 143/130, no run."""
    size = _big_matrix(root / "big.toml", 1800)
    process = subprocess.Popen(
        [sys.executable, str(MAIN), "big.toml"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals,  # noqa: PLW1509 - only restores signal dispositions
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        # Once the whole file is read, the parse (several seconds) is under way.
        while _bytes_read(process.pid) < size:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the input was never read"
            time.sleep(0.01)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:  # pragma: no cover - only when an assertion failed
            process.kill()
            process.communicate()
    assert (process.returncode, stdout) == (code, ""), stderr
    assert stderr == f"monocycle-nash: {word} before the run started; no run was recorded\n"
    assert _rows(_db(root)) == []
    assert not (root / "result").exists()


# -- item 10: a run deleted while it runs --------------------------------------------------


@pytest.mark.parametrize(
    ("with_files", "expected"),
    [
        pytest.param(
            True,
            "output/equilibrium.json: No such file or directory; run 1 is no longer in the "
            "database, so nothing more was recorded",
            id="row-and-folder",
        ),
        pytest.param(
            False,
            "run 1 is no longer in the database (deleted while it ran?), so its end was not "
            "recorded; its folder result/1 was left as it was",
            id="row-only",
        ),
    ],
)
def test_a_run_deleted_while_it_runs_is_never_said_to_be_recorded(
    root: Path, with_files: bool, expected: str
) -> None:
    """delete-run --force during the solve: the dying job says what is true, nothing more."""
    rng = random.Random(7)
    size = 200
    rows = [
        [0.0 if i == j else round(rng.uniform(-1, 1), 6) for j in range(size)] for i in range(size)
    ]
    (root / "slow.toml").write_text(f"matrix = {rows}\n", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, str(MAIN), "slow.toml"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        header = process.stdout.readline()  # printed (flushed) just before the solve
        assert header.startswith("Run 1: solving slow.toml"), header
        process.send_signal(signal.SIGSTOP)  # hold the solve while the run is deleted
        delete = [sys.executable, "-m", "monocycle_nash.runmeta", "delete-run", "--run-id", "1"]
        deleted = subprocess.run(
            [*delete, "--force", *(["--with-files"] if with_files else [])],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        process.send_signal(signal.SIGCONT)
        assert deleted.returncode == 0, deleted.stderr
        _, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    line = _one_error_line(subprocess.CompletedProcess([], process.returncode, "", stderr))
    assert line.endswith(expected), line
    assert "recorded as" not in line
    assert "traceback in" not in line
    assert _rows(_db(root)) == []
    assert (root / "result" / "1").exists() is not with_files


# -- item 16: settings and inputs that cannot be used -------------------------------------


def _config(root: Path, settings: str) -> None:
    (root / "rps.toml").write_text(RPS, encoding="utf-8")
    (root / "run.toml").write_text(f'game = "rps.toml"\n{settings}', encoding="utf-8")


LONG = "a" * 5000


@pytest.mark.parametrize(
    ("settings", "pieces"),
    [
        pytest.param(
            '[runmeta]\nresult_root = "res\\u0000ult"\n',
            ("run.toml: [runmeta] result_root", "it holds a NUL character"),
            id="nul-in-result-root",
        ),
        pytest.param(
            f'[runmeta]\ndb_path = "{LONG}"\n',
            ("run.toml: [runmeta] db_path", "is not a usable path", "bytes long"),
            id="long-db-path",
        ),
        pytest.param(
            f'[analysis_project]\nproject_id = "p"\nproject_path = "{LONG}"\n',
            ("run.toml: [analysis_project] project_path", "bytes long"),
            id="long-project-path",
        ),
        pytest.param(
            f'[runmeta]\nresult_root = "{"b" * 300}"\n',
            ("run.toml: [runmeta] result_root", "a name in it is 300 bytes long"),
            id="long-file-name",
        ),
    ],
)
def test_an_unusable_path_in_settings_is_a_failed_run(
    root: Path, settings: str, pieces: tuple[str, ...]
) -> None:
    """A NUL or a 5,000-character path in settings: one line naming file and entry, a fail run."""
    _config(root, settings)
    line = _one_error_line(_main_job(root, "run.toml"), *pieces)
    assert len(line) < 400
    [row] = _rows(_db(root))
    assert row["status"] == "fail"
    assert _meta(root)["reason"] is not None


@pytest.mark.parametrize(
    ("entry", "pieces"),
    [
        pytest.param('"rps\\u0000.toml"', ("'game' is not a usable path", "NUL"), id="nul"),
        pytest.param(f'"{LONG}"', ("'game' is not a usable path", "bytes long"), id="long"),
    ],
)
def test_an_unusable_game_path_is_a_failed_run(
    root: Path, entry: str, pieces: tuple[str, ...]
) -> None:
    """The run config's game entry with a NUL or 5,000 characters: one line, a fail run."""
    (root / "run.toml").write_text(f"game = {entry}\n", encoding="utf-8")
    _one_error_line(_main_job(root, "run.toml"), "run.toml", *pieces)
    assert [row["status"] for row in _rows(_db(root))] == ["fail"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param("x = " + "[" * 500 + "]" * 500 + "\n", "the entry on line 1", id="arrays"),
        pytest.param(
            'game = "rps.toml"\n[solver]\nexact = ' + "{a=" * 500 + "1" + "}" * 500 + "\n",
            "the entry on line 3",
            id="inline-tables",
        ),
        pytest.param(
            "[game]\nmatrix = [[0.0]]\nx = " + "[" * 300 + "]" * 300 + "\n",
            "entry 'game'",
            id="parsed-but-too-deep",
        ),
    ],
)
def test_toml_nested_500_levels_is_a_failed_run(root: Path, text: str, where: str) -> None:
    """TOML nested hundreds of levels deep: one line naming the file and entry, a fail run."""
    (root / "rps.toml").write_text(RPS, encoding="utf-8")
    (root / "deep.toml").write_text(text, encoding="utf-8")
    _one_error_line(
        _main_job(root, "deep.toml"), f"deep.toml: {where} is nested more than 100 levels deep"
    )
    assert [row["status"] for row in _rows(_db(root))] == ["fail"]


@pytest.fixture
def full_result_folder(root: Path) -> Iterator[Path]:
    """``root/result`` on a small tmpfs filled to the last byte: folders fit, data does not."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    folder = root / "result"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        with (folder / "filler").open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 4096)
                    filler.flush()
            except OSError:
                pass
        yield root
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def test_a_full_disk_during_the_input_copy_is_one_line(full_result_folder: Path) -> None:
    """No space for the input's copy: 'cannot write ...: No space left on device', a fail run."""
    root = full_result_folder
    (root / "rps.toml").write_text(RPS, encoding="utf-8")
    try:
        result = _main_job(root, "rps.toml")
    finally:
        (root / "result" / "filler").unlink()
    line = _one_error_line(result)
    copy = root / "result" / "1" / "input" / "rps.toml"
    assert line == (
        f"monocycle-nash: error: cannot write {copy}: No space left on device; "
        "run 1 recorded as fail"
    )
    [row] = _rows(_db(root))
    assert row["status"] == "fail"


# -- messages: the Details hint and what labels may print --------------------------------


def test_the_details_hint_works_from_the_current_folder(tmp_path: Path) -> None:
    """Runs recorded elsewhere: the printed command finds the run and creates nothing here."""
    here, data = tmp_path / "here", tmp_path / "data"
    here.mkdir()
    data.mkdir()
    (data / "rps.toml").write_text(RPS, encoding="utf-8")
    (data / "run.toml").write_text(
        'game = "rps.toml"\n[runmeta]\ndb_path = "db/runs.db"\nresult_root = "runs"\n',
        encoding="utf-8",
    )
    result = _main_job(here, str(data / "run.toml"), "--root", str(data))
    assert result.returncode == 0, result.stderr
    hint = result.stdout.splitlines()[-1]
    assert hint == (
        f"Details: runmeta show-run --run-id 1 --db-path {data / 'db' / 'runs.db'} "
        f"--result-root {data / 'runs'}"
    )
    words = shlex.split(hint.removeprefix("Details: "))
    assert words[0] == "runmeta"
    shown = subprocess.run(
        [sys.executable, "-m", "monocycle_nash.runmeta", *words[1:]],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert (shown.returncode, shown.stderr) == (0, ""), shown.stderr
    assert "success" in shown.stdout
    assert sorted(path.name for path in here.iterdir()) == []


def test_the_details_hint_is_plain_for_the_default_locations(root: Path) -> None:
    """A run recorded in ./.runmeta and ./result: the hint needs no location options."""
    (root / "rps.toml").write_text(RPS, encoding="utf-8")
    result = _main_job(root, "rps.toml")
    assert result.stdout.splitlines()[-1] == "Details: runmeta show-run --run-id 1"


def test_labels_with_bidi_overrides_print_escaped(root: Path) -> None:
    """A label holding U+202E is shown as \\u202e in the summary, never obeyed."""
    (root / "bidi.toml").write_text(
        'labels = ["exe.\\u202etxt", "P", "S"]\nmatrix = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]\n',
        encoding="utf-8",
    )
    result = _main_job(root, "bidi.toml")
    assert result.returncode == 0, result.stderr
    assert "\u202e" not in result.stdout
    assert "  exe.\\u202etxt  0.333333" in result.stdout.splitlines()
    labels = json.loads((root / "result" / "1" / "output" / "equilibrium.json").read_text("utf-8"))
    assert labels["labels"][0] == "exe.\u202etxt"  # the data keeps the label as it is
