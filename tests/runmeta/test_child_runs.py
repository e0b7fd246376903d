"""Parent and child runs in the library: schema version 4, start, listing, deletion, check.

A sweep is recorded as a parent run whose every case is a child run with its own folder.
Everything here runs on real run folders under ``tmp_path`` and a real database: the
tests of the service on both backends (``backend``), those of SQLite's schema
versions and of ``rebuild`` on SQLite files.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from monocycle_nash.runmeta import (
    ChildDeletionStoppedError,
    DatabaseError,
    DatabaseLockedError,
    DatabaseWriteError,
    FixedClock,
    ParentRunNotFoundError,
    RunContext,
    RunHasChildrenError,
    RunNotFoundError,
    RunSessionService,
    RunStillRunningError,
    SchemaTooNewError,
)
from monocycle_nash.runmeta.db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    MigrationStep,
    SQLiteConnectionFactory,
    migrate,
    schema_version,
)
from monocycle_nash.runmeta.process import ProcessIdentity
from monocycle_nash.runmeta.repair import check_consistency, rebuild_database
from monocycle_nash.runmeta.repositories import RunsRepository
from tests.runmeta.backend_support import Backend

T0 = "2026-02-14T19:30:12+09:00"
PROCESS = ProcessIdentity("testhost", 4242, "boot:77", "2026-02-14T19:00:00+09:00")


def _open(backend: Backend) -> RunSessionService:
    return backend.open_service(
        clock=FixedClock(T0, 1),
        git_probe=lambda: None,
        process_identity=lambda: PROCESS,
    )


@pytest.fixture
def service(backend: Backend) -> Iterator[RunSessionService]:
    """A service on a fresh project root, with pinned clock and process."""
    with _open(backend) as opened:
        yield opened


def _sweep(service: RunSessionService, cases: int = 3) -> tuple[int, list[int]]:
    """A finished parent run (id 1) and its finished children (ids 2, 3, ...)."""
    parent = service.start("monocycle-nash --sweep sweep.toml", note="sweep")
    children = []
    for index in range(cases):
        child = service.start(f"case {index}", note=f"case {index}", parent_run_id=parent.run_id)
        service.finish_success(child)
        children.append(child.run_id)
    service.finish_success(parent)
    return parent.run_id, children


def _meta(service: RunSessionService, run_id: int) -> dict[str, object]:
    data = json.loads(service.store.meta_path(run_id).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# --- schema version 4 -------------------------------------------------------------------


def _old_database(path: Path, version: int) -> list[tuple[object, ...]]:
    """A database left at ``version`` holding a project and two runs; return its rows."""
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA journal_mode = WAL")
        migrate(raw, steps=MIGRATIONS[:version])
        raw.execute(
            "INSERT INTO projects (project_id, project_path, created_at) VALUES ('p', '/p', ?)",
            (T0,),
        )
        columns = "created_at, started_at, ended_at, status, command, note, project_id, updated_at"
        values = "?, ?, ?, ?, 'old run', 'kept', ?, ?"
        if version >= 3:  # the process and the reason came with version 3
            columns += ", host, pid, process_start, reason"
            values += ", 'lab', 7, 'b:1', 'stopped'"
        sql = f"INSERT INTO runs ({columns}) VALUES ({values})"  # noqa: S608 - fixed text
        for status, project in (("success", "p"), ("killed", None)):
            raw.execute(sql, (T0, T0, T0, status, project, T0))
        assert schema_version(raw) == version
        return [tuple(row) for row in raw.execute("SELECT * FROM runs ORDER BY run_id")]
    finally:
        raw.close()


@pytest.mark.parametrize("version", [pytest.param(2, id="v2"), pytest.param(3, id="v3")])
def test_old_database_is_upgraded_with_its_rows_kept_and_no_parent(
    tmp_path: Path, version: int
) -> None:
    """A version 2 or 3 database reaches the current version; rows stay, parent_run_id NULL."""
    db = tmp_path / "old.db"
    before = _old_database(db, version)
    conn = SQLiteConnectionFactory(db).connect()
    try:
        assert schema_version(conn) == SCHEMA_VERSION >= 4
        rows = [tuple(row) for row in conn.execute("SELECT * FROM runs ORDER BY run_id")]
        added = (None,) * (6 if version == 2 else 1)  # v3's columns too from version 2
        assert rows == [(*row, *added) for row in before]
        runs = RunsRepository(conn)
        assert [run.parent_run_id for run in runs.list_runs()] == [None, None]
        assert runs.get(1).project_path == "/p"
        # The new column works at once: a child of an old run, and its refusal.
        child = runs.create_running("child", None, "", None, T0, T0, T0, parent_run_id=1)
        assert runs.get(child).parent_run_id == 1
        assert runs.list_children(1) == [runs.get(child)]
        with pytest.raises(ParentRunNotFoundError):
            runs.create_running("lost", None, "", None, T0, T0, T0, parent_run_id=99)
    finally:
        conn.close()


def test_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    """A database one version newer than the code is refused, untouched, naming both versions."""
    db = tmp_path / "new.db"
    newer = SCHEMA_VERSION + 1
    with closing(sqlite3.connect(db)) as raw:
        raw.execute(f"PRAGMA user_version = {newer}")
    with pytest.raises(
        SchemaTooNewError, match=f"schema version {newer}, newer than the supported"
    ):
        SQLiteConnectionFactory(db).connect()
    with closing(sqlite3.connect(db)) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == newer


def test_a_failing_version_4_step_leaves_version_3(tmp_path: Path) -> None:
    """Step 4 and its version bump commit together: a failure leaves version 3 as it was."""
    db = tmp_path / "v3.db"
    before = _old_database(db, 3)
    broken = MigrationStep(
        4, "step 4, then a failure", (*MIGRATIONS[3].statements, "SELECT no_such_function()")
    )
    with closing(sqlite3.connect(db, isolation_level=None)) as raw:
        with pytest.raises((sqlite3.Error, DatabaseError)):
            migrate(raw, steps=(*MIGRATIONS[:3], broken))
        assert schema_version(raw) == 3
        columns = [row[1] for row in raw.execute("PRAGMA table_info(runs)")]
        assert "parent_run_id" not in columns
        assert [tuple(row) for row in raw.execute("SELECT * FROM runs ORDER BY run_id")] == before


# --- starting a child ---------------------------------------------------------------------


def test_start_with_a_parent_stores_it_in_the_row_and_meta(service: RunSessionService) -> None:
    """The child's row, its context and its meta.json name the parent; the parent's say none."""
    parent = service.start("sweep")
    child = service.start("case", parent_run_id=parent.run_id)
    assert child.parent_run_id == parent.run_id
    assert parent.parent_run_id is None
    assert service.runs.get(child.run_id).parent_run_id == parent.run_id
    assert _meta(service, child.run_id)["parent_run_id"] == parent.run_id
    assert _meta(service, parent.run_id)["parent_run_id"] is None
    service.finish_fail(child, "bad case")
    service.finish_success(parent)
    assert _meta(service, child.run_id)["parent_run_id"] == parent.run_id
    assert check_consistency(service).consistent


def test_record_with_a_parent_makes_a_child(service: RunSessionService) -> None:
    """record(..., parent_run_id=) makes a child that ends like any run."""
    with (
        service.record("sweep", handle_sigterm=False) as parent,
        service.record("case", parent_run_id=parent.run_id, handle_sigterm=False) as child,
    ):
        (child.output_dir / "answer.txt").write_text("1\n")
    record = service.runs.get(child.run_id)
    assert (record.status, record.parent_run_id) == ("success", parent.run_id)
    assert (child.run_dir / "output" / "answer.txt").is_file()


def test_unknown_parent_is_refused_with_nothing_recorded(service: RunSessionService) -> None:
    """A child of a run id that does not exist: one-line RunMetaError, no row, no folder."""
    with pytest.raises(ParentRunNotFoundError) as caught:
        service.start("case", parent_run_id=7)
    assert str(caught.value) == "parent run 7 not found; no run was started"
    assert isinstance(caught.value, RunNotFoundError)
    assert caught.value.failed_run_id is None
    assert service.runs.count_runs() == 0
    assert not service.store.result_root.exists() or not any(service.store.result_root.iterdir())


def test_end_the_database_missed_keeps_the_parent_in_meta(
    service: RunSessionService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """meta.json written without the database (locked at the end) still names the parent."""
    parent = service.start("sweep")
    child = service.start("case", parent_run_id=parent.run_id)

    def locked(*_args: object, **_kwargs: object) -> None:
        raise DatabaseLockedError("run_history.db", 30)

    monkeypatch.setattr(RunsRepository, "finish_running", locked)
    with pytest.raises(DatabaseWriteError):
        service.finish_success(child)
    meta = _meta(service, child.run_id)
    assert (meta["status"], meta["parent_run_id"]) == ("success", parent.run_id)


# --- listing ------------------------------------------------------------------------------


def test_children_are_listed_and_counted_ids_ascending(service: RunSessionService) -> None:
    """list_children gives the direct children by id; count_children their number."""
    parent, children = _sweep(service)
    grandchild = service.start("inner", parent_run_id=children[0])
    other = service.start("unrelated")
    runs = service.runs
    assert [run.run_id for run in runs.list_children(parent)] == children
    assert runs.count_children(parent) == 3
    assert [run.run_id for run in runs.list_children(children[0])] == [grandchild.run_id]
    assert runs.list_children(other.run_id) == []
    assert runs.count_children(other.run_id) == 0
    assert runs.count_children(999) == 0


def test_list_runs_filters_by_parent_with_the_other_filters(service: RunSessionService) -> None:
    """parent_run_id keeps one parent's children, newest first, and combines with status."""
    parent, children = _sweep(service)
    failed = service.start("case failed", parent_run_id=parent)
    service.finish_fail(failed, "bad")
    service.start("unrelated")
    runs = service.runs
    listed = runs.list_runs(parent_run_id=parent)
    assert [run.run_id for run in listed] == [failed.run_id, *reversed(children)]
    assert [run.run_id for run in runs.list_runs(status="fail", parent_run_id=parent)] == [
        failed.run_id
    ]
    assert runs.count_runs(parent_run_id=parent) == 4
    assert runs.count_runs(status="success", parent_run_id=parent) == 3
    assert runs.list_runs(parent_run_id=parent, limit=1)[0].run_id == failed.run_id


