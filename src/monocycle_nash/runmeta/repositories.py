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

A run's headline figures (schema version 5) are rows of ``run_metrics``, one per key
(see ``metrics.py`` for keys and values): :meth:`RunsRepository.set_metrics`,
:meth:`RunsRepository.metrics` and, for a listing, :meth:`RunsRepository.metrics_of`
(many runs in one query) and :meth:`RunsRepository.iter_listing`. The searches take
``search`` (a text in the note, command or reason) and ``where`` (conditions on the
figures, :class:`~monocycle_nash.runmeta.metrics.MetricCondition`), always as bound
parameters inside SQL fragments chosen from fixed tables.
"""

from __future__ import annotations

import builtins
import sqlite3
from collections import namedtuple
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from math import isqrt

from monocycle_nash.runmeta.clock import normalize_timestamp
from monocycle_nash.runmeta.db import constraint_of
from monocycle_nash.runmeta.errors import (
    DatabaseError,
    DuplicateProjectError,
    InvalidMetricError,
    InvalidProjectIdError,
    InvalidProjectPathError,
    ParentRunNotFoundError,
    ProjectNotFoundError,
    RunNotFoundError,
)
from monocycle_nash.runmeta.models import ListedRun, ProjectRecord, RunRecord, parse_status

# Not ``typing.TYPE_CHECKING``: ``runmeta list-runs`` loads this module, and ``typing``
# (and ``pathlib``, which only project paths need) would add milliseconds to its start.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Final, NamedTuple

    from monocycle_nash.runmeta.backends import Connection, Cursor
    from monocycle_nash.runmeta.metrics import MetricCondition
    from monocycle_nash.runmeta.models import MetricValue
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
    "LISTING_BATCH",
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
_SELECT_LISTING: Final = (
    f"SELECT {_RUN_COLUMNS}, r.reason FROM runs AS r"  # noqa: S608 - constant text
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
_SQLITE_RETURNING: Final = sqlite3.sqlite_version_info >= (3, 35, 0)


def _has_returning(conn: Connection) -> bool:
    """Whether ``conn`` knows ``RETURNING``: SQLite from 3.35, PostgreSQL always."""
    return _SQLITE_RETURNING or not isinstance(conn, sqlite3.Connection)


TimeBound = str | datetime | None
"""A filter bound: a timestamp string with an offset, an aware datetime, or no bound."""
LISTING_BATCH: Final = 200
"""Rows :meth:`RunsRepository.iter_listing` reads at a time (one figures query each)."""


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

    __slots__ = ("_conn", "_returning")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._returning = _has_returning(conn)

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
        # Asked first, not read from a failed INSERT: on PostgreSQL a failed statement
        # ends what the transaction may still do, and the INSERT would use up an id.
        if parent_run_id is not None and self.find_by_id(parent_run_id) is None:
            raise ParentRunNotFoundError(parent_run_id)
        if (
            project_id is not None
            and not self._conn.execute(
                "SELECT 1 FROM projects WHERE project_id = ?", (project_id,)
            ).fetchone()
        ):
            raise ProjectNotFoundError(project_id)
        sql = (
            "INSERT INTO runs (created_at, started_at, ended_at, status, command,"
            " git_commit, note, project_id, updated_at, host, pid, process_start,"
            " parent_run_id) VALUES (?, ?, NULL, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        if self._returning:
            sql += " RETURNING run_id"
        try:
            cursor = self._conn.execute(
                sql,
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
            # The parent was there a moment ago: the project is the foreign key that failed.
            if constraint_of(err) == "foreign_key" and project_id is not None:
                raise ProjectNotFoundError(project_id) from err
            raise
        if self._returning:
            return int(cursor.fetchone()[0])
        run_id = cursor.lastrowid  # pragma: no cover - old SQLite only
        if run_id is None:  # pragma: no cover - an INSERT always sets it
            raise RuntimeError("SQLite returned no id for the new run")
        return run_id  # pragma: no cover

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
        if self._returning:
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
            if project_id is not None and constraint_of(err) == "foreign_key":
                raise ProjectNotFoundError(project_id) from err
            raise

    def _update_returning(self, run_id: int, sql: str, params: tuple[object, ...]) -> RunRecord:
        if self._returning:
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
        search: str | None = None,
        where: Sequence[MetricCondition] = (),
    ) -> builtins.list[RunRecord]:
        """Return the runs matching every given filter, newest first.

        ``from_at <= created_at <= to_at`` (both inclusive; any offset is accepted and
        compared in Japan time); ``parent_run_id`` keeps only that run's children;
        ``search`` keeps the runs whose note, command or reason contains it (ignoring
        the case of ASCII letters); ``where`` keeps the runs whose figures meet every
        condition; ``limit`` caps the number of rows.
        """
        return builtins.list(
            self.iter_runs(
                from_at,
                to_at,
                status,
                project_id,
                limit,
                parent_run_id=parent_run_id,
                search=search,
                where=where,
            )
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
        search: str | None = None,
        where: Sequence[MetricCondition] = (),
    ) -> Iterator[RunRecord]:
        """Yield the runs of :meth:`list_runs` one by one, streaming from the database."""
        filters = _Filters(from_at, to_at, status, project_id, parent_run_id, search, where)
        cursor = self._select_runs(_SELECT_RUNS, filters, limit)
        try:
            for row in cursor:
                yield RunRecord(*row)
        finally:
            cursor.close()

    def iter_listing(
        self,
        from_at: TimeBound = None,
        to_at: TimeBound = None,
        status: str | None = None,
        project_id: str | None = None,
        limit: int | None = None,
        *,
        parent_run_id: int | None = None,
        search: str | None = None,
        where: Sequence[MetricCondition] = (),
        with_metrics: bool = True,
    ) -> Iterator[ListedRun]:
        """Yield the runs of :meth:`list_runs` with their reason and figures (``list-runs``).

        Streamed: the rows are read :data:`LISTING_BATCH` at a time, and the figures
        of each batch in one more query (none without ``with_metrics``: ``{}``).
        """
        filters = _Filters(from_at, to_at, status, project_id, parent_run_id, search, where)
        cursor = self._select_runs(_SELECT_LISTING, filters, limit)
        try:
            while True:
                rows = cursor.fetchmany(LISTING_BATCH)
                if not rows:
                    return
                found = self.metrics_of([row[0] for row in rows]) if with_metrics else {}
                for row in rows:
                    record = RunRecord(*row[:_RECORD_SIZE])
                    yield ListedRun(record, row[_RECORD_SIZE], found.get(record.run_id, {}))
        finally:
            cursor.close()

    def _select_runs(self, select: str, filters: _Filters, limit: int | None) -> Cursor:
        """Run the search and return its cursor, whose rows are plain tuples.

        The ORDER BY matches the indexes ``(created_at)``, ``(status, created_at)``,
        ``(project_id, created_at)``, ``(project_id, status, created_at)`` and
        ``(parent_run_id, created_at)`` (each ends with the rowid, ``run_id``), so a
        page is read from the index in order with no sort: its cost does not grow with
        the table. A condition on the figures that few runs meet is read from the
        figures' index instead (see :meth:`_driving_condition`).
        """
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        drive = self._driving_condition(filters.where, limit)
        where, params = _run_filters(filters, drive)
        sql = f"{select}{where} ORDER BY r.created_at DESC, r.run_id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        cursor = self._conn.cursor()
        # Tuples rather than the connection's sqlite3.Row: a third less time per row.
        cursor.row_factory = None
        return cursor.execute(sql, params)

    def _driving_condition(self, where: Sequence[MetricCondition], limit: int | None) -> int | None:
        """The index of the condition to read the runs from, or ``None``: walk the runs.

        Walking the runs newest first and looking up each one's figure finds a page
        of ``limit`` runs quickly when many runs meet the conditions, but reads the
        whole table when few do. Reading the runs that meet one condition from
        ``idx_run_metrics_key_number`` (or ``_key_text``) and sorting them costs in
        proportion to their number instead. So each condition's matches are counted
        on its index, up to a bound (``sqrt(limit * runs / 2)`` for a page, half the
        runs for a whole listing, where the two costs meet), and the rarest condition
        under the bound drives the search. ``~`` (a text inside) cannot be counted on
        an index: it never drives.
        """
        if not where:
            return None
        row = self._conn.execute("SELECT max(run_id) FROM runs").fetchone()
        size = int(row[0] or 0)
        bound = size // 2 if limit is None else isqrt(limit * size // 2)
        best: tuple[int, int] | None = None
        for index, condition in enumerate(where):
            if condition.op == "~":
                continue
            test, params = _metric_test(condition)
            sql = f"SELECT count(*) FROM (SELECT 1 FROM run_metrics AS m WHERE {test} LIMIT ?) AS found"  # noqa: S608, E501 - fixed fragments
            count = int(self._conn.execute(sql, [*params, bound + 1]).fetchone()[0])
            if count <= bound and (best is None or count < best[0]):
                best = (count, index)
        return None if best is None else best[1]

    def count_runs(
        self,
        from_at: TimeBound = None,
        to_at: TimeBound = None,
        status: str | None = None,
        project_id: str | None = None,
        *,
        parent_run_id: int | None = None,
        search: str | None = None,
        where: Sequence[MetricCondition] = (),
    ) -> int:
        """Return how many runs match the filters of :meth:`list_runs`."""
        filters = _Filters(from_at, to_at, status, project_id, parent_run_id, search, where)
        clauses, params = _run_filters(filters, self._driving_condition(where, None))
        sql = f"SELECT count(*) FROM runs AS r{clauses}"  # noqa: S608 - values are bound
        row = self._conn.execute(sql, params).fetchone()
        return int(row[0])

    # -- figures (run_metrics) ---------------------------------------------------------

    def set_metrics(
        self, run_id: int, metrics: Mapping[str, MetricValue], *, replace: bool = False
    ) -> None:
        """Store the run's figures: each key's value replaces the one stored, if any.

        With ``replace`` the run's other figures are removed first. Every key and value
        must be valid (:func:`~monocycle_nash.runmeta.metrics.metric_problem`), else
        :class:`InvalidMetricError` and nothing is written by this call. Raises
        :class:`RunNotFoundError` for an unknown run.
        """
        from monocycle_nash.runmeta.metrics import metric_problem  # noqa: PLC0415 - writers only

        for key, value in metrics.items():
            problem = metric_problem(key, value)
            if problem is not None:
                raise InvalidMetricError(problem)
        if self._conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
            raise RunNotFoundError(run_id)
        if replace:
            self._conn.execute("DELETE FROM run_metrics WHERE run_id = ?", (run_id,))
        self._conn.executemany(
            "INSERT INTO run_metrics (run_id, key, number, text) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (run_id, key) DO UPDATE SET number = excluded.number,"
            " text = excluded.text",
            [(run_id, key, *_encode_metric(value)) for key, value in metrics.items()],
        )

    def metrics(self, run_id: int) -> dict[str, MetricValue]:
        """Return the run's figures by key, keys in ascending order (``{}``: none)."""
        rows = self._conn.execute(
            "SELECT key, number, text FROM run_metrics WHERE run_id = ? ORDER BY key", (run_id,)
        ).fetchall()
        return {str(row[0]): _decode_metric(row[1], row[2]) for row in rows}

    def metrics_of(self, run_ids: Iterable[int]) -> dict[int, dict[str, MetricValue]]:
        """Return the figures of many runs in one query: ``{run_id: {key: value}}``.

        Runs without figures are left out. For listings: pass a batch of ids (a few
        hundred; SQLite binds at most 32766 values, 999 before version 3.32).
        """
        ids = builtins.list(dict.fromkeys(run_ids))
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        cursor = self._conn.cursor()
        cursor.row_factory = None
        found: dict[int, dict[str, MetricValue]] = {}
        try:
            for run_id, key, number, text in cursor.execute(
                "SELECT run_id, key, number, text FROM run_metrics"  # noqa: S608 - placeholders
                f" WHERE run_id IN ({marks}) ORDER BY run_id, key",
                ids,
            ):
                found.setdefault(run_id, {})[key] = _decode_metric(number, text)
        finally:
            cursor.close()
        return found

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


