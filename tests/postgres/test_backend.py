"""The PostgreSQL backend in-process: dialect layer, schema, repositories and service."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from monocycle_nash.runmeta import (
    DatabaseAccessError,
    DatabaseError,
    DatabaseNotFoundError,
    DatabaseUrl,
    DuplicateProjectError,
    InvalidDatabaseUrlError,
    ProjectNotFoundError,
    RunSessionService,
    SchemaTooNewError,
    choose_database,
    public_url,
    transaction,
)
from monocycle_nash.runmeta.backends import connect
from monocycle_nash.runmeta.clock import FixedClock
from monocycle_nash.runmeta.db import MIGRATIONS, SCHEMA_VERSION, MigrationStep
from monocycle_nash.runmeta.metrics import parse_where
from monocycle_nash.runmeta.postgres import (
    POSTGRES_MIGRATIONS,
    PostgresConnection,
    PostgresConnectionFactory,
    migrate,
    postgres_sql,
)
from monocycle_nash.runmeta.repositories import ProjectsRepository, RunsRepository
from tests.postgres.conftest import SECRET

T0 = "2026-02-14T19:30:12+09:00"


@pytest.fixture
def conn(postgres_url: str) -> Iterator[PostgresConnection]:
    """A migrated session of a fresh database."""
    connection = PostgresConnectionFactory(DatabaseUrl(postgres_url)).connect()
    try:
        yield connection
    finally:
        connection.close()


# --- the dialect layer, without a server -----------------------------------------------


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        pytest.param("SELECT * FROM t WHERE run_id = ?", "SELECT * FROM t WHERE run_id = %s",
                     id="placeholder"),
        pytest.param("SELECT '?', \"a?\" WHERE x = ?", "SELECT '?', \"a?\" WHERE x = %s",
                     id="quoted-question-marks-stay"),
        pytest.param("SELECT 5 % 3, '100%'", "SELECT 5 %% 3, '100%%'", id="percent-doubled"),
        pytest.param("r.note LIKE ? ESCAPE '\\'", "r.note ILIKE %s ESCAPE '\\'", id="like"),
        pytest.param("SELECT likely, 'LIKE' FROM t", "SELECT likely, 'LIKE' FROM t",
                     id="like-only-as-a-word"),
    ],
)  # fmt: skip
def test_statements_are_rewritten_in_one_place(sqlite: str, postgres: str) -> None:
    """postgres_sql turns SQLite's placeholders, percent signs and LIKE into PostgreSQL's."""
    assert postgres_sql(sqlite) == postgres


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        pytest.param("postgresql://me:pw@db:5432/runs", "postgresql://me@db:5432/runs", id="user"),
        pytest.param("postgres://me:p%40ss@db/runs?sslmode=require",
                     "postgres://me@db/runs?sslmode=require", id="alias-and-query-kept"),
        pytest.param("postgresql://db/runs?user=me&password=pw&sslpassword=x&port=5",
                     "postgresql://db/runs?user=me&port=5", id="query-passwords"),
        pytest.param("postgresql://me:@/runs?host=/tmp/sock", "postgresql://me@/runs?host=/tmp/sock",
                     id="empty-password-socket"),
        pytest.param("postgresql://db/runs", "postgresql://db/runs", id="none"),
    ],
)  # fmt: skip
def test_public_url_leaves_the_password_out(url: str, shown: str) -> None:
    """The shown form of a URL drops the password from the user part and the query."""
    assert public_url(url) == shown
    database = DatabaseUrl(url)
    assert (str(database), database.public, database.secret) == (shown, shown, url)
    assert "pw" not in repr(database)


def test_a_url_scrubs_its_password_from_driver_messages() -> None:
    """A driver message quoting the URL or the (decoded) password is masked."""
    url = DatabaseUrl("postgresql://me:p%40ss@db/runs")
    assert url.scrub("failed for postgresql://me:p%40ss@db/runs (p@ss)") == (
        "failed for postgresql://me@db/runs (***)"
    )


def test_database_choice_explicit_then_environment_then_settings_then_default(
    tmp_path: Path,
) -> None:
    """An explicit path or URL wins over RUNMETA_DATABASE_URL, which wins over settings."""
    env = {"RUNMETA_DATABASE_URL": "postgresql://env/db"}
    default = tmp_path / "default.db"
    assert choose_database("x.db", None, default=default, environ=env) == Path("x.db")
    assert choose_database(None, "postgresql://arg/db", default=default, environ=env) == (
        DatabaseUrl("postgresql://arg/db")
    )
    assert choose_database(
        None, None, default=default, settings_url="postgresql://set/db", environ=env
    ) == DatabaseUrl("postgresql://env/db")
    assert choose_database(
        None, None, default=default, settings_url="postgresql://set/db", environ={}
    ) == DatabaseUrl("postgresql://set/db")
    assert choose_database(None, None, default=default, environ={"RUNMETA_DATABASE_URL": " "}) == (
        default
    )
    with pytest.raises(ValueError, match="not both"):
        choose_database("x.db", "postgresql://arg/db", default=default)
    with pytest.raises(InvalidDatabaseUrlError, match="RUNMETA_DATABASE_URL="):
        choose_database(None, None, default=default, environ={"RUNMETA_DATABASE_URL": "x.db"})


def test_both_backends_have_the_same_schema_versions() -> None:
    """Every SQLite schema step has its PostgreSQL step, with the same version number."""
    assert [step.version for step in POSTGRES_MIGRATIONS] == [step.version for step in MIGRATIONS]
    assert len(POSTGRES_MIGRATIONS) == SCHEMA_VERSION


# --- schema and migrations on a real server ---------------------------------------------


def test_a_new_database_gets_the_current_schema(conn: PostgresConnection) -> None:
    """Connecting creates the tables and records the schema version."""
    assert conn.schema_version() == SCHEMA_VERSION
    assert conn.existing_tables(("projects", "runs", "run_metrics", "runmeta_schema")) == [
        "projects",
        "runs",
        "run_metrics",
        "runmeta_schema",
    ]


def test_a_newer_schema_is_refused_untouched(postgres_url: str) -> None:
    """A database of a newer schema version is refused, and left as it was."""
    url = DatabaseUrl(postgres_url)
    PostgresConnectionFactory(url).connect().close()
    with psycopg.connect(postgres_url, autocommit=True) as raw:
        raw.execute("UPDATE runmeta_schema SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(SchemaTooNewError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        PostgresConnectionFactory(url).connect()
    with psycopg.connect(postgres_url, autocommit=True) as raw:
        assert raw.execute("SELECT version FROM runmeta_schema").fetchall() == [
            (SCHEMA_VERSION + 1,)
        ]


def test_an_older_schema_is_migrated_step_by_step(postgres_url: str) -> None:
    """A database stopped at version 3 is brought to the current version, rows kept."""
    url = DatabaseUrl(postgres_url)
    conn = PostgresConnection(url)
    try:
        migrate(conn, POSTGRES_MIGRATIONS[:3])
        conn.execute(
            "INSERT INTO runs (created_at, started_at, status, command, updated_at)"
            " VALUES (?, ?, 'success', 'old', ?)",
            (T0, T0, T0),
        )
        assert conn.schema_version() == 3
    finally:
        conn.close()
    with PostgresConnectionFactory(url).connect() as migrated:
        assert migrated.schema_version() == SCHEMA_VERSION
        run = RunsRepository(migrated).get(1)
        assert (run.command, run.parent_run_id) == ("old", None)


def test_a_failing_migration_step_leaves_nothing(postgres_url: str) -> None:
    """A step that fails midway rolls back its statements and its version."""
    broken = (
        *POSTGRES_MIGRATIONS[:1],
        MigrationStep(2, "half", ("CREATE TABLE half (x INTEGER)", "CREATE TABLE broken (")),
    )
    with PostgresConnection(DatabaseUrl(postgres_url)) as conn:
        with pytest.raises(DatabaseError):
            migrate(conn, broken)
        assert conn.schema_version() == 1
        assert conn.existing_tables(("half",)) == []


def test_another_programs_tables_are_refused(postgres_url: str) -> None:
    """A database with its own ``runs`` table (no runmeta_schema) is refused untouched."""
    with psycopg.connect(postgres_url, autocommit=True) as raw:
        raw.execute("CREATE TABLE runs (id serial PRIMARY KEY, what text)")
    with pytest.raises(DatabaseAccessError, match=r"tables of another program \(runs"):
        PostgresConnectionFactory(DatabaseUrl(postgres_url)).connect()
    with psycopg.connect(postgres_url, autocommit=True) as raw:
        tables = raw.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
    assert tables == [("runs",)]


def test_reading_an_empty_database_creates_nothing(postgres_url: str) -> None:
    """A read-only open of a database without the schema says so and creates no table."""
    url = DatabaseUrl(postgres_url)
    with pytest.raises(DatabaseNotFoundError, match="nothing recorded yet"):
        connect(url, read_only=True)
    with psycopg.connect(postgres_url, autocommit=True) as raw:
        assert raw.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone() == (0,)


# --- repositories ------------------------------------------------------------------------


def test_ids_come_from_the_server_in_order(conn: PostgresConnection) -> None:
    """create_running returns 1, 2, 3; the rows read back by name and by index."""
    runs = RunsRepository(conn)
    with transaction(conn):
        ids = [runs.create_running(f"cmd {n}", None, "", None, T0, T0, T0) for n in range(3)]
    assert ids == [1, 2, 3]
    row = conn.execute("SELECT run_id, command FROM runs WHERE run_id = ?", (2,)).fetchone()
    assert (row[0], row["command"], dict(row)) == (2, "cmd 1", {"run_id": 2, "command": "cmd 1"})


def test_a_refused_start_uses_no_id(conn: PostgresConnection) -> None:
    """An unknown project is refused without using up an id: the next run is still 1."""
    runs = RunsRepository(conn)
    with pytest.raises(ProjectNotFoundError), transaction(conn):
        runs.create_running("x", None, "", "missing", T0, T0, T0)
    with transaction(conn):
        assert runs.create_running("y", None, "", None, T0, T0, T0) == 1


def test_figures_keep_their_types(conn: PostgresConnection) -> None:
    """Integers stay integers and floats floats, exactly, at both ends of their ranges."""
    runs = RunsRepository(conn)
    figures = {
        "big": 2**63 - 1,
        "float_whole": 3.0,
        "huge": 1.7976931348623157e308,
        "int": 3,
        "negative": -2.5,
        "nothing": None,
        "tiny": 5e-324,
        "truth": True,
        "word": "lp",
    }
    with transaction(conn):
        run_id = runs.create_running("x", None, "", None, T0, T0, T0)
        runs.set_metrics(run_id, figures)
        runs.set_metrics(run_id, {"int": 4})  # replaces one key (the upsert)
    stored = runs.metrics(run_id)
    assert stored == {**figures, "int": 4}
    assert [type(stored[key]) for key in ("big", "float_whole", "int", "truth")] == [
        int,
        float,
        int,
        bool,
    ]


def test_searches_match_sqlite(conn: PostgresConnection) -> None:
    """--search ignores ASCII case only; --where compares numbers exactly; keys sort bytewise."""
    runs = RunsRepository(conn)
    with transaction(conn):
        for note, value in (("Baseline", 0.1), ("ÉTÉ", 0.3), ("other", 2)):
            run_id = runs.create_running("cmd", None, note, None, T0, T0, T0)
            runs.set_metrics(run_id, {"value": value, "B": 1, "a": 2})
    assert [r.note for r in runs.list_runs(search="baseLINE")] == ["Baseline"]
    assert runs.list_runs(search="été") == []  # SQLite's LIKE folds ASCII letters only
    assert [r.note for r in runs.list_runs(where=parse_where("value > 0.1"))] == ["other", "ÉTÉ"]
    assert runs.count_runs(where=parse_where("value = 2")) == 1
    assert list(runs.metrics(1)) == ["B", "a", "value"]


def test_projects_register_once(conn: PostgresConnection) -> None:
    """A taken project id is refused as on SQLite (the unique constraint's kind)."""
    projects = ProjectsRepository(conn)
    with transaction(conn):
        projects.add("p", "/tmp", T0)
    with pytest.raises(DuplicateProjectError), transaction(conn):
        projects.add("p", "/tmp", T0)
    assert [p.project_id for p in projects.list()] == ["p"]


# --- the service -------------------------------------------------------------------------


def test_the_service_records_runs_on_the_server(project: Path, secret_url: str) -> None:
    """start/finish/record work unchanged; meta.json equals the row and holds no password."""
    clock = FixedClock(T0, step=1)
    with RunSessionService.open(
        project, database_url=secret_url, clock=clock, git_probe=lambda: "abc"
    ) as service:
        assert service.database_url is not None
        assert SECRET not in str(service.database_url)
        service.ensure_project("p", project)
        ctx = service.start("first", project_id="p")
        service.finish_success(ctx)
        with pytest.raises(RuntimeError), service.record("second", note="n") as run:
            run.metrics["value"] = 0.5
            raise RuntimeError("boom")
        runs = service.runs.list_runs()
    assert [(r.run_id, r.status) for r in runs] == [(2, "fail"), (1, "success")]
    assert runs[0].created_at.endswith("+09:00")
    for run_id in (1, 2):
        meta = (project / "result" / str(run_id) / "meta.json").read_text(encoding="utf-8")
        assert SECRET not in meta
    with RunSessionService.open(project, database_url=secret_url) as again:
        assert again.runs.metrics(2) == {"value": 0.5}


def test_the_environment_names_the_database(
    project: Path, secret_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RUNMETA_DATABASE_URL selects the server when open() is given no database."""
    monkeypatch.setenv("RUNMETA_DATABASE_URL", secret_url)
    with RunSessionService.open(project) as service, service.record("x"):
        pass
    assert not (project / ".runmeta").exists()
    with RunSessionService.open(project, database_url=secret_url) as service:
        assert [r.run_id for r in service.runs.list_runs()] == [1]


def test_an_explicit_path_wins_over_the_environment(
    project: Path, secret_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """db_path= records in the SQLite file even with RUNMETA_DATABASE_URL set."""
    monkeypatch.setenv("RUNMETA_DATABASE_URL", secret_url)
    with RunSessionService.open(project, db_path=project / "own.db") as service:
        assert isinstance(service.connection, sqlite3.Connection)
        assert service.database_url is None
