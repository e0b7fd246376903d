"""All SQL of the runmeta library: the ``runs`` and ``projects`` repositories.

Repositories take an open connection and never begin, commit or roll back: the caller
owns the transaction through :func:`monocycle_nash.runmeta.db.transaction` (see the
convention in ``db.py``). Unknown ids and duplicate projects raise typed errors; on a
connection from ``SQLiteConnectionFactory`` any other SQLite failure, listing streams
included, raises the connection's typed ``DatabaseError`` naming the database.

Besides the columns of :class:`RunRecord` (the design document's row, the listing
path), a run's row holds its bookkeeping (schema version 3), read as
:class:`RunBookkeeping`: the process that records it (``host``, ``pid``,
``process_start``, written with the INSERT, so that ``reap`` can judge every
``running`` row, even one without a folder or a meta.json), why it failed or was
killed (``reason``), and whether ``result/<run_id>`` is its own (``folder``).

A run may be the child of another (schema version 4, ``parent_run_id``, part of
:class:`RunRecord`): a sweep is recorded as a parent run whose every case is a child
run. The foreign key refuses to delete a parent row that a child row names
(``ON DELETE RESTRICT``); :meth:`RunsRepository.list_children` and
:meth:`RunsRepository.count_children` read a parent's children, and
:meth:`RunsRepository.orphan_children` the children whose parent row is gone anyway.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections import namedtuple
from collections.abc import Iterator, Sequence
from datetime import datetime

from monocycle_nash.runmeta.clock import normalize_timestamp
from monocycle_nash.runmeta.errors import (
    DatabaseError,
    DuplicateProjectError,
    InvalidProjectIdError,
    InvalidProjectPathError,
    ParentRunNotFoundError,
    ProjectNotFoundError,
    RunNotFoundError,
)
from monocycle_nash.runmeta.models import ProjectRecord, RunRecord, parse_status

# Not ``typing.TYPE_CHECKING``: ``runmeta list-runs`` loads this module, and ``typing``
# (and ``pathlib``, which only project paths need) would add milliseconds to its start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Final, NamedTuple

    from monocycle_nash.runmeta.process import ProcessIdentity

    class _BookkeepingRow(NamedTuple):
        host: str | None
        pid: int | None
        process_start: str | None
        reason: str | None
        folder: str | None

else:
    _BookkeepingRow = namedtuple(
        "RunBookkeeping", "host pid process_start reason folder", defaults=(None,) * 5
    )

__all__ = [
    "FOREIGN_FOLDER",
    "NO_FOLDER",
    "ProjectsRepository",
    "RunBookkeeping",
    "RunsRepository",
]

FOREIGN_FOLDER: Final = "foreign"
"""``runs.folder`` of a run that found ``result/<run_id>`` already there: not its own."""
NO_FOLDER: Final = "none"
"""``runs.folder`` of a run that ended before it made ``result/<run_id>``."""


class RunBookkeeping(_BookkeepingRow):
    """The columns of a run that :class:`RunRecord` leaves out (all ``None`` before v3).

    ``host``, ``pid``, ``process_start``: the process recording the run (see
    :class:`~monocycle_nash.runmeta.process.ProcessIdentity`); ``reason``: why it
    failed or was killed; ``folder``: ``None`` when ``result/<run_id>`` is the run's
    own, :data:`FOREIGN_FOLDER` or :data:`NO_FOLDER`.
    """

    __slots__ = ()

    @property
    def process(self) -> ProcessIdentity | None:
        """The recording process, or ``None`` for a row written before schema version 3."""
        if not self.host or not isinstance(self.pid, int) or self.pid <= 0:
            return None
        from monocycle_nash.runmeta.process import ProcessIdentity  # noqa: PLC0415 - see above

        return ProcessIdentity(self.host, self.pid, self.process_start, None)

    def same_process(self, other: ProcessIdentity | None) -> bool:
        """Tell whether ``other`` is the row's process (host, pid and start time)."""
        return other is not None and (other.host, other.pid, other.start_time) == (
            self.host,
            self.pid,
            self.process_start,
        )

    @property
    def owns_folder(self) -> bool:
        """Whether ``result/<run_id>``, if it exists, is the run's own folder."""
        return self.folder is None