class _Filters:
    """The filters of a run search, as :meth:`RunsRepository.list_runs` takes them."""

    __slots__ = ("from_at", "parent_run_id", "project_id", "search", "status", "to_at", "where")

    def __init__(  # noqa: PLR0917 - the filters of list_runs, in its order
        self,
        from_at: TimeBound,
        to_at: TimeBound,
        status: str | None,
        project_id: str | None,
        parent_run_id: int | None,
        search: str | None,
        where: Sequence[MetricCondition],
    ) -> None:
        self.from_at = from_at
        self.to_at = to_at
        self.status = status
        self.project_id = project_id
        self.parent_run_id = parent_run_id
        self.search = search
        self.where = tuple(where)


# The SQL of each --where operator: only these fixed fragments are ever put in a query;
# the key and the value are bound parameters.
_NUMBER_TESTS: Final = {
    "=": "m.number = ?",
    "!=": "m.number <> ?",
    "<": "m.number < ?",
    "<=": "m.number <= ?",
    ">": "m.number > ?",
    ">=": "m.number >= ?",
}
_TEXT_TESTS: Final = {
    "=": "m.text = ?",
    "!=": "m.text <> ?",
    "~": "m.text LIKE ? ESCAPE '\\'",
}
_SEARCHED: Final = (
    "(r.note LIKE ? ESCAPE '\\' OR r.command LIKE ? ESCAPE '\\' OR r.reason LIKE ? ESCAPE '\\')"
)
"""``--search``: the same pattern three times (note, command, reason)."""


