"""Run figures (schema version 5): checks, storage, the run's end, meta.json, edits, rebuild."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from monocycle_nash.runmeta.clock import FixedClock
from monocycle_nash.runmeta.db import (
    MIGRATIONS,
    SCHEMA_VERSION,
    MigrationStep,
    SQLiteConnectionFactory,
    migrate,
    schema_version,
    transaction,
)
from monocycle_nash.runmeta.errors import (
    DatabaseError,
    DatabaseLockedError,
    DatabaseWriteError,
    InvalidMetricError,
    RunNotFoundError,
)
from monocycle_nash.runmeta.metrics import checked_metrics, is_metric_key, metric_problem
from monocycle_nash.runmeta.repair import rebuild_database
from monocycle_nash.runmeta.repositories import RunsRepository
from monocycle_nash.runmeta.service import RunSessionService
from tests.runmeta.backend_support import Backend

T0 = "2026-02-14T19:30:12+09:00"


@pytest.fixture
def conn(backend: Backend) -> Iterator[sqlite3.Connection]:
    """A migrated database holding two runs (ids 1 and 2)."""
    with backend.connect() as connection:
        runs = RunsRepository(connection)
        for command in ("first", "second"):
            runs.create_running(command, None, "", None, T0, T0, T0)
        yield connection


@pytest.fixture
def service(backend: Backend) -> Iterator[RunSessionService]:
    """A service on the backend's database (root tmp_path), with a pinned clock and commit."""
    with backend.open_service(clock=FixedClock(T0, step=1), git_probe=lambda: "abc123") as opened:
        yield opened


def _meta(service: RunSessionService, run_id: int) -> dict[str, Any]:
    data = json.loads(service.store.meta_path(run_id).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# --- keys and values ------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("support_size", id="snake"),
        pytest.param("a", id="one-letter"),
        pytest.param("team.size-2", id="dot-dash-digit"),
        pytest.param("x" * 64, id="64-characters"),
    ],
)
def test_valid_keys(key: str) -> None:
    """Keys are 1-64 ASCII letters, digits, _, . or -."""
    assert is_metric_key(key)
    assert metric_problem(key, 1) is None


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * 65, id="65-characters"),
        pytest.param("support size", id="space"),
        pytest.param("値", id="not-ascii"),
        pytest.param("a=b", id="operator"),
        pytest.param(3, id="not-text"),
    ],
)
def test_invalid_keys(key: object) -> None:
    """Any other key is refused with a line naming it."""
    assert not is_metric_key(key)
    problem = metric_problem(key, 1)
    assert problem is not None and repr(key) in problem


@pytest.mark.parametrize(
    ("value", "words"),
    [
        pytest.param(math.nan, "not a finite number", id="nan"),
        pytest.param(math.inf, "not a finite number", id="inf"),
        pytest.param(2**63, "64-bit", id="too-large-int"),
        pytest.param([1, 2], "a list is not", id="list"),
        pytest.param({"a": 1}, "a dict is not", id="dict"),
        pytest.param(b"x", "a bytes is not", id="bytes"),
    ],
)
def test_invalid_values(value: object, words: str) -> None:
    """NaN, infinities, huge integers and containers cannot be stored."""
    problem = metric_problem("x", value)
    assert problem is not None and words in problem


def test_checked_metrics_keeps_the_good_and_names_the_bad() -> None:
    """checked_metrics splits figures into storable ones and one line per refused one."""
    kept, problems = checked_metrics(
        {
            "support_size": 3,
            "value": -0.5,
            "ok": True,
            "solver": "lp",
            "none": None,
            "bad": math.nan,
        }
    )
    assert kept == {"support_size": 3, "value": -0.5, "ok": True, "solver": "lp", "none": None}
    assert problems == ["metric 'bad': nan is not a finite number"]


# --- the repository -----------------------------------------------------------------------


def test_values_round_trip_with_their_types(conn: sqlite3.Connection) -> None:
    """int, float, str, bool and None come back as they went in (3 stays 3, 3.0 stays 3.0)."""
    runs = RunsRepository(conn)
    figures = {
        "int": 3,
        "float": 3.0,
        "negative": -0.25,
        "big": 2**62,
        "text": "double oracle",
        "yes": True,
        "no": False,
        "none": None,
        "true-text": "true",
    }
    runs.set_metrics(1, figures)
    stored = runs.metrics(1)
    assert stored == figures
    assert list(stored) == sorted(figures)  # keys ascending
    for key, value in figures.items():
        assert type(stored[key]) is type(value), key
    assert runs.metrics(2) == {}