def test_meta_json_of_a_run_recorded_before_parents_agrees(service: RunSessionService) -> None:
    """A meta.json without parent_run_id (an older run) reads as no parent: not stale."""
    ctx = service.start("old run")
    service.finish_success(ctx)
    meta = _meta(service, ctx.run_id)
    del meta["parent_run_id"]
    service.store.meta_path(ctx.run_id).write_text(json.dumps(meta), encoding="utf-8")
    assert check_consistency(service).consistent


def test_meta_json_naming_another_parent_is_stale_and_repaired(service: RunSessionService) -> None:
    """A meta.json whose parent disagrees with the row is stale-meta; repair takes the row's."""
    parent, children = _sweep(service, cases=1)
    path = service.store.meta_path(children[0])
    meta = _meta(service, children[0])
    meta["parent_run_id"] = None
    path.write_text(json.dumps(meta), encoding="utf-8")
    report = check_consistency(service)
    assert [(f.run_id, f.kind) for f in report.findings] == [(children[0], "stale-meta")]
    assert "parent_run_id" in report.findings[0].detail
    assert check_consistency(service, repair=True).findings[0].repaired
    assert _meta(service, children[0])["parent_run_id"] == parent


# --- deleting -----------------------------------------------------------------------------


def test_a_parent_row_cannot_be_deleted_under_its_children(service: RunSessionService) -> None:
    """The foreign key itself refuses to delete a parent row a child names (RESTRICT)."""
    parent, _ = _sweep(service, cases=1)
    with pytest.raises(DatabaseError, match=r"(?i)foreign key"):
        service.runs.delete(parent)
    assert service.runs.find_by_id(parent) is not None


