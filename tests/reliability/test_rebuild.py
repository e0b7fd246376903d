"""``runmeta check --integrity`` and ``runmeta rebuild``: a damaged database, found and rebuilt.

A real history (several runs, a project, a deleted run, a run still ``running`` on
another host) is recorded through the library; its database is damaged by
overwriting b-tree pages, as a failing disk would. ``check --integrity`` must say so
(while the other commands refuse the file), ``rebuild`` must refuse to overwrite it,
and ``rebuild --move-aside`` must keep the old files under a new name and recreate
every row from the meta.json files, ids and sequence included.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta import FixedClock, RunSessionService
from monocycle_nash.runmeta.process import ProcessIdentity
from monocycle_nash.runmeta.repair import rebuild_database
from tests.reliability.helpers import db_path, held_run, runmeta, runmeta_json

PAGE = 4096
CLOCK_START = "2026-02-14T19:30:12+09:00"


def _elsewhere() -> ProcessIdentity:
    """A process on another machine: nothing here can tell whether it still runs."""
    return ProcessIdentity("another-host", 4242, "boot:1", CLOCK_START)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A history: runs 1-4 finished (two in project sweep), 5 running elsewhere, 6 deleted."""
    folder = tmp_path / "project"
    (tmp_path / "analysis").mkdir()
    clock = FixedClock(CLOCK_START, step=7)
    with RunSessionService.open(folder, clock=clock, git_probe=lambda: "c0ffee") as service:
        service.ensure_project("sweep", tmp_path / "analysis", note="roster sweep")
        service.finish_success(service.start("python a.py", note="first"))
        service.finish_fail(service.start("python b.py", project_id="sweep", note="typo"), "bad")
        service.finish_killed(service.start("python c.py", project_id="sweep"), "stopped")
        service.finish_success(service.start("python d.py", note="日本語のノート"))
    with RunSessionService.open(
        folder, clock=clock, git_probe=lambda: None, process_identity=_elsewhere
    ) as service:
        service.start("python e.py --long", project_id="sweep", note="on the cluster")
    with RunSessionService.open(folder, clock=clock) as service:
        deleted = service.finish_success(service.start("python f.py"))
        service.edits.delete_run(deleted.run_id, with_files=True)
    return folder