@pytest.mark.backends("sqlite")  # SQLite's storage: typeof() of a column without affinity
def test_booleans_fill_both_columns(conn: sqlite3.Connection) -> None:
    """A boolean is stored as 0/1 and 'false'/'true'; only booleans have both."""
    RunsRepository(conn).set_metrics(1, {"yes": True, "n": 1, "t": "true"})
    rows = conn.execute(
        "SELECT key, number, text, typeof(number) FROM run_metrics ORDER BY key"
    ).fetchall()
    assert [tuple(row) for row in rows] == [
        ("n", 1, None, "integer"),
        ("t", None, "true", "null"),
        ("yes", 1, "true", "integer"),
    ]


def test_set_metrics_replaces_per_key_or_all(conn: sqlite3.Connection) -> None:
    """A key's new value replaces the old; replace=True drops the run's other figures."""
    runs = RunsRepository(conn)
    runs.set_metrics(1, {"a": 1, "b": 2})
    runs.set_metrics(1, {"b": 3, "c": 4})
    assert runs.metrics(1) == {"a": 1, "b": 3, "c": 4}
    runs.set_metrics(1, {"d": 5}, replace=True)
    assert runs.metrics(1) == {"d": 5}


def test_set_metrics_refuses_bad_figures_and_unknown_runs(conn: sqlite3.Connection) -> None:
    """A bad key or value raises InvalidMetricError before anything is written; run 9 is unknown."""
    runs = RunsRepository(conn)
    with pytest.raises(InvalidMetricError, match="not a finite number"):
        runs.set_metrics(1, {"good": 1, "bad": math.inf})
    assert runs.metrics(1) == {}
    with pytest.raises(RunNotFoundError):
        runs.set_metrics(9, {"a": 1})


@pytest.mark.backends("sqlite")  # counted with SQLite's trace callback
def test_metrics_of_reads_many_runs_in_one_query(conn: sqlite3.Connection) -> None:
    """metrics_of returns {run_id: figures} for the runs that have any, in one SELECT."""
    runs = RunsRepository(conn)
    runs.set_metrics(1, {"a": 1, "b": "x"})
    runs.set_metrics(2, {"a": 2})
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        found = runs.metrics_of([2, 1, 7, 2])
    finally:
        conn.set_trace_callback(None)
    assert found == {1: {"a": 1, "b": "x"}, 2: {"a": 2}}
    assert len(statements) == 1
    assert runs.metrics_of([]) == {}


def test_iter_listing_brings_reason_and_figures(conn: sqlite3.Connection) -> None:
    """iter_listing yields (record, reason, metrics) newest first, in batches."""
    runs = RunsRepository(conn)
    runs.finish(1, "fail", T0, T0, reason="ValueError: bad input\nmore")
    runs.set_metrics(2, {"support_size": 3})
    listed = list(runs.iter_listing())
    assert [(item.record.run_id, item.reason, item.metrics) for item in listed] == [
        (2, None, {"support_size": 3}),
        (1, "ValueError: bad input\nmore", {}),
    ]
    without = list(runs.iter_listing(with_metrics=False))
    assert [item.metrics for item in without] == [{}, {}]


def test_figures_go_with_their_run(conn: sqlite3.Connection) -> None:
    """Deleting a run deletes its figures (ON DELETE CASCADE); others stay."""
    runs = RunsRepository(conn)
    runs.set_metrics(1, {"a": 1})
    runs.set_metrics(2, {"a": 2})
    with transaction(conn):
        runs.delete(1)
    rows = conn.execute("SELECT run_id, key FROM run_metrics").fetchall()
    assert [tuple(row) for row in rows] == [(2, "a")]