def test_deleting_a_parent_alone_is_refused_with_nothing_deleted(
    service: RunSessionService,
) -> None:
    """Without with_children: RunHasChildrenError, one line naming them; rows and folders stay."""
    parent, children = _sweep(service)
    with pytest.raises(RunHasChildrenError) as caught:
        service.edits.delete_run(parent, with_files=True)
    assert str(caught.value) == (
        "run 1 has 3 child runs (2, 3, 4); nothing deleted (give --children to delete them"
        " first, or delete them one by one)"
    )
    assert service.runs.count_runs() == 4
    assert all(service.store.run_dir(run_id).is_dir() for run_id in (parent, *children))


def test_deleting_with_children_removes_every_descendant_then_the_parent(
    service: RunSessionService,
) -> None:
    """with_children deletes children (a child's own children first), then the parent."""
    parent, children = _sweep(service, cases=2)
    grandchild = service.start("inner", parent_run_id=children[0])
    service.finish_success(grandchild)
    deleted = service.edits.delete_run(parent, with_files=True, with_children=True)
    assert [run.record.run_id for run in deleted.children] == [
        grandchild.run_id,
        children[0],
        children[1],
    ]
    assert deleted.record.run_id == parent
    assert deleted.removed == (str(service.store.run_dir(parent)),)
    assert [run.removed for run in deleted.children] == [
        (str(service.store.run_dir(run_id)),)
        for run_id in (grandchild.run_id, children[0], children[1])
    ]
    assert service.runs.count_runs() == 0
    assert list(service.store.result_root.iterdir()) == []