def _break_runs_pages(db: Path) -> None:
    """Overwrite the second half of every b-tree page of ``runs`` and its indexes with 0xFF."""
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = [
            row[0]
            for row in conn.execute("SELECT rootpage FROM sqlite_master WHERE tbl_name = 'runs'")
        ]
    image = bytearray(db.read_bytes())
    for page in pages:
        start = (page - 1) * PAGE
        image[start + PAGE // 2 : start + PAGE] = b"\xff" * (PAGE // 2)
    db.write_bytes(bytes(image))


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def _raw_rows(db: Path) -> list[dict[str, Any]]:
    """Every column of every row of ``runs`` and ``projects``, as SQLite has them."""
    with closing(sqlite3.connect(db)) as conn:
        conn.row_factory = sqlite3.Row
        runs = [dict(row) for row in conn.execute("SELECT * FROM runs ORDER BY run_id")]
        projects = [
            dict(row) for row in conn.execute("SELECT project_id, project_path FROM projects")
        ]
    return runs + projects


@pytest.fixture
def damaged(root: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[Path, Any]]:
    """The history as it was (listing, raw rows), then its database damaged."""
    before = runmeta_json(capsys, root, "list-runs")
    assert [run["run_id"] for run in before] == [5, 4, 3, 2, 1]
    raw = _raw_rows(db_path(root))
    _break_runs_pages(db_path(root))
    yield root, (before, raw)


def test_integrity_check_says_ok_on_a_healthy_database(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check --integrity on a sound database: one line 'database integrity: ok', exit 0."""
    assert runmeta(capsys, root, "check", "--integrity") == (0, "database integrity: ok\n", "")
    report = runmeta_json(capsys, root, "check", "--integrity")
    assert report == {"database": str(db_path(root)), "ok": True, "problems": []}


def test_integrity_check_reports_a_damaged_database(
    damaged: tuple[Path, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Where list-runs refuses a damaged file, check --integrity lists what SQLite finds, exit 1."""
    root, _ = damaged
    before = db_path(root).read_bytes()
    code, out, err = runmeta(capsys, root, "list-runs")
    assert (code, out) == (1, "")
    assert "is damaged" in err
    code, out, err = runmeta(capsys, root, "check", "--integrity")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert len(lines) >= 2
    assert all(line.startswith("integrity: ") for line in lines[:-1])
    assert lines[-1].startswith(f"database integrity: {len(lines) - 1} problems in ")
    assert "runmeta rebuild --move-aside" in lines[-1]
    assert db_path(root).read_bytes() == before


def test_integrity_check_names_the_pages_when_an_index_is_unreadable(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A zeroed index page stops integrity_check; quick_check then names the bad page."""
    db = db_path(root)
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        [(page,)] = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'idx_runs_status'"
        )
    with db.open("r+b") as image:
        image.seek((page - 1) * PAGE)
        image.write(bytes(PAGE))
    code, out, err = runmeta(capsys, root, "check", "--integrity")
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert (
        lines[0]
        == "integrity: SQLite stopped its integrity_check: database disk image is malformed"
    )
    assert f"integrity: Page {page}: btreeInitPage() returns error code 11" in lines
    assert lines[-1].startswith(f"database integrity: {len(lines) - 1} problems in ")


def test_integrity_check_reports_a_run_whose_project_is_gone(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row naming a project that is not there (an SQL edit without foreign keys) is found."""
    with closing(sqlite3.connect(db_path(root))) as conn, conn:
        conn.execute("UPDATE runs SET project_id = 'ghost' WHERE run_id = 1")
    code, out, _ = runmeta(capsys, root, "check", "--integrity")
    assert code == 1
    assert "integrity: runs row 1 refers to a projects row that does not exist\n" in out


def test_integrity_check_creates_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a database, check --integrity refuses in one line and creates nothing."""
    code, out, err = runmeta(capsys, tmp_path, "check", "--integrity")
    assert (code, out) == (1, "")
    assert err.startswith("runmeta: error: ") and err.count("\n") == 1
    assert not (tmp_path / ".runmeta").exists()


def test_rebuild_refuses_to_overwrite_a_database(
    damaged: tuple[Path, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --move-aside an existing database is refused in one line; no file changes."""
    root, _ = damaged
    before = _files(db_path(root).parent)
    code, out, err = runmeta(capsys, root, "rebuild")
    assert (code, out) == (1, "")
    assert err == (
        f"runmeta: error: cannot rebuild run database {db_path(root)}: {db_path(root)} exists;"
        " give --move-aside to rename it (with its -wal and -shm files) to"
        " <name>.broken-<time> first; nothing was changed\n"
    )
    assert _files(db_path(root).parent) == before


def test_rebuild_move_aside_restores_every_row(
    damaged: tuple[Path, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """rebuild --move-aside: old files kept aside, list-runs --json equal to the original rows."""
    root, (before, raw) = damaged
    old = db_path(root).read_bytes()
    code, out, err = runmeta(capsys, root, "rebuild", "--move-aside")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    moved = [line for line in lines if line.startswith("moved ")]
    assert moved[0].startswith(f"moved {db_path(root)} aside to {db_path(root)}.broken-")
    aside = Path(moved[0].rsplit(" aside to ", 1)[1])
    assert aside.read_bytes() == old
    assert lines[-1] == (
        f"rebuilt {db_path(root)} from {root / 'result'}: 5 runs, 1 project; the next run id is 7"
    )
    assert runmeta_json(capsys, root, "list-runs") == before
    assert _raw_rows(db_path(root)) == raw  # every column: process and reason included
    assert runmeta(capsys, root, "check", "--integrity")[:2] == (0, "database integrity: ok\n")
    assert runmeta(capsys, root, "check")[0] == 0
    [project] = runmeta_json(capsys, root, "list-projects")
    assert (project["project_id"], project["project_path"]) == (
        "sweep",
        str(root.parent / "analysis"),
    )
    with RunSessionService.open(root) as service:
        assert service.start("python g.py").run_id == 7  # 6 was deleted: never given again


def test_rebuild_skips_an_unreadable_meta_and_keeps_its_id(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run whose meta.json is unreadable is named on stderr and skipped; its id is not reused."""
    db_path(root).unlink()
    (root / "result" / "5" / "meta.json").write_text('{"run_id": 5,', encoding="utf-8")
    code, out, err = runmeta(capsys, root, "rebuild")
    assert code == 0
    assert err.startswith(
        f"runmeta: warning: run 5 not restored: {root / 'result' / '5' / 'meta.json'}"
        " is unreadable: not valid JSON"
    )
    assert err.count("\n") == 1
    assert out.endswith("4 runs, 1 project, 1 folder skipped; the next run id is 6\n")
    assert [run["run_id"] for run in runmeta_json(capsys, root, "list-runs")] == [4, 3, 2, 1]


def test_rebuild_refuses_another_programs_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An SQLite file of another program is not moved aside, even with --move-aside."""
    with RunSessionService.open(tmp_path, db_path=tmp_path / "elsewhere.db") as service:
        service.finish_success(service.start("python a.py"))  # result/1 to rebuild from
    db = db_path(tmp_path)
    db.parent.mkdir()
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("PRAGMA user_version = 2")
    before = db.read_bytes()
    code, out, err = runmeta(capsys, tmp_path, "rebuild", "--move-aside")
    assert (code, out) == (1, "")
    assert "another program" in err and "nothing was changed" in err
    assert err.count("\n") == 1
    assert sorted(path.name for path in db.parent.iterdir()) == ["run_history.db"]
    assert db.read_bytes() == before


def test_rebuild_refuses_a_result_root_without_runs(
    damaged: tuple[Path, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A --result-root holding no run folder (a typo) is refused: the database is not moved."""
    root, _ = damaged
    before = _files(db_path(root).parent)
    code, out, err = runmeta(
        capsys, root, "rebuild", "--move-aside", "--result-root", str(root / "reslut")
    )
    assert (code, out) == (1, "")
    assert err == (
        f"runmeta: error: cannot rebuild run database {db_path(root)}: {root / 'reslut'}"
        " holds no run folder to rebuild from; nothing was changed\n"
    )
    assert _files(db_path(root).parent) == before


def test_rebuild_refuses_while_a_run_is_alive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A running run whose process lives (a real one) would record its end in the old file."""
    root = tmp_path / "project"
    with held_run(root) as (_, run_id):
        code, out, err = runmeta(capsys, root, "rebuild", "--move-aside")
        assert (code, out) == (1, "")
        assert f"run {run_id} is running and its process is alive" in err
        assert sorted(path.name for path in db_path(root).parent.iterdir())[0] == "run_history.db"
        assert not any(
            ".broken-" in name for name in (path.name for path in db_path(root).parent.iterdir())
        )


def test_rebuild_recreates_a_missing_database_and_keeps_odd_projects_apart(
    root: Path,
) -> None:
    """A lost database is recreated; a project named with two paths keeps the latest one."""
    db_path(root).unlink()
    for suffix in ("-wal", "-shm"):
        db_path(root).with_name("run_history.db" + suffix).unlink(missing_ok=True)
    meta_path = root / "result" / "2" / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["project_path"] = "/somewhere/older"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    report = rebuild_database(root / "result", db_path(root))
    assert report.runs == (1, 2, 3, 4, 5)
    assert report.moved == ()
    assert report.projects == ("sweep",)
    assert report.notes == (
        f"project 'sweep': its runs name 2 paths; kept {root.parent / 'analysis'}"
        " (run 5, the latest updated)",
    )
    assert report.next_run_id == 6  # the deleted run 6 was known only to the lost database