@pytest.mark.backends("sqlite")  # SQLite's CHECK constraints on a column without affinity
def test_the_schema_refuses_what_the_encoding_forbids(conn: sqlite3.Connection) -> None:
    """number holds only numbers; a row with both columns must be a boolean."""
    for number, text in (("3", None), (2, "true"), (1, "yes")):
        with pytest.raises(DatabaseError, match="CHECK constraint failed"):
            conn.execute(
                "INSERT INTO run_metrics (run_id, key, number, text) VALUES (1, 'k', ?, ?)",
                (number, text),
            )


# --- the schema and its migration ---------------------------------------------------------


def _indexes(conn: sqlite3.Connection, table: str) -> dict[str, list[str]]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND name NOT LIKE 'sqlite_%'",
        (table,),
    ).fetchall()
    return {
        row[0]: [info[2] for info in conn.execute(f"PRAGMA index_info({row[0]})")] for row in rows
    }


@pytest.mark.backends("sqlite")  # SQLite's schema (PRAGMA table_info, index_info)
def test_schema_version_5_has_the_figures_table(conn: sqlite3.Connection) -> None:
    """run_metrics: its columns, primary key, foreign key (CASCADE) and search indexes."""
    assert SCHEMA_VERSION == len(MIGRATIONS) >= 5
    columns = [(row[1], row[2], row[5]) for row in conn.execute("PRAGMA table_info(run_metrics)")]
    assert columns == [
        ("run_id", "INTEGER", 1),
        ("key", "TEXT", 2),
        ("number", "", 0),
        ("text", "TEXT", 0),
    ]
    keys = [
        (fk["from"], fk["table"], fk["to"], fk["on_delete"])
        for fk in conn.execute("PRAGMA foreign_key_list(run_metrics)")
    ]
    assert keys == [("run_id", "runs", "run_id", "CASCADE")]
    assert _indexes(conn, "run_metrics") == {
        "idx_run_metrics_key_number": ["key", "number"],
        "idx_run_metrics_key_text": ["key", "text"],
    }


def _old_database(path: Path, version: int) -> list[tuple[object, ...]]:
    """A database left at ``version`` with a project and two runs; return its runs rows."""
    with closing(sqlite3.connect(path, isolation_level=None)) as raw:
        raw.execute("PRAGMA journal_mode = WAL")
        migrate(raw, steps=MIGRATIONS[:version])
        raw.execute(
            "INSERT INTO projects (project_id, project_path, created_at) VALUES ('p', '/p', ?)",
            (T0,),
        )
        for status, project in (("success", "p"), ("fail", None)):
            raw.execute(
                "INSERT INTO runs (created_at, started_at, ended_at, status, command, note,"
                " project_id, updated_at) VALUES (?1, ?1, ?1, ?2, 'old run', 'kept', ?3, ?1)",
                (T0, status, project),
            )
        assert schema_version(raw) == version
        return [tuple(row) for row in raw.execute("SELECT * FROM runs ORDER BY run_id")]


@pytest.mark.parametrize("version", [pytest.param(2, id="v2"), pytest.param(4, id="v4")])
def test_old_database_is_upgraded_with_its_rows_kept(tmp_path: Path, version: int) -> None:
    """A version 2 or 4 database reaches version 5: rows kept, no figures, figures work at once."""
    db = tmp_path / "old.db"
    before = _old_database(db, version)
    conn = SQLiteConnectionFactory(db).connect()
    try:
        assert schema_version(conn) == SCHEMA_VERSION == 5
        rows = [tuple(row) for row in conn.execute("SELECT * FROM runs ORDER BY run_id")]
        added = (None,) * (6 if version == 2 else 0)  # v3's and v4's columns from version 2
        assert rows == [(*row, *added) for row in before]
        runs = RunsRepository(conn)
        assert [item.metrics for item in runs.iter_listing()] == [{}, {}]
        runs.set_metrics(1, {"support_size": 3})
        assert runs.metrics(1) == {"support_size": 3}
        assert runs.get(1).project_path == "/p"
    finally:
        conn.close()


def test_a_failing_version_5_step_leaves_version_4(tmp_path: Path) -> None:
    """Step 5 and its version bump commit together: a failure leaves version 4 untouched."""
    db = tmp_path / "v4.db"
    before = _old_database(db, 4)
    broken = MigrationStep(
        5, "step 5, then a failure", (*MIGRATIONS[4].statements, "SELECT no_such_function()")
    )
    with closing(sqlite3.connect(db, isolation_level=None)) as raw:
        with pytest.raises((sqlite3.Error, DatabaseError)):
            migrate(raw, steps=(*MIGRATIONS[:4], broken))
        assert schema_version(raw) == 4
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert "run_metrics" not in tables
        assert [tuple(row) for row in raw.execute("SELECT * FROM runs ORDER BY run_id")] == before


