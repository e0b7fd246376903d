"""All SQL of the runmeta library: the ``runs`` and ``projects`` repositories.

Repositories take an open connection and never begin, commit or roll back: the caller
owns the transaction through :func:`monocycle_nash.runmeta.db.transaction` (see the
convention in ``db.py``). Unknown ids and duplicate projects raise typed errors; on a
connection from ``SQLiteConnectionFactory`` any other SQLite failure, listing streams
included, raises the connection's typed ``DatabaseError`` naming the database.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime

from monocycle_nash.runmeta.clock import normalize_timestamp
from monocycle_nash.runmeta.errors import (
    DatabaseError,
    DuplicateProjectError,
    InvalidProjectIdError,
    InvalidProjectPathError,
    ProjectNotFoundError,
    RunNotFoundError,
)
from monocycle_nash.runmeta.models import ProjectRecord, RunRecord, parse_status

# Not ``typing.TYPE_CHECKING``: ``runmeta list-runs`` loads this module, and ``typing``
# (and ``pathlib``, which only project paths need) would add milliseconds to its start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Final

__all__ = ["ProjectsRepository", "RunsRepository"]

# The columns in RunRecord's field order, so a plain tuple row is its arguments.
_RUN_COLUMNS: Final = (
    "r.run_id, r.created_at, r.started_at, r.ended_at, r.status, r.command,"
    " r.git_commit, COALESCE(r.note, ''), r.project_id, r.updated_at, p.project_path"
)
_SELECT_RUNS: Final = (
    f"SELECT {_RUN_COLUMNS} FROM runs AS r"  # noqa: S608 - constant text, no user values
    " LEFT JOIN projects AS p ON p.project_id = r.project_id"
)
# RETURNING (SQLite >= 3.35) gives the updated row without a second query.
_RETURNING: Final = (
    " RETURNING run_id, created_at, started_at, ended_at, status, command, git_commit,"
    " COALESCE(note, ''), project_id, updated_at,"
    " (SELECT project_path FROM projects WHERE projects.project_id = runs.project_id)"
)
_HAS_RETURNING: Final = sqlite3.sqlite_version_info >= (3, 35, 0)
# Extended result codes (``sqlite_errorcode`` of a DatabaseError or a raw sqlite3 error)
# of the constraint failures that mean an unknown project or a taken project id.
_FOREIGN_KEY_FAILED: Final = 787  # SQLITE_CONSTRAINT_FOREIGNKEY
_KEY_TAKEN: Final = frozenset({1555, 2067})  # SQLITE_CONSTRAINT_PRIMARYKEY, _UNIQUE

TimeBound = str | datetime | None
"""A filter bound: a timestamp string with an offset, an aware datetime, or no bound."""


def _run_from_row(row: Sequence[Any]) -> RunRecord:
    # Rows are selected in RunRecord's field order with the note already COALESCEd.
    return RunRecord(*row)


def _project_from_row(row: Sequence[Any]) -> ProjectRecord:
    return ProjectRecord(row[0], row[1], row[2], row[3] if row[3] is not None else "")


class RunsRepository:
    """Create, finish, update, delete, find and search rows of ``runs``.

    Records come with ``project_path`` joined from ``projects`` when the run has a
    project. Searches return newest first: ``created_at`` descending, then ``run_id``
    descending.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def create_running(  # noqa: PLR0917 - the design document's signature
        self,
        command: str,
        git_commit: str | None,
        note: str,
        project_id: str | None,
        started_at: str,
        created_at: str,
        updated_at: str,
    ) -> int:
        """Insert a run with status ``running`` and return its new id.

        Raises :class:`ProjectNotFoundError` when ``project_id`` is not registered.
        """
        try:
            cursor = self._conn.execute(
                "INSERT INTO runs (created_at, started_at, ended_at, status, command,"
                " git_commit, note, project_id, updated_at)"
                " VALUES (?, ?, NULL, 'running', ?, ?, ?, ?, ?)",
                (created_at, started_at, command, git_commit, note, project_id, updated_at),
            )
        except (DatabaseError, sqlite3.IntegrityError) as err:
            if (
                project_id is not None
                and getattr(err, "sqlite_errorcode", None) == _FOREIGN_KEY_FAILED
            ):
                raise ProjectNotFoundError(project_id) from err
            raise
        run_id = cursor.lastrowid
        if run_id is None:  # pragma: no cover - an INSERT always sets it
            raise RuntimeError("SQLite returned no id for the new run")
        return run_id

    def finish(
        self,
        run_id: int,
        status: str,
        ended_at: str,
        updated_at: str,
        note: str | None = None,
    ) -> RunRecord:
        """Set a final status, the end time and ``updated_at``; return the new row.

        ``status`` must be ``success``, ``fail`` or ``killed``; ``note`` replaces the
        note when given. Raises :class:`RunNotFoundError` for an unknown id.
        """
        final = parse_status(status, final=True)
        sql = (
            "UPDATE runs SET status = ?, ended_at = ?, updated_at = ?,"
            " note = COALESCE(?, note) WHERE run_id = ?"
        )
        return self._update_returning(run_id, sql, (final, ended_at, updated_at, note, run_id))

    def update(
        self,
        run_id: int,
        *,
        status: str | None = None,
        note: str | None = None,
        project_id: str | None = None,
        clear_project: bool = False,
        updated_at: str,
    ) -> RunRecord:
        """Change the given fields of a run and ``updated_at``; return the new row.

        ``status`` must be final (a run is ``running`` only from its start); a run
        given a final status that has no ``ended_at`` gets ``updated_at`` as its end.
        ``clear_project=True`` detaches the run from its project. With nothing to
        change, the row is returned untouched. Raises :class:`RunNotFoundError` or
        :class:`ProjectNotFoundError`.
        """
        if clear_project and project_id is not None:
            raise ValueError("give either project_id or clear_project, not both")
        assignments: list[str] = []
        params: list[object] = []
        if status is not None:
            assignments.append("status = ?")
            params.append(parse_status(status, final=True))
            assignments.append("ended_at = COALESCE(ended_at, ?)")
            params.append(updated_at)
        if note is not None:
            assignments.append("note = ?")
            params.append(note)
        if project_id is not None:
            assignments.append("project_id = ?")
            params.append(project_id)
        if clear_project:
            assignments.append("project_id = NULL")
        if not assignments:
            return self.get(run_id)
        assignments.append("updated_at = ?")
        params.append(updated_at)
        params.append(run_id)
        # Column names are fixed above; every value is a bound parameter.
        sql = f"UPDATE runs SET {', '.join(assignments)} WHERE run_id = ?"  # noqa: S608
        try:
            return self._update_returning(run_id, sql, tuple(params))
        except (DatabaseError, sqlite3.IntegrityError) as err:
            if (
                project_id is not None
                and getattr(err, "sqlite_errorcode", None) == _FOREIGN_KEY_FAILED
            ):
                raise ProjectNotFoundError(project_id) from err
            raise

    def _update_returning(self, run_id: int, sql: str, params: tuple[object, ...]) -> RunRecord:
        if _HAS_RETURNING:
            rows = self._conn.execute(sql + _RETURNING, params).fetchall()
            if not rows:
                raise RunNotFoundError(run_id)
            return _run_from_row(rows[0])
        cursor = self._conn.execute(sql, params)  # pragma: no cover - old SQLite only
        if cursor.rowcount == 0:  # pragma: no cover
            raise RunNotFoundError(run_id)
        return self.get(run_id)  # pragma: no cover

    def delete(self, run_id: int) -> None:
        """Delete a run's row. Raises :class:`RunNotFoundError` for an unknown id."""
        cursor = self._conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
        if cursor.rowcount == 0:
            raise RunNotFoundError(run_id)

    def find_by_id(self, run_id: int) -> RunRecord | None:
        """Return the run, or ``None`` when there is no such id."""
        row = self._conn.execute(f"{_SELECT_RUNS} WHERE r.run_id = ?", (run_id,)).fetchone()
        return None if row is None else _run_from_row(row)

    def get(self, run_id: int) -> RunRecord:
        """Return the run, or raise :class:`RunNotFoundError`."""
        record = self.find_by_id(run_id)
        if record is None:
            raise RunNotFoundError(run_id)
        return record

    def list_runs(
        self,
        from_at: TimeBound = None,
        to_at: TimeBound = None,
        status: str | None = None,
        project_id: str | None = None,
        limit: int | None = None,
    ) -> builtins.list[RunRecord]:
        """Return the runs matching every given filter, newest first.

        ``from_at <= created_at <= to_at`` (both inclusive; any offset is accepted and
        compared in Japan time); ``limit`` caps the number of rows.
        """
        return builtins.list(self.iter_runs(from_at, to_at, status, project_id, limit))

    def iter_runs(
        self,
        from_at: TimeBound = None,
        to_at: TimeBound = None,
        status: str | None = None,
        project_id: str | None = None,
        limit: int | None = None,
    ) -> Iterator[RunRecord]:
        """Yield the runs of :meth:`list_runs` one by one, streaming from the database."""
        cursor = self._select_runs(from_at, to_at, status, project_id, limit)
        try:
            for row in cursor:
                yield RunRecord(*row)
        finally:
            cursor.close()

    def _select_runs(
        self,
        from_at: TimeBound,
        to_at: TimeBound,
        status: str | None,
        project_id: str | None,
        limit: int | None,
    ) -> sqlite3.Cursor:
        """Run the search and return its cursor, whose rows are plain tuples.

        The ORDER BY matches the indexes ``(created_at)``, ``(status, created_at)``,
        ``(project_id, created_at)`` and ``(project_id, status, created_at)`` (each ends
        with the rowid, ``run_id``), so a page is read from the index in order with no
        sort: its cost does not grow with the table.
        """
        where, params = _run_filters(from_at, to_at, status, project_id)
        sql = f"{_SELECT_RUNS}{where} ORDER BY r.created_at DESC, r.run_id DESC"
        if limit is not None:
            if limit < 0:
                raise ValueError("limit must not be negative")
            sql += " LIMIT ?"
            params.append(limit)
        cursor = self._conn.cursor()
        # Tuples rather than the connection's sqlite3.Row: a third less time per row.
        cursor.row_factory = None
        return cursor.execute(sql, params)

    def count_runs(
        self,
        from_at: TimeBound = None,
        to_at: TimeBound = None,
        status: str | None = None,
        project_id: str | None = None,
    ) -> int:
        """Return how many runs match the filters of :meth:`list_runs`."""
        where, params = _run_filters(from_at, to_at, status, project_id)
        sql = f"SELECT count(*) FROM runs AS r{where}"  # noqa: S608 - values are bound
        row = self._conn.execute(sql, params).fetchone()
        return int(row[0])

    def detach_project(self, project_id: str, updated_at: str) -> builtins.list[int]:
        """Detach every run of a project (no project, ``updated_at`` set); return their ids.

        The ids come oldest first. Call it before deleting the project, so that the
        detached runs record when they changed.
        """
        run_ids = self.ids_of_project(project_id)
        self._conn.execute(
            "UPDATE runs SET project_id = NULL, updated_at = ? WHERE project_id = ?",
            (updated_at, project_id),
        )
        return run_ids

    def ids_of_project(self, project_id: str) -> builtins.list[int]:
        """Return the ids of the runs attached to a project, oldest first."""
        rows = self._conn.execute(
            "SELECT run_id FROM runs WHERE project_id = ? ORDER BY run_id", (project_id,)
        ).fetchall()
        return [int(row[0]) for row in rows]