def test_a_running_child_refuses_the_whole_deletion_first(service: RunSessionService) -> None:
    """A running child without force is found before anything is deleted."""
    parent = service.start("sweep")
    done = service.start("case 1", parent_run_id=parent.run_id)
    service.finish_success(done)
    service.start("case 2", parent_run_id=parent.run_id)
    service.finish_success(parent)
    with pytest.raises(RunStillRunningError, match="run 3 is still running"):
        service.edits.delete_run(parent.run_id, with_files=True, with_children=True)
    assert service.runs.count_runs() == 3
    deleted = service.edits.delete_run(
        parent.run_id, with_files=True, with_children=True, force=True
    )
    assert [run.record.run_id for run in deleted.children] == [2, 3]


def test_a_failure_midway_keeps_the_parent_and_names_what_went(
    service: RunSessionService,
) -> None:
    """A child that cannot be deleted stops the deletion; the error lists the children gone."""
    parent, children = _sweep(service)
    # Child 3's folder now holds another run's meta.json: never removed without leave.
    path = service.store.meta_path(children[1])
    meta = _meta(service, children[1])
    meta["created_at"] = "2020-01-01T00:00:00+09:00"
    path.write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ChildDeletionStoppedError) as caught:
        service.edits.delete_run(parent, with_files=True, with_children=True)
    message = str(caught.value)
    assert message.startswith("deleted 1 child run of run 1 (2), then stopped at run 3: ")
    assert "run 1 is still in the database" in message
    assert "\n" not in message
    assert caught.value.deleted == (2,)
    assert [run.run_id for run in service.runs.list_runs()] == [4, 3, 1]
    assert not service.store.run_dir(2).exists()
    assert service.store.run_dir(3).is_dir() and service.store.run_dir(4).is_dir()


def test_a_child_alone_is_deleted_like_any_run(service: RunSessionService) -> None:
    """Deleting one child leaves its parent and siblings; the parent lists one fewer."""
    parent, children = _sweep(service)
    deleted = service.edits.delete_run(children[1], with_files=True)
    assert (deleted.record.parent_run_id, deleted.children) == (parent, ())
    assert [run.run_id for run in service.runs.list_children(parent)] == [2, 4]
    assert not service.store.run_dir(children[1]).exists()


def test_with_children_on_a_run_without_children_deletes_it_alone(
    service: RunSessionService,
) -> None:
    """with_children on an ordinary run is an ordinary deletion."""
    ctx = service.start("plain")
    service.finish_success(ctx)
    deleted = service.edits.delete_run(ctx.run_id, with_children=True)
    assert (deleted.record.run_id, deleted.children) == (ctx.run_id, ())
    assert service.store.run_dir(ctx.run_id).is_dir()  # without with_files the folder stays


# --- orphans: check and rebuild -------------------------------------------------------------


