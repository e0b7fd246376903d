"""``runmeta diff A B`` and the comparison it shares with ``rerun``.

The comparison functions are tested directly; the command in-process on runs recorded
by the library (meta.json then edited to hold, or lack, the fields later versions add),
and through real processes on runs of the real main job.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta.artifact_store import InputFile
from monocycle_nash.runmeta.comparison import (
    DEFAULT_VALUE_LIMIT,
    RunFilesError,
    compare_trees,
    compare_values,
)
from monocycle_nash.runmeta.db import transaction
from monocycle_nash.runmeta.repositories import FOREIGN_FOLDER, RunsRepository
from monocycle_nash.runmeta.service import RunSessionService
from tests.app.main_process import run_main_job
from tests.runmeta.cli_support import cli, connect, usage_error

# --- compare_values -------------------------------------------------------------------


def test_numbers_that_differ_come_with_their_differences() -> None:
    """Each differing number is listed by its path with both values, |b - a| and relative."""
    found = compare_values({"value": 0.5, "gap": 1e-9}, {"value": 0.25, "gap": 1e-9})
    assert found.count == 1
    (pair,) = found.differences
    assert (pair.path, pair.a, pair.b) == ("value", 0.5, 0.25)
    assert (pair.absolute, pair.relative) == (0.25, 0.5)


def test_structure_is_walked_in_document_order() -> None:
    """Nested objects and arrays are matched by key and index; extras count one by one."""
    a = {"labels": ["R", "P"], "s": [{"p": 1.0}, {"p": 2.0}], "only_a": 1, "kind": "x"}
    b = {"labels": ["R", "P", "S"], "s": [{"p": 1.0}, {"p": 2.5}], "kind": 3, "only_b": None}
    found = compare_values(a, b)
    assert [(p.path, p.in_a, p.in_b) for p in found.differences] == [
        ("labels[2]", False, True),
        ("s[1].p", True, True),
        ("only_a", True, False),
        ("kind", True, True),
        ("only_b", False, True),
    ]
    assert found.differences[3].absolute is None  # "x" and 3: no difference to compute


def test_equal_documents_have_no_differences() -> None:
    """The same values (key order aside, NaN included) compare equal; 1 and 1.0 do not."""
    nan = math.nan
    assert compare_values({"a": [nan, 1], "b": 2}, {"b": 2, "a": [nan, 1]}).count == 0
    found = compare_values({"n": 1}, {"n": 1.0})
    assert [(p.path, p.absolute) for p in found.differences] == [("n", 0.0)]


def test_every_difference_is_counted_and_the_first_are_kept() -> None:
    """A limit keeps the first N differences in order; the count is of all of them."""
    found = compare_values(list(range(50)), [n + 1 for n in range(50)], limit=3)
    assert found.count == 50
    assert [p.path for p in found.differences] == ["[0]", "[1]", "[2]"]


def test_keys_that_are_not_names_are_quoted() -> None:
    """A key with a space or a dot is written as ["..."] so that its path stays readable."""
    found = compare_values({"a b": {"c.d": 1}}, {"a b": {"c.d": 2}})
    assert found.differences[0].path == '["a b"]["c.d"]'


def test_deep_documents_are_walked_without_recursion() -> None:
    """Nesting far beyond Python's recursion limit is walked (iteratively)."""
    a: Any = 1
    b: Any = 2
    for _ in range(5000):
        a, b = [a], [b]
    assert compare_values(a, b).count == 1


# --- compare_trees --------------------------------------------------------------------