def _run_filters(
    from_at: TimeBound, to_at: TimeBound, status: str | None, project_id: str | None
) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if from_at is not None:
        clauses.append("r.created_at >= ?")
        params.append(normalize_timestamp(from_at))
    if to_at is not None:
        clauses.append("r.created_at <= ?")
        params.append(normalize_timestamp(to_at))
    if status is not None:
        clauses.append("r.status = ?")
        params.append(parse_status(status))
    if project_id is not None:
        clauses.append("r.project_id = ?")
        params.append(project_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return where, params


def _absolute(project_path: str | Path) -> str:
    """Return the project folder as an absolute path; refuse an empty path or a file.

    A folder that does not exist yet is accepted: runs warn until it is created.
    """
    from pathlib import Path  # noqa: PLC0415 - see TYPE_CHECKING above

    if not str(project_path).strip():
        raise InvalidProjectPathError(project_path, "it must not be empty")
    path = Path(project_path).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise InvalidProjectPathError(path, "it is a file, not a folder")
    return str(path)


def _check_project_id(project_id: str) -> None:
    if not project_id.strip():
        raise InvalidProjectIdError(project_id)
    if not project_id.isprintable():
        raise InvalidProjectIdError(project_id, "it must not hold control characters")


class ProjectsRepository:
    """Add, update, delete, find and list rows of ``projects``.

    Project paths are stored absolute (a relative path is resolved against the
    current folder when added or updated).
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(
        self, project_id: str, project_path: str | Path, created_at: str, note: str = ""
    ) -> ProjectRecord:
        """Register a project and return it.

        Raises :class:`DuplicateProjectError` when the id is taken,
        :class:`InvalidProjectIdError` for an empty id or one with control characters
        (a line break, a tab), and :class:`InvalidProjectPathError` for an empty path
        or one that is a file.
        """
        _check_project_id(project_id)
        record = ProjectRecord(project_id, _absolute(project_path), created_at, note)
        try:
            self._conn.execute(
                "INSERT INTO projects (project_id, project_path, created_at, note)"
                " VALUES (?, ?, ?, ?)",
                (record.project_id, record.project_path, record.created_at, record.note),
            )
        except (DatabaseError, sqlite3.IntegrityError) as err:
            if getattr(err, "sqlite_errorcode", None) in _KEY_TAKEN:
                raise DuplicateProjectError(project_id) from err
            raise
        return record

    def update(
        self,
        project_id: str,
        *,
        project_path: str | Path | None = None,
        note: str | None = None,
    ) -> ProjectRecord:
        """Change the path and/or note of a project and return it.

        Raises :class:`ProjectNotFoundError` for an unknown id and
        :class:`InvalidProjectPathError` as :meth:`add` does.
        """
        assignments: list[str] = []
        params: list[object] = []
        if project_path is not None:
            assignments.append("project_path = ?")
            params.append(_absolute(project_path))
        if note is not None:
            assignments.append("note = ?")
            params.append(note)
        if assignments:
            params.append(project_id)
            sql = f"UPDATE projects SET {', '.join(assignments)} WHERE project_id = ?"  # noqa: S608
            cursor = self._conn.execute(sql, params)
            if cursor.rowcount == 0:
                raise ProjectNotFoundError(project_id)
        return self.get(project_id)

    def delete(self, project_id: str) -> None:
        """Delete a project; its runs keep existing with no project (ON DELETE SET NULL).

        Raises :class:`ProjectNotFoundError` for an unknown id.
        """
        cursor = self._conn.execute("DELETE FROM projects WHERE project_id = ?", (project_id,))
        if cursor.rowcount == 0:
            raise ProjectNotFoundError(project_id)

    def find(self, project_id: str) -> ProjectRecord | None:
        """Return the project, or ``None`` when there is no such id."""
        row = self._conn.execute(
            "SELECT project_id, project_path, created_at, note FROM projects WHERE project_id = ?",
            (project_id,),
        ).fetchone()
        return None if row is None else _project_from_row(row)

    def get(self, project_id: str) -> ProjectRecord:
        """Return the project, or raise :class:`ProjectNotFoundError`."""
        record = self.find(project_id)
        if record is None:
            raise ProjectNotFoundError(project_id)
        return record

    def list(self) -> builtins.list[ProjectRecord]:
        """Return every project, ordered by id."""
        rows = self._conn.execute(
            "SELECT project_id, project_path, created_at, note FROM projects ORDER BY project_id"
        ).fetchall()
        return [_project_from_row(row) for row in rows]
