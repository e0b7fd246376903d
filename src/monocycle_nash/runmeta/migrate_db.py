"""Copying a history from an SQLite file into an empty PostgreSQL database (``migrate-db``).

:func:`copy_history` reads the SQLite file (opened for reading; a file of an older
schema is brought up to date first, as any command does) and writes the PostgreSQL
database in one transaction, behind the write lock: the projects, every run with its
own id and every column (process, reason, folder, parent), and the runs' figures. The
target must hold no project, run or figure, or nothing is copied
(:class:`CopyRefusedError`). The next run id on the server continues after the
largest id the file ever gave (its ``sqlite_sequence``, so an id of a deleted run is
not given again). A child whose parent row is gone (``check``'s ``orphan-child``) is
copied without its parent, with a note: the server's foreign key allows no other way.

The run folders are not touched: ids are kept, so ``result/<run_id>/`` still belongs
to the same run; point ``--result-root`` (or the settings) at the same folder.

The SQL here (INSERTs with their own ids, the sequence) serves only this copy, as the
rebuild's does in ``repair.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from monocycle_nash.runmeta.backends import DatabaseUrl, postgres_factory
from monocycle_nash.runmeta.db import SQLiteConnectionFactory, transaction
from monocycle_nash.runmeta.errors import CopyRefusedError
from monocycle_nash.text import plural

if TYPE_CHECKING:
    from monocycle_nash.runmeta.backends import Connection

__all__ = ["CopyReport", "copy_history"]

_RUN_COLUMNS: Final = (
    "run_id",
    "created_at",
    "started_at",
    "ended_at",
    "status",
    "command",
    "git_commit",
    "note",
    "project_id",
    "updated_at",
    "host",
    "pid",
    "process_start",
    "reason",
    "folder",
    "parent_run_id",
)
_TABLES: Final = {
    "projects": ("project_id", "project_path", "created_at", "note"),
    "runs": _RUN_COLUMNS,
    "run_metrics": ("run_id", "key", "number", "text"),
}
_ORDER: Final = {"projects": "project_id", "runs": "run_id", "run_metrics": "run_id, key"}
_BATCH: Final = 1000


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What :func:`copy_history` copied: rows per table, the next run id, notes."""

    source: str
    target: str
    copied: tuple[tuple[str, int], ...]
    """``(table, rows)`` in the order copied."""
    next_run_id: int
    notes: tuple[str, ...]


def copy_history(
    source: str | Path,
    target: DatabaseUrl,
    *,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy the SQLite history ``source`` into the empty PostgreSQL database ``target``.

    ``progress(table, rows)`` is called after each table. Raises
    :class:`CopyRefusedError` for a target that is not empty, and the usual
    ``DatabaseError`` kinds (a missing source: ``DatabaseNotFoundError``).
    """
    path = Path(source)
    reader = SQLiteConnectionFactory(path).connect(read_only=True)
    try:
        writer = postgres_factory(target).connect()
        try:
            return _copy(reader, writer, path, target, progress)
        finally:
            writer.close()
    finally:
        reader.close()


def _copy(
    reader: Connection,
    writer: Any,
    path: Path,
    target: DatabaseUrl,
    progress: Callable[[str, int], None] | None,
) -> CopyReport:
    notes: list[str] = []
    copied: list[tuple[str, int]] = []
    with transaction(writer):
        held = [
            plural(int(writer.execute(f"SELECT count(*) FROM {table}").fetchone()[0]), noun)  # noqa: S608 - our names
            for table, noun in (("runs", "run"), ("projects", "project"), ("run_metrics", "figure"))
        ]
        if any(not text.startswith("0 ") for text in held):
            raise CopyRefusedError(
                path,
                str(target),
                f"it already holds {', '.join(held)}; migrate-db copies into an empty"
                " database only",
            )
        ids = {int(row[0]) for row in reader.execute("SELECT run_id FROM runs")}
        for table, columns in _TABLES.items():
            rows = _rows(reader, table, columns)
            if table == "runs":
                rows = _without_lost_parents(rows, ids, notes)
            count = 0
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)})"  # noqa: S608 - our own names
                f" VALUES ({', '.join('?' * len(columns))})"
            )
            for batch in _batches(rows):
                writer.executemany(sql, batch)
                count += len(batch)
            copied.append((table, count))
            if progress is not None:
                progress(table, count)
        last = max([_sequence(reader), *ids, 0])
        writer.restart_run_ids(last)
    return CopyReport(str(path), str(target), tuple(copied), last + 1, tuple(notes))


def _rows(reader: Connection, table: str, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    cursor = reader.cursor()
    cursor.row_factory = None
    try:
        yield from cursor.execute(
            f"SELECT {', '.join(columns)} FROM {table} ORDER BY {_ORDER[table]}"  # noqa: S608
        )
    finally:
        cursor.close()


def _without_lost_parents(
    rows: Iterator[tuple[Any, ...]], ids: set[int], notes: list[str]
) -> Iterator[tuple[Any, ...]]:
    """The runs, a child whose parent row is gone copied without it (and said in ``notes``)."""
    for row in rows:
        parent = row[-1]
        if parent is not None and parent not in ids:
            notes.append(
                f"run {row[0]} names parent run {parent}, which is not in the history"
                " (orphan-child); copied without its parent"
            )
            row = (*row[:-1], None)  # noqa: PLW2901 - the row as copied
        yield row


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _sequence(reader: Connection) -> int:
    """The largest run id the SQLite file ever gave (deleted runs included)."""
    row = reader.execute("SELECT seq FROM sqlite_sequence WHERE name = 'runs'").fetchone()
    return int(row[0]) if row is not None and isinstance(row[0], int) else 0