# --- a run's end --------------------------------------------------------------------------


def test_record_stores_figures_in_the_database_and_meta(service: RunSessionService) -> None:
    """run.metrics set inside record() reach run_metrics and meta.json's "metrics"."""
    with service.record("python solve.py", note="rps") as run:
        run.metrics["support_size"] = 3
        run.metrics["value"] = 0.0
        run.metrics["solver"] = "monocycle"
        run.metrics["converged"] = True
    expected = {"converged": True, "solver": "monocycle", "support_size": 3, "value": 0.0}
    assert service.runs.metrics(run.run_id) == expected
    meta = _meta(service, run.run_id)
    assert meta["metrics"] == expected
    assert meta["warnings"] == []
    assert "metrics" not in meta or meta["metrics"] is not run.metrics


def test_a_bad_figure_is_a_warning_not_a_failure(
    service: RunSessionService, capsys: pytest.CaptureFixture[str]
) -> None:
    """NaN and a bad key are left out with warnings (stderr, log, meta.json); the run succeeds."""
    with service.record("python solve.py") as run:
        run.metrics["value"] = math.nan
        run.metrics["bad key"] = 1
        run.metrics["support_size"] = 2
    assert service.runs.get(run.run_id).status == "success"
    assert service.runs.metrics(run.run_id) == {"support_size": 2}
    meta = _meta(service, run.run_id)
    assert meta["metrics"] == {"support_size": 2}
    assert meta["warnings"] == [
        "metric 'value': nan is not a finite number; not stored",
        "metric key 'bad key' is not 1-64 letters, digits, '_', '.' or '-'; not stored",
    ]
    err = capsys.readouterr().err
    assert f"runmeta: warning: run {run.run_id}: metric 'value': nan" in err
    assert "nan is not a finite number" in (run.logs_dir / "stderr.log").read_text()


def test_a_failed_run_keeps_the_figures_it_reported(service: RunSessionService) -> None:
    """Figures set before an exception are stored with the 'fail' end."""
    with pytest.raises(RuntimeError), service.record("python solve.py") as run:
        run.metrics["iterations"] = 41
        raise RuntimeError("diverged")
    assert service.runs.get(run.run_id).status == "fail"
    assert service.runs.metrics(run.run_id) == {"iterations": 41}
    assert _meta(service, run.run_id)["metrics"] == {"iterations": 41}


def test_a_run_without_figures_has_empty_metrics(service: RunSessionService) -> None:
    """meta.json always says "metrics" once the run ended: {} when it reported none."""
    with service.record("python solve.py") as run:
        pass
    assert _meta(service, run.run_id)["metrics"] == {}
    assert service.runs.metrics(run.run_id) == {}


def test_extra_cannot_overwrite_the_figures(service: RunSessionService) -> None:
    """extra["metrics"] is a reserved name: ignored; the figures come from the database."""
    with service.record("python solve.py") as run:
        run.extra["metrics"] = {"forged": 1}
        run.metrics["real"] = 1
    assert _meta(service, run.run_id)["metrics"] == {"real": 1}


def test_later_edits_keep_the_figures_in_meta(service: RunSessionService) -> None:
    """update_run rewrites meta.json from the row and keeps its figures."""
    with service.record("python solve.py") as run:
        run.metrics["support_size"] = 3
    service.edits.update_run(run.run_id, note="checked")
    meta = _meta(service, run.run_id)
    assert (meta["note"], meta["metrics"]) == ("checked", {"support_size": 3})