def _tree(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def test_trees_are_compared_by_name_and_bytes(tmp_path: Path) -> None:
    """Same names and bytes are same; a file of one side only, or other bytes, are listed."""
    a = _tree(tmp_path / "a", {"same.txt": "x", "sub/b.bin": b"\0\1", "gone.txt": "g"})
    b = _tree(tmp_path / "b", {"same.txt": "x", "sub/b.bin": b"\0\2", "new.txt": "n"})
    tree = compare_trees(a, b)
    assert [(e.path, e.state) for e in tree.files] == [
        ("gone.txt", "only-a"),
        ("new.txt", "only-b"),
        ("same.txt", "same"),
        ("sub/b.bin", "different"),
    ]
    assert not tree.identical
    assert tree.files[3].values is None  # not JSON: by checksum only


def test_json_files_that_differ_get_their_values(tmp_path: Path) -> None:
    """A differing .json file is read on both sides and its values compared."""
    a = _tree(tmp_path / "a", {"r.json": '{"value": 1.0, "ok": true}'})
    b = _tree(tmp_path / "b", {"r.json": '{"value": 1.5, "ok": true}'})
    (entry,) = compare_trees(a, b).files
    assert entry.values is not None
    assert [(p.path, p.a, p.b, p.absolute) for p in entry.values.differences] == [
        ("value", 1.0, 1.5, 0.5)
    ]


def test_invalid_json_is_compared_by_checksum_with_a_note(tmp_path: Path) -> None:
    """A .json file that does not parse keeps its checksums and says why values are missing."""
    a = _tree(tmp_path / "a", {"r.json": "{"})
    b = _tree(tmp_path / "b", {"r.json": "[]"})
    (entry,) = compare_trees(a, b).files
    assert (entry.values, entry.note) == (None, "values not compared: a is not valid JSON")


def test_missing_folders_hold_no_files(tmp_path: Path) -> None:
    """A run without output/ compares as an empty folder."""
    assert compare_trees(tmp_path / "none", tmp_path / "neither").identical
    b = _tree(tmp_path / "b", {"x": "1"})
    assert [e.state for e in compare_trees(tmp_path / "none", b).files] == ["only-b"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_links_are_compared_as_links(tmp_path: Path) -> None:
    """A link is never followed: its target's name is what is compared."""
    a = _tree(tmp_path / "a", {"t1": "1", "t2": "2"})
    b = _tree(tmp_path / "b", {"t1": "1", "t2": "2"})
    (a / "link").symlink_to("t1")
    (b / "link").symlink_to("t2")
    (a / "dirlink").symlink_to(tmp_path)
    (b / "dirlink").symlink_to(tmp_path)
    states = {e.path: e.state for e in compare_trees(a, b).files}
    assert states == {"dirlink": "same", "link": "different", "t1": "same", "t2": "same"}


# --- the command, in-process ----------------------------------------------------------

GAME = 'labels = ["R", "P", "S"]\nmatrix = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]\n'
PROVENANCE = {
    "package_version": "0.1.0",
    "python_version": "3.11.9",
    "python_implementation": "CPython",
    "platform": "Linux-6.1-x86_64",
    "git_commit": "abc123",
    "git_dirty": False,
    "argv": ["monocycle-nash", "game.toml"],
}
METRICS = {"value": 0.0, "exploitability": 1e-16, "support_size": 3, "solver": "simplex"}


def _record(
    service: RunSessionService,
    workspace: Path,
    game: str = GAME,
    *,
    outputs: dict[str, str | bytes] | None = None,
    settings: str | None = None,
) -> int:
    """Record a finished run of ``game`` (a run config with ``settings`` when given)."""
    folder = workspace / f"inputs-{len(list(workspace.glob('inputs-*')))}"
    folder.mkdir()
    (folder / "game.toml").write_text(game, encoding="utf-8")
    if settings is None:
        inputs = [InputFile("input", folder / "game.toml")]
        merged = None
    else:
        (folder / "run.toml").write_text('game = "game.toml"\n', encoding="utf-8")
        inputs = [InputFile("input", folder / "run.toml"), InputFile("game", folder / "game.toml")]
        merged = f'game = "{folder / "game.toml"}"\n{settings}'
    with service.record("monocycle-nash game.toml", inputs=inputs, merged_input=merged) as run:
        run.extra["result"] = {"value": 0.0, "solver": "simplex"}
        for name, content in (outputs or {"equilibrium.json": '{"value": 0.0}'}).items():
            _tree(run.output_dir, {name: content})
    return run.run_id


def _edit_meta(run_id: int, **fields: Any) -> None:
    """Set (or with ``None``, remove) top-level meta.json fields, as later versions write."""
    path = Path(f"result/{run_id}/meta.json")
    meta = json.loads(path.read_text(encoding="utf-8"))
    for key, value in fields.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    path.write_text(json.dumps(meta, indent=2), encoding="utf-8")


def test_a_run_compared_with_itself_is_identical(
    service: RunSessionService, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every section says identical in one line; exit 0, nothing on stderr."""
    run_id = _record(service, workspace, settings="[solver]\nexact = true\n")
    _edit_meta(run_id, provenance=PROVENANCE, metrics=METRICS)
    code, out, err = cli(capsys, "diff", str(run_id), str(run_id))
    assert (code, err) == (0, "")
    assert out.splitlines()[3:] == [
        "inputs: identical (3 files)",
        "settings: identical (1 value)",
        "provenance: identical (7 values)",
        "figures: identical (4 values)",
        "outputs: identical (1 file, byte for byte)",
    ]


def test_sections_show_what_differs_side_by_side(
    service: RunSessionService, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Settings, provenance and figures list the values that differ; numbers with their
    differences; exit 1."""
    first = _record(service, workspace, settings="[solver]\nexact = true\n")
    second = _record(service, workspace, settings="[solver]\nexact = false\n")
    _edit_meta(first, provenance=PROVENANCE, metrics=METRICS)
    _edit_meta(
        second,
        provenance={**PROVENANCE, "git_dirty": True},
        metrics={**METRICS, "exploitability": 3e-16},
    )
    code, out, err = cli(capsys, "diff", str(first), str(second))
    assert (code, err) == (1, "")
    lines = out.splitlines()
    start = lines.index("settings: different (1 of 1 value)")
    assert [line.split() for line in lines[start + 1 : start + 3]] == [
        ["SETTING", "RUN", "1", "RUN", "2"],
        ["solver.exact", "true", "false"],
    ]
    start = lines.index("provenance: different (1 of 7 values)")
    assert lines[start + 2].split() == ["git_dirty", "false", "true"]
    start = lines.index("figures: different (1 of 4 values)")
    assert lines[start + 2].split() == ["exploitability", "1e-16", "3e-16", "2e-16", "0.667"]
    assert "outputs: identical (1 file, byte for byte)" in lines


def test_runs_recorded_before_provenance_and_metrics_are_compared_with_notes(
    service: RunSessionService, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A meta.json without provenance or metrics: its git commit and its result are used,
    and a note says so."""
    old = _record(service, workspace)
    new = _record(service, workspace)
    _edit_meta(old, provenance=None, metrics=None, git_commit="abc123")
    _edit_meta(new, provenance=PROVENANCE, metrics=METRICS)
    code, out, _ = cli(capsys, "diff", str(old), str(new))
    assert code == 1
    assert (
        f"  run {old} recorded no provenance (it ran before runmeta kept any); only its git"
        " commit is known" in out.splitlines()
    )
    assert f"  run {old} recorded no metrics; its figures are meta.json's result" in out
    document = json.loads(cli(capsys, "diff", str(old), str(new), "--json")[1])
    commit = next(e for e in document["provenance"]["entries"] if e["path"] == "git_commit")
    assert (commit["a"], commit["b"], commit["same"]) == ("abc123", "abc123", True)
    platform = next(e for e in document["provenance"]["entries"] if e["path"] == "platform")
    assert (platform["in_a"], platform["b"]) == (False, "Linux-6.1-x86_64")


def test_inputs_differ_as_a_unified_diff(
    service: RunSessionService, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text inputs that differ are shown as a unified diff, the game paired by role."""
    first = _record(service, workspace)
    second = _record(service, workspace, GAME.replace("[1, 0, -1]", "[1, 0, -2]"))
    code, out, _ = cli(capsys, "diff", str(first), str(second))
    assert code == 1
    lines = out.splitlines()
    start = lines.index("inputs: different (1 of 1 file)")
    assert lines[start + 1].startswith("  game: run 1 input/game.toml, sha256 ")
    assert lines[start + 2 :][:6] == [
        "    --- run 1: input/game.toml",
        "    +++ run 2: input/game.toml",
        "    @@ -1,2 +1,2 @@",
        '     labels = ["R", "P", "S"]',
        "    -matrix = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]]",
        "    +matrix = [[0, -1, 1], [1, 0, -2], [-1, 1, 0]]",
    ]
    assert (
        "settings: identical (neither run has a merged input: both ran a game file, with the"
        " default settings)"
    ) in out.splitlines()


def test_binary_and_changed_inputs_are_compared_by_checksum(
    service: RunSessionService, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A binary input shows checksums, and a stored copy edited since the run is flagged."""
    first = _record(service, workspace, "\0binary")
    second = _record(service, workspace, "\0other")
    with Path(f"result/{second}/input/game.toml").open("a", encoding="utf-8") as game:
        game.write("edited")
    code, out, _ = cli(capsys, "diff", str(first), str(second))
    assert code == 1
    notes = out.splitlines()[out.splitlines().index("inputs: different (1 of 1 file)") + 2]
    assert notes.startswith(
        "    compared by checksum (not text); run 2: input/game.toml has changed since the run"
        " stored it (recorded sha256 "
    )


def test_outputs_that_differ_list_their_values(
    service: RunSessionService, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outputs are compared by SHA-256; a JSON output's values side by side, --max-values
    caps the list and the count says how many there are."""
    values = {"p": [0.25, 0.25, 0.5], "value": 0.0}
    first = _record(service, workspace, outputs={"eq.json": json.dumps(values), "a.svg": "<a/>"})
    changed = {"p": [0.5, 0.25, 0.25], "value": 1e-3}
    second = _record(service, workspace, outputs={"eq.json": json.dumps(changed), "b.csv": "x"})
    code, out, _ = cli(capsys, "diff", str(first), str(second), "--max-values", "2")
    assert code == 1
    tail = out.splitlines()[out.splitlines().index("outputs: different (3 of 3 files)") + 1 :]
    assert tail[0].startswith("  a.svg: only in run 1 (sha256 ")
    assert tail[1].startswith("  b.csv: only in run 2 (sha256 ")
    assert tail[2].startswith("  eq.json: different (run 1 sha256 ")
    assert tail[3] == "    3 values differ; the first 2:"
    assert [line.split() for line in tail[5:]] == [
        ["p[0]", "0.25", "0.5", "0.25", "0.5"],
        ["p[2]", "0.5", "0.25", "0.25", "0.5"],
    ]
    document = json.loads(cli(capsys, "diff", str(first), str(second), "--json")[1])
    eq = next(f for f in document["outputs"]["files"] if f["path"] == "eq.json")
    assert eq["values"]["count"] == 3
    assert len(eq["values"]["differences"]) == 3 <= DEFAULT_VALUE_LIMIT


def test_json_document_has_every_section(
    service: RunSessionService, workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json prints one object with both rows and each section; the exit code is the same."""
    run_id = _record(service, workspace)
    code, out, err = cli(capsys, "diff", str(run_id), str(run_id), "--json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert list(document) == [
        "runs",
        "identical",
        "inputs",
        "settings",
        "provenance",
        "figures",
        "outputs",
    ]
    assert [row["run_id"] for row in document["runs"]] == [run_id, run_id]
    assert document["identical"] is True
    assert document["outputs"]["files"][0]["state"] == "same"


def _no_folder(run_id: int) -> None:
    Path(f"result/{run_id}").rename("elsewhere")


def _unreadable(run_id: int) -> None:
    Path(f"result/{run_id}/meta.json").write_text("[1, 2]", encoding="utf-8")


def _foreign(run_id: int) -> None:
    with connect() as connection, transaction(connection):
        RunsRepository(connection).set_folder(run_id, FOREIGN_FOLDER)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        pytest.param(None, "runmeta: error: run 9 not found", id="unknown-run"),
        pytest.param(_no_folder, "runmeta: error: run folder result/1 does not exist", id="gone"),
        pytest.param(
            _unreadable,
            "runmeta: error: result/1/meta.json is unreadable: not a JSON object",
            id="unreadable-meta",
        ),
        pytest.param(
            _foreign,
            "runmeta: error: result/1 was not made by run 1 (it was there before the run started)",
            id="foreign-folder",
        ),
    ],
)
def test_trouble_is_one_line_and_exit_2(
    service: RunSessionService,
    workspace: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Any,
    expected: str,
) -> None:
    """A run that cannot be compared: one stderr line, nothing on stdout, exit 2 (diff(1))."""
    run_id = _record(service, workspace)
    if damage is not None:
        damage(run_id)
    other = "9" if damage is None else str(run_id)
    assert cli(capsys, "diff", other, str(run_id)) == (2, "", expected + "\n")


@pytest.mark.backends("sqlite")  # a database file that does not exist: SQLite's case
def test_no_database_is_trouble(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without a database: one line, exit 2, and nothing is created."""
    code, out, err = cli(capsys, "diff", "1", "2")
    assert (code, out) == (2, "")
    assert (
        err == "runmeta: error: no run database at .runmeta/run_history.db (nothing recorded yet)\n"
    )
    assert list(workspace.iterdir()) == []


def test_run_ids_are_checked_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    """A run id that is not a positive whole number is a usage error (exit 2)."""
    assert "'x' is not a whole number" in usage_error(capsys, "diff", "1", "x")
    assert "required: B" in usage_error(capsys, "diff", "1")


# --- through real processes -----------------------------------------------------------

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


def _runmeta(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monocycle_nash.runmeta", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.slow
def test_diff_of_two_real_runs_of_different_games(tmp_path: Path) -> None:
    """The built-in example against a team game: the game files' unified diff, the
    settings only one run has, and the outputs that differ; exit 1. A run against itself:
    identical, exit 0."""
    assert run_main_job(tmp_path).returncode == 0
    (tmp_path / "teams.toml").write_text(TEAMS, encoding="utf-8")
    assert run_main_job(tmp_path, str(tmp_path / "teams.toml")).returncode == 0

    result = _runmeta(tmp_path, "diff", "1", "2")

    assert (result.returncode, result.stderr) == (1, "")
    lines = result.stdout.splitlines()
    assert lines[3] == "inputs: different (4 of 4 files)"
    assert "  input: only in run 1 (input/default_run.toml, sha256 " in result.stdout
    assert "    --- run 1: input/rock_paper_scissors.toml" in lines
    assert "    +++ run 2: input/teams.toml" in lines
    assert "    +[teams]" in lines
    assert "settings: different (4 of 4 values)" in lines
    assert "  run 2 has no merged input (it ran a game file, with the default settings)" in lines
    assert any(line.startswith("  characters.svg: only in run 1 (sha256 ") for line in lines)
    assert any(line.startswith("  team_matrix.json: only in run 2 (sha256 ") for line in lines)
    assert any(line.startswith("  equilibrium.json: different (run 1 ") for line in lines)

    same = _runmeta(tmp_path, "diff", "2", "2", "--json")
    assert (same.returncode, same.stderr) == (0, "")
    document = json.loads(same.stdout)
    assert document["identical"] is True
    assert [f["state"] for f in document["outputs"]["files"]] == ["same"] * 8

    unknown = _runmeta(tmp_path, "diff", "2", "3")
    assert (unknown.returncode, unknown.stdout, unknown.stderr) == (
        2,
        "",
        "runmeta: error: run 3 not found\n",
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_a_fifo_among_the_outputs_is_trouble_not_a_hang(tmp_path: Path) -> None:
    """A FIFO is never opened (the read would block): the comparison refuses in one line."""
    a = _tree(tmp_path / "a", {"x": "1"})
    os.mkfifo(a / "pipe")
    with pytest.raises(RunFilesError, match="is not a regular file"):
        compare_trees(a, tmp_path / "b")