# The columns in RunRecord's field order, so a plain tuple row is its arguments.
_RUN_COLUMNS: Final = (
    "r.run_id, r.created_at, r.started_at, r.ended_at, r.status, r.command,"
    " r.git_commit, COALESCE(r.note, ''), r.project_id, r.updated_at, p.project_path,"
    " r.parent_run_id"
)
_SELECT_RUNS: Final = (
    f"SELECT {_RUN_COLUMNS} FROM runs AS r"  # noqa: S608 - constant text, no user values
    " LEFT JOIN projects AS p ON p.project_id = r.project_id"
)
_BOOKKEEPING_COLUMNS: Final = "r.host, r.pid, r.process_start, r.reason, r.folder"
_RECORD_SIZE: Final = 12  # the columns of _RUN_COLUMNS
_SELECT_RUNS_IN_FULL: Final = (
    f"SELECT {_RUN_COLUMNS}, {_BOOKKEEPING_COLUMNS} FROM runs AS r"  # noqa: S608 - constant
    " LEFT JOIN projects AS p ON p.project_id = r.project_id"
)
# RETURNING (SQLite >= 3.35) gives the updated row without a second query.
_RETURNING: Final = (
    " RETURNING run_id, created_at, started_at, ended_at, status, command, git_commit,"
    " COALESCE(note, ''), project_id, updated_at,"
    " (SELECT project_path FROM projects WHERE projects.project_id = runs.project_id),"
    " parent_run_id"
)
_HAS_RETURNING: Final = sqlite3.sqlite_version_info >= (3, 35, 0)
# Extended result codes (``sqlite_errorcode`` of a DatabaseError or a raw sqlite3 error)
# of the constraint failures that mean an unknown project (or parent run) or a taken
# project id.
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
        *,
        host: str | None = None,
        pid: int | None = None,
        process_start: str | None = None,
        parent_run_id: int | None = None,
    ) -> int:
        """Insert a run with status ``running`` and return its new id.

        ``host``, ``pid`` and ``process_start`` name the process recording the run
        (stored with the row itself, so that the run can be judged by ``reap`` from
        the moment it exists); ``parent_run_id`` makes it a child of that run. Raises
        :class:`ProjectNotFoundError` when ``project_id`` is not registered and
        :class:`ParentRunNotFoundError` when ``parent_run_id`` is not a run.
        """
        try:
            cursor = self._conn.execute(
                "INSERT INTO runs (created_at, started_at, ended_at, status, command,"
                " git_commit, note, project_id, updated_at, host, pid, process_start,"
                " parent_run_id) VALUES (?, ?, NULL, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    created_at,
                    started_at,
                    command,
                    git_commit,
                    note,
                    project_id,
                    updated_at,
                    host,
                    pid,
                    process_start,
                    parent_run_id,
                ),
            )
        except (DatabaseError, sqlite3.IntegrityError) as err:
            if getattr(err, "sqlite_errorcode", None) == _FOREIGN_KEY_FAILED:
                # Two foreign keys: say which one failed.
                if parent_run_id is not None and self.find_by_id(parent_run_id) is None:
                    raise ParentRunNotFoundError(parent_run_id) from err
                if project_id is not None:
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
        *,
        reason: str | None = None,
    ) -> RunRecord:
        """Set a final status, the end time and ``updated_at``; return the new row.

        ``status`` must be ``success``, ``fail`` or ``killed``; ``note`` replaces the
        note and ``reason`` the reason when given. Raises :class:`RunNotFoundError` for
        an unknown id.
        """
        params = (parse_status(status, final=True), ended_at, updated_at, note, reason, run_id)
        return self._update_returning(run_id, _FINISH, params)

    def finish_running(
        self, run_id: int, status: str, ended_at: str, updated_at: str, *, reason: str | None = None
    ) -> RunRecord | None:
        """As :meth:`finish`, but only while the run is ``running``; else ``None``.

        A run given a status by hand (``update-run --status --force``) while its process
        lived keeps it: the run's own end then changes nothing. ``None`` also for an
        unknown id (tell the two apart with :meth:`find_by_id`).
        """
        params = (parse_status(status, final=True), ended_at, updated_at, None, reason, run_id)
        sql = _FINISH + " AND status = 'running'"
        if _HAS_RETURNING:
            rows = self._conn.execute(sql + _RETURNING, params).fetchall()
            return _run_from_row(rows[0]) if rows else None
        cursor = self._conn.execute(sql, params)  # pragma: no cover - old SQLite only
        return self.get(run_id) if cursor.rowcount else None  # pragma: no cover

    def update(
        self,
        run_id: int,
        *,
        status: str | None = None,
        note: str | None = None,
        project_id: str | None = None,
        clear_project: bool = False,
        reason: str | None = None,
        ended_at: str | None = None,
        updated_at: str,
    ) -> RunRecord:
        """Change the given fields of a run and ``updated_at``; return the new row.

        ``status`` must be final (a run is ``running`` only from its start); a run
        given a final status that has no ``ended_at`` gets ``ended_at``, else
        ``updated_at``, as its end (``ended_at`` with a status replaces the end even
        when there is one). ``clear_project=True`` detaches the run from its project.
        With nothing to change, the row is returned untouched. Raises
        :class:`RunNotFoundError` or :class:`ProjectNotFoundError`.
        """
        if clear_project and project_id is not None:
            raise ValueError("give either project_id or clear_project, not both")
        assignments: list[str] = []
        params: list[object] = []
        if status is not None:
            assignments.append("status = ?")
            params.append(parse_status(status, final=True))
            if ended_at is None:
                assignments.append("ended_at = COALESCE(ended_at, ?)")
                params.append(updated_at)
            else:
                assignments.append("ended_at = ?")
                params.append(ended_at)
        if reason is not None:
            assignments.append("reason = ?")
            params.append(reason)
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

    def get_in_full(self, run_id: int) -> tuple[RunRecord, RunBookkeeping]:
        """Return the run and its bookkeeping (one query), or raise :class:`RunNotFoundError`."""
        row = self._conn.execute(f"{_SELECT_RUNS_IN_FULL} WHERE r.run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFoundError(run_id)
        return _in_full(tuple(row))

    def bookkeeping(self, run_id: int) -> RunBookkeeping:
        """Return the run's process, reason and folder; raise :class:`RunNotFoundError`."""
        return self.get_in_full(run_id)[1]

    def iter_in_full(self, status: str | None = None) -> Iterator[tuple[RunRecord, RunBookkeeping]]:
        """Yield every run (or those with ``status``) with its bookkeeping, oldest id first.

        Streamed from the cursor, as ``check`` and ``reap`` read every row.
        """
        sql = _SELECT_RUNS_IN_FULL
        params: list[object] = []
        if status is not None:
            sql += " WHERE r.status = ?"
            params.append(parse_status(status))
        cursor = self._conn.cursor()
        cursor.row_factory = None
        try:
            for row in cursor.execute(sql + " ORDER BY r.run_id", params):
                yield _in_full(row)
        finally:
            cursor.close()

    def set_folder(self, run_id: int, folder: str | None) -> None:
        """Record whose ``result/<run_id>`` is: ``None`` (the run's own), or not its own.

        ``folder`` is :data:`FOREIGN_FOLDER` (it existed before the run) or
        :data:`NO_FOLDER` (the run ended before making it). Raises
        :class:`RunNotFoundError` for an unknown id.
        """
        if folder not in {None, FOREIGN_FOLDER, NO_FOLDER}:
            raise ValueError(f"folder must be None, {FOREIGN_FOLDER!r} or {NO_FOLDER!r}")
        cursor = self._conn.execute("UPDATE runs SET folder = ? WHERE run_id = ?", (folder, run_id))
        if cursor.rowcount == 0:
            raise RunNotFoundError(run_id)

    def list_runs(
        self,
        from_at: TimeBound = None,
        to_at: TimeBound = None,
        status: str | None = None,
        project_id: str | None = None,
        limit: int | None = None,
        *,
        parent_run_id: int | None = None,
    ) -> builtins.list[RunRecord]:
        """Return the runs matching every given filter, newest first.

        ``from_at <= created_at <= to_at`` (both inclusive; any offset is accepted and
        compared in Japan time); ``parent_run_id`` keeps only that run's children;
        ``limit`` caps the number of rows.
        """
        return builtins.list(
            self.iter_runs(from_at, to_at, status, project_id, limit, parent_run_id=parent_run_id)
        )

    def iter_runs(
        self,
        from_at: TimeBound = None,
        to_at: TimeBound = None,
        status: str | None = None,
        project_id: str | None = None,
        limit: int | None = None,
        *,
        parent_run_id: int | None = None,
    ) -> Iterator[RunRecord]:
        """Yield the runs of :meth:`list_runs` one by one, streaming from the database."""
        cursor = self._select_runs(from_at, to_at, status, project_id, limit, parent_run_id)
        try:
            for row in cursor:
                yield RunRecord(*row)
        finally:
            cursor.close()

    def _select_runs(  # noqa: PLR0917 - the filters of list_runs, in its order
        self,
        from_at: TimeBound,
        to_at: TimeBound,
        status: str | None,
        project_id: str | None,
        limit: int | None,
        parent_run_id: int | None,
    ) -> sqlite3.Cursor:
        """Run the search and return its cursor, whose rows are plain tuples.

        The ORDER BY matches the indexes ``(created_at)``, ``(status, created_at)``,
        ``(project_id, created_at)``, ``(project_id, status, created_at)`` and
        ``(parent_run_id, created_at)`` (each ends with the rowid, ``run_id``), so a
        page is read from the index in order with no sort: its cost does not grow with
        the table.
        """
        where, params = _run_filters(from_at, to_at, status, project_id, parent_run_id)
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
        *,
        parent_run_id: int | None = None,
    ) -> int:
        """Return how many runs match the filters of :meth:`list_runs`."""
        where, params = _run_filters(from_at, to_at, status, project_id, parent_run_id)
        sql = f"SELECT count(*) FROM runs AS r{where}"  # noqa: S608 - values are bound
        row = self._conn.execute(sql, params).fetchone()
        return int(row[0])

    def list_children(self, parent_run_id: int) -> builtins.list[RunRecord]:
        """Return the child runs of ``parent_run_id``, ids ascending (none: ``[]``).

        Only the direct children: a child's own children are its to list.
        """
        rows = self._conn.execute(
            f"{_SELECT_RUNS} WHERE r.parent_run_id = ? ORDER BY r.run_id", (parent_run_id,)
        ).fetchall()
        return [_run_from_row(row) for row in rows]

    def count_children(self, parent_run_id: int) -> int:
        """Return how many child runs ``parent_run_id`` has (its direct children)."""
        row = self._conn.execute(
            "SELECT count(*) FROM runs WHERE parent_run_id = ?", (parent_run_id,)
        ).fetchone()
        return int(row[0])

    def orphan_children(self) -> builtins.list[tuple[int, int]]:
        """Return ``(run id, parent run id)`` of each child whose parent row does not exist.

        The foreign key keeps a parent while its children live, but a row deleted by
        hand with foreign keys off, or a database rebuilt without the parent's folder,
        leaves such children. Ids ascending.
        """
        rows = self._conn.execute(
            "SELECT c.run_id, c.parent_run_id FROM runs AS c"
            " LEFT JOIN runs AS p ON p.run_id = c.parent_run_id"
            " WHERE c.parent_run_id IS NOT NULL AND p.run_id IS NULL ORDER BY c.run_id"
        ).fetchall()
        return [(int(row[0]), int(row[1])) for row in rows]

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


_FINISH: Final = (
    "UPDATE runs SET status = ?, ended_at = ?, updated_at = ?, note = COALESCE(?, note),"
    " reason = COALESCE(?, reason) WHERE run_id = ?"
)


def _in_full(row: Sequence[Any]) -> tuple[RunRecord, RunBookkeeping]:
    return RunRecord(*row[:_RECORD_SIZE]), RunBookkeeping(*row[_RECORD_SIZE:])


def _run_filters(
    from_at: TimeBound,
    to_at: TimeBound,
    status: str | None,
    project_id: str | None,
    parent_run_id: int | None = None,
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
    if parent_run_id is not None:
        clauses.append("r.parent_run_id = ?")
        params.append(parent_run_id)
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