def _contains_pattern(text: str) -> str:
    """A LIKE pattern matching any text that contains ``text`` (``%``, ``_`` escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _metric_test(condition: MetricCondition) -> tuple[str, builtins.list[object]]:
    """The SQL test of one figure condition on ``run_metrics AS m``, and its parameters."""
    value = condition.value
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    tests = _NUMBER_TESTS if numeric else _TEXT_TESTS
    test = tests.get(condition.op)
    if test is None:
        kind = "a number" if numeric else "a text"
        raise ValueError(f"operator {condition.op!r} does not compare {kind}")
    if isinstance(value, bool):
        value = "true" if value else "false"
    if condition.op == "~":
        value = _contains_pattern(str(value))
    return f"m.key = ? AND {test}", [condition.key, value]


def _run_filters(filters: _Filters, drive: int | None = None) -> tuple[str, builtins.list[object]]:
    """The WHERE clause of a run search and its parameters.

    ``drive`` is the index of the figure condition that selects the runs through the
    figures' index (``r.run_id IN (...)``); the others are ``EXISTS`` tests of each
    run's figure by the primary key.
    """
    clauses: builtins.list[str] = []
    params: builtins.list[object] = []
    if filters.from_at is not None:
        clauses.append("r.created_at >= ?")
        params.append(normalize_timestamp(filters.from_at))
    if filters.to_at is not None:
        clauses.append("r.created_at <= ?")
        params.append(normalize_timestamp(filters.to_at))
    if filters.status is not None:
        clauses.append("r.status = ?")
        params.append(parse_status(filters.status))
    if filters.project_id is not None:
        clauses.append("r.project_id = ?")
        params.append(filters.project_id)
    if filters.parent_run_id is not None:
        clauses.append("r.parent_run_id = ?")
        params.append(filters.parent_run_id)
    for index, condition in enumerate(filters.where):
        test, values = _metric_test(condition)  # fixed fragments; values are bound
        if index == drive:
            clauses.append(f"r.run_id IN (SELECT m.run_id FROM run_metrics AS m WHERE {test})")  # noqa: S608
        else:
            clauses.append(
                f"EXISTS (SELECT 1 FROM run_metrics AS m WHERE m.run_id = r.run_id AND {test})"  # noqa: S608
            )
        params.extend(values)
    if filters.search is not None:
        pattern = _contains_pattern(filters.search)
        clauses.append(_SEARCHED)
        params.extend((pattern, pattern, pattern))
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return where, params


def _encode_metric(value: MetricValue) -> tuple[int | float | None, str | None]:
    """The ``(number, text)`` columns of a figure (a boolean fills both)."""
    if isinstance(value, bool):
        return int(value), "true" if value else "false"
    if isinstance(value, int | float):
        return value, None
    return None, value


def _decode_metric(number: object, text: object) -> MetricValue:
    """The figure stored as ``(number, text)`` (see :func:`_encode_metric`)."""
    if number is not None and text is not None:
        return text == "true"
    if isinstance(number, int | float):
        return number
    return None if text is None else str(text)


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

    def __init__(self, conn: Connection) -> None:
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
            if constraint_of(err) == "unique":
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