def _orphan(service: RunSessionService, backend: Backend) -> tuple[int, list[int]]:
    """A sweep whose parent row was deleted by hand with foreign keys off."""
    parent, children = _sweep(service, cases=2)
    backend.delete_run_row_unchecked(parent)
    return parent, children


def test_check_reports_a_child_whose_parent_is_gone_and_repair_leaves_it(
    service: RunSessionService, backend: Backend
) -> None:
    """orphan-child: reported for each child, not repairable, left by --repair."""
    parent, children = _orphan(service, backend)
    assert service.runs.orphan_children() == [(run_id, parent) for run_id in children]
    for repair in (False, True):
        report = check_consistency(service, repair=repair)
        orphans = [f for f in report.findings if f.kind == "orphan-child"]
        assert [(f.run_id, f.state) for f in orphans] == [(run_id, "left") for run_id in children]
        assert orphans[0].detail.startswith("its parent run 1 is not in the database")
        assert orphans[0].to_dict() == {
            "run_id": children[0],
            "kind": "orphan-child",
            "detail": orphans[0].detail,
            "repairable": False,
            "repaired": False,
        }
    assert [run.parent_run_id for run in service.runs.list_runs()] == [parent, parent]
    # An orphan is still edited and deleted like any run (its key is not checked again).
    service.edits.update_run(children[0], note="kept")
    service.edits.delete_run(children[0], with_files=True)
    assert service.runs.orphan_children() == [(children[1], parent)]


@pytest.mark.backends("sqlite")  # rebuild makes an SQLite file from the run folders
def test_rebuild_restores_parents_and_keeps_a_lost_parent(backend: Backend, tmp_path: Path) -> None:
    """rebuild brings parent_run_id back; a child of a skipped parent keeps it, with a note."""
    with _open(backend) as service:
        parent, children = _sweep(service, cases=2)
        service.store.meta_path(parent).write_text("{damaged", encoding="utf-8")
    db = tmp_path / ".runmeta" / "run_history.db"
    report = rebuild_database(tmp_path / "result", db, move_aside=True)
    assert report.runs == tuple(children)
    assert report.notes == (
        "run(s) 2, 3 name parent run 1, which was not restored; they keep it (runmeta check"
        " lists them as orphan-child)",
    )
    with _open(backend) as service:
        assert [run.parent_run_id for run in service.runs.list_runs()] == [parent, parent]
        kinds = [(f.run_id, f.kind) for f in check_consistency(service).findings]
        assert kinds == [(1, "orphan-folder"), (2, "orphan-child"), (3, "orphan-child")]


@pytest.mark.backends("sqlite")  # rebuild makes an SQLite file from the run folders
def test_rebuild_of_a_whole_sweep_is_consistent(backend: Backend, tmp_path: Path) -> None:
    """A rebuilt sweep has the same parents and nothing for check to say."""
    with _open(backend) as service:
        _sweep(service)
        before = service.runs.list_runs()
    db = tmp_path / ".runmeta" / "run_history.db"
    report = rebuild_database(tmp_path / "result", db, move_aside=True)
    assert report.notes == ()
    with _open(backend) as service:
        assert service.runs.list_runs() == before
        assert check_consistency(service).consistent


@pytest.mark.backends("sqlite")  # rebuild makes an SQLite file from the run folders
def test_rebuild_skips_a_meta_json_with_an_impossible_parent(
    backend: Backend, tmp_path: Path
) -> None:
    """A parent_run_id that is not an earlier run's id is not restored, and said why."""
    with _open(backend) as service:
        ctx: RunContext = service.start("run")
        service.finish_success(ctx)
        meta = _meta(service, ctx.run_id)
        meta["parent_run_id"] = ctx.run_id
        service.store.meta_path(ctx.run_id).write_text(json.dumps(meta), encoding="utf-8")
        service.finish_success(service.start("second"))
    db = tmp_path / ".runmeta" / "run_history.db"
    report = rebuild_database(tmp_path / "result", db, move_aside=True)
    assert report.runs == (2,)
    assert report.skipped[0][0] == 1
    assert report.skipped[0][1].endswith("parent_run_id 1 is not the id of an earlier run")