def test_set_metrics_adds_figures_to_an_ended_run(service: RunSessionService) -> None:
    """RunEditor.set_metrics stores figures later, rewrites meta.json, and returns them all."""
    with service.record("python solve.py") as run:
        run.metrics["support_size"] = 3
    updated_before = service.runs.get(run.run_id).updated_at
    stored = service.edits.set_metrics(run.run_id, {"exploitability": 1e-12})
    assert stored == {"exploitability": 1e-12, "support_size": 3}
    assert _meta(service, run.run_id)["metrics"] == stored
    assert service.runs.get(run.run_id).updated_at == updated_before
    assert service.edits.set_metrics(run.run_id, {}, replace=True) == {}
    assert _meta(service, run.run_id)["metrics"] == {}
    with pytest.raises(InvalidMetricError):
        service.edits.set_metrics(run.run_id, {"x": math.inf})
    with pytest.raises(RunNotFoundError):
        service.edits.set_metrics(99, {"x": 1})


def test_deleting_a_run_deletes_its_figures(service: RunSessionService) -> None:
    """delete_run removes the run's run_metrics rows with the row."""
    with service.record("python solve.py") as run:
        run.metrics["support_size"] = 3
    service.edits.delete_run(run.run_id, with_files=True)
    count = service.connection.execute("SELECT count(*) FROM run_metrics").fetchone()[0]
    assert count == 0


def test_an_end_the_database_missed_keeps_its_figures_until_reap(
    service: RunSessionService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A locked database at the end: meta.json holds the figures, and the repair records them."""
    ctx = service.start("python solve.py")
    ctx.metrics["support_size"] = 3

    def locked(*_: object, **__: object) -> None:
        raise DatabaseLockedError(tmp_path / "db", 30.0)

    with monkeypatch.context() as patch:
        patch.setattr(RunsRepository, "finish_running", locked)
        with pytest.raises(DatabaseWriteError):
            service.finish_success(ctx)
    assert service.runs.get(ctx.run_id).status == "running"
    assert service.runs.metrics(ctx.run_id) == {}
    assert _meta(service, ctx.run_id)["metrics"] == {"support_size": 3}
    service.edits.record_end_from_meta(ctx.run_id, found_by="reap")
    assert service.runs.get(ctx.run_id).status == "success"
    assert service.runs.metrics(ctx.run_id) == {"support_size": 3}


def test_figures_only_meta_json_holds_are_kept_by_rewrites(service: RunSessionService) -> None:
    """A rewrite of meta.json from a row without figures keeps the file's (not erased)."""
    with service.record("python solve.py") as run:
        pass
    meta_path = service.store.meta_path(run.run_id)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["metrics"] = {"support_size": 2}
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    service.edits.sync_meta(run.run_id)
    assert _meta(service, run.run_id)["metrics"] == {"support_size": 2}


@pytest.mark.backends("sqlite")  # rebuild makes an SQLite file from the run folders
def test_rebuild_restores_the_figures_from_meta(service: RunSessionService, tmp_path: Path) -> None:
    """rebuild_database fills run_metrics from each meta.json's "metrics"."""
    with service.record("python solve.py") as first:
        first.metrics.update(support_size=3, value=0.5, solver="lp", ok=True, nothing=None)
    with service.record("python solve.py") as second:
        pass
    meta_path = service.store.meta_path(second.run_id)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["metrics"] = {"support_size": 1, "bad": "x", "broken key": 2}
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    service.close()
    rebuilt = tmp_path / "rebuilt.db"
    report = rebuild_database(service.store.result_root, rebuilt)
    assert any("broken key" in note and "not restored" in note for note in report.notes)
    with closing(SQLiteConnectionFactory(rebuilt).connect()) as conn:
        runs = RunsRepository(conn)
        assert runs.metrics(first.run_id) == {
            "nothing": None,
            "ok": True,
            "solver": "lp",
            "support_size": 3,
            "value": 0.5,
        }
        assert runs.metrics(second.run_id) == {"bad": "x", "support_size": 1}


def test_a_database_migrated_meanwhile_is_not_taken_for_another_programs(
    tmp_path: Path,
) -> None:
    """Read as version 0 while another process migrated it: run_metrics is ours, not foreign.

    (Four threads creating one database at once read the version, then the tables, in
    two statements; the tables may already be those of the last version.)
    """
    from monocycle_nash.runmeta.db import _refuse_other_schema  # noqa: PLC0415

    db = tmp_path / "run_history.db"
    SQLiteConnectionFactory(db).connect().close()
    with closing(sqlite3.connect(db)) as raw:
        _refuse_other_schema(raw, db, 0)  # no error
