"""Typed errors of the runmeta library.

Every user mistake or environment problem raises a subclass of :class:`RunMetaError`
whose ``str()`` is a one-line message fit for a user. Only CLIs turn them into stderr
lines and exit codes. :class:`RunTerminated` is deliberately *not* a ``RunMetaError``:
like ``KeyboardInterrupt`` it derives from ``BaseException`` so that ordinary
``except Exception`` blocks do not swallow a termination request.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from monocycle_nash.text import plural

__all__ = [
    "ArtifactWriteError",
    "ChildDeletionStoppedError",
    "CopyRefusedError",
    "DatabaseAccessError",
    "DatabaseConnectionLostError",
    "DatabaseCorruptError",
    "DatabaseError",
    "DatabaseFullError",
    "DatabaseIOError",
    "DatabaseLockedError",
    "DatabaseNotFoundError",
    "DatabaseReadOnlyError",
    "DatabaseWriteError",
    "DriverMissingError",
    "DuplicateProjectError",
    "ForeignFolderError",
    "ForeignMetaError",
    "InputNotFoundError",
    "InputReadError",
    "InvalidDatabaseUrlError",
    "InvalidMetricError",
    "InvalidProjectIdError",
    "InvalidProjectPathError",
    "InvalidStatusError",
    "InvalidTimestampError",
    "MetaCorruptError",
    "MetaNotFoundError",
    "NotADatabaseError",
    "NotOnServerError",
    "ParentRunNotFoundError",
    "ProjectLinkError",
    "ProjectNotFoundError",
    "RebuildFailedError",
    "RebuildRefusedError",
    "RunDeletionIncompleteError",
    "RunDirExistsError",
    "RunDirNotFoundError",
    "RunFilesLeftError",
    "RunHasChildrenError",
    "RunMetaError",
    "RunNotFoundError",
    "RunProcessAliveError",
    "RunStatusChangedError",
    "RunStillRunningError",
    "RunTerminated",
    "SchemaTooNewError",
]


class RunMetaError(Exception):
    """Base class of every runmeta error; ``str(err)`` is a one-line user-facing message."""

    failed_run_id: int | None = None
    """Set by ``RunSessionService.start`` when the error ended a run it had inserted:
    that run is recorded as ``fail`` with this error as its reason."""


class RunNotFoundError(RunMetaError):
    """No run with this id in the database."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id} not found")


class ParentRunNotFoundError(RunNotFoundError):
    """A child run was to be started under a run id that does not exist; nothing recorded."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        # Not RunNotFoundError's message: this one says what the run was wanted for.
        RunMetaError.__init__(self, f"parent run {run_id} not found; no run was started")


_IDS_SHOWN = 10
"""Run ids a message lists before it gives only their number."""


def _id_list(ids: Sequence[int]) -> str:
    """``4, 5, 6``; a long list is cut: ``4, 5, ..., 13, ... (1000 runs)``."""
    shown = ", ".join(str(run_id) for run_id in ids[:_IDS_SHOWN])
    if len(ids) <= _IDS_SHOWN:
        return shown
    return f"{shown}, ... ({plural(len(ids), 'run')} in all)"


class RunHasChildrenError(RunMetaError):
    """A run with child runs was to be deleted alone; nothing was deleted."""

    def __init__(self, run_id: int, child_ids: Sequence[int]) -> None:
        self.run_id = run_id
        self.child_ids = tuple(child_ids)
        super().__init__(
            f"run {run_id} has {plural(len(child_ids), 'child run')} ({_id_list(child_ids)});"
            " nothing deleted (give --children to delete them first, or delete them one by"
            " one)"
        )


class ChildDeletionStoppedError(RunMetaError):
    """Deleting a parent run with its children stopped after some children were deleted.

    ``deleted`` are the ids of the runs that are gone (rows, and with ``with_files``
    their folders); the parent run and the children not yet deleted stay. ``__cause__``
    is the error that stopped it, whose message is part of this one.
    """

    def __init__(
        self, run_id: int, deleted: Sequence[int], stopped_at: int, cause: RunMetaError
    ) -> None:
        self.run_id = run_id
        self.deleted = tuple(deleted)
        self.stopped_at = stopped_at
        super().__init__(
            f"deleted {plural(len(deleted), 'child run')} of run {run_id}"
            f" ({_id_list(deleted)}), then stopped at run {stopped_at}: {cause}; run"
            f" {run_id} is still in the database; fix the cause and give the same"
            " delete-run again to finish"
        )


class RunStatusChangedError(RunMetaError):
    """The run's status is no longer the one the change was meant for; nothing changed."""

    def __init__(self, run_id: int, expected: str, found: str) -> None:
        self.run_id = run_id
        self.expected = expected
        self.found = found
        super().__init__(f"run {run_id} is {found}, no longer {expected}; left unchanged")


class RunStillRunningError(RunMetaError):
    """The run's status is ``running``; deleting it needs ``force`` (``--force``)."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(
            f"run {run_id} is still running; nothing deleted (give --force to delete it anyway)"
        )


class RunFilesLeftError(RunMetaError):
    """Removing a run's files failed; its row is kept so that the deletion can be rerun."""

    def __init__(
        self,
        run_id: int,
        reason: str,
        left: list[str],
        retry: str = "fix the cause and run delete-run --with-files again",
    ) -> None:
        self.run_id = run_id
        self.left = left
        verb = "remains" if len(left) == 1 else "remain"
        super().__init__(
            f"{reason}; run {run_id} is kept in the database and {', '.join(left)} {verb}; {retry}"
        )


class ProjectNotFoundError(RunMetaError):
    """No project with this id in the database."""

    def __init__(self, project_id: str) -> None:
        self.project_id = project_id
        super().__init__(f"project {project_id!r} not found")


class DuplicateProjectError(RunMetaError):
    """A project with this id already exists."""

    def __init__(self, project_id: str) -> None:
        self.project_id = project_id
        super().__init__(f"project {project_id!r} already exists")


class InvalidProjectIdError(RunMetaError):
    """A project id that is empty, only whitespace, or holds control characters."""

    def __init__(self, project_id: str, reason: str = "it must not be empty") -> None:
        self.project_id = project_id
        super().__init__(f"invalid project id {project_id!r}: {reason}")


class InvalidProjectPathError(RunMetaError):
    """A project path that is empty or names something that is not a folder."""

    def __init__(self, project_path: str | Path, reason: str) -> None:
        self.project_path = str(project_path)
        super().__init__(f"invalid project path {self.project_path!r}: {reason}")


class InvalidStatusError(RunMetaError):
    """A status that is not one of running/success/fail/killed, or not allowed here."""

    def __init__(self, status: str, detail: str = "") -> None:
        self.status = status
        message = detail or "expected one of running, success, fail, killed"
        super().__init__(f"invalid run status {status!r}: {message}")


class InvalidMetricError(RunMetaError):
    """A run figure that cannot be stored: a bad key, or an unusable value.

    Raised by ``RunEditor.set_metrics``; at a run's end a bad figure is only a warning.
    """

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


class InvalidTimestampError(RunMetaError):
    """A time that cannot be read as an ISO-8601 timestamp."""

    def __init__(self, value: str, detail: str = "") -> None:
        self.value = value
        message = detail or "expected ISO-8601 like 2026-02-14T19:30:12+09:00"
        super().__init__(f"invalid time {value!r}: {message}")


class DatabaseError(RunMetaError):
    """The run database could not be used; ``db_path`` names it and the message says why.

    Every SQLite failure that reaches runmeta's boundary (a connection from
    :class:`~monocycle_nash.runmeta.db.SQLiteConnectionFactory`, or
    :func:`~monocycle_nash.runmeta.db.transaction`) becomes one of these, with the SQLite
    error as ``__cause__`` and its extended result code in ``sqlite_errorcode`` and
    ``sqlite_errorname`` (``None`` when it had none). Problems without a subclass of
    their own are this class itself, with SQLite's message. None of them is an
    ``sqlite3.Error``: callers catch ``DatabaseError``, which another backend can raise too.

    On PostgreSQL (``postgres.py``) ``db_path`` is the database's URL without its
    password, the driver's error is the ``__cause__`` and ``sqlstate`` its SQLSTATE code.
    ``constraint`` names a violated constraint's kind on either backend
    (``"foreign_key"``, ``"unique"``, ``"check"``, ``"not_null"``), else ``None``.
    """

    sqlite_errorcode: int | None = None
    sqlite_errorname: str | None = None
    sqlstate: str | None = None
    constraint: str | None = None

    def __init__(self, db_path: str | Path, message: str) -> None:
        self.db_path = str(db_path)
        super().__init__(message)


class DatabaseAccessError(DatabaseError):
    """The database file cannot be opened or read."""

    def __init__(self, db_path: str | Path, reason: str) -> None:
        self.reason = reason
        super().__init__(db_path, f"cannot open run database {db_path}: {reason}")


class DatabaseLockedError(DatabaseError):
    """Another process kept the database locked for the whole busy timeout.

    Raised once the statement gave up; ``transaction()`` has rolled back by then, so
    nothing was changed.
    """

    def __init__(self, db_path: str | Path, waited: float) -> None:
        self.waited = waited
        super().__init__(
            db_path,
            f"run database {db_path} is locked by another process (waited {waited:g} s);"
            " nothing was changed, try again later",
        )


class NotADatabaseError(DatabaseAccessError):
    """The database path holds a file that is not SQLite; it is left untouched."""

    def __init__(self, db_path: str | Path) -> None:
        super().__init__(db_path, "the file is not an SQLite database (left untouched)")


class SchemaTooNewError(DatabaseError):
    """The database was written by a newer version of this program."""

    def __init__(self, db_path: str | Path, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            db_path,
            f"run database {db_path} has schema version {found}, newer than the "
            f"supported version {supported}; upgrade monocycle-nash",
        )


class DatabaseCorruptError(DatabaseError):
    """The database file is damaged (``database disk image is malformed``)."""

    def __init__(self, db_path: str | Path, detail: str) -> None:
        super().__init__(
            db_path,
            f"run database {db_path} is damaged ({detail}); rebuild it from the run folders"
            " with `runmeta rebuild --move-aside`, or restore it from a backup",
        )


class DatabaseReadOnlyError(DatabaseError):
    """The database could be read but not written (file, folder or file system read-only)."""

    def __init__(
        self,
        db_path: str | Path,
        detail: str,
        *,
        hint: str = "make the file and its folder writable",
    ) -> None:
        super().__init__(
            db_path,
            f"run database {db_path} is read-only ({detail}); nothing was changed, {hint}"
            " and try again",
        )


class DatabaseIOError(DatabaseError):
    """The operating system failed to read or write the database (``disk I/O error``)."""

    def __init__(self, db_path: str | Path, detail: str) -> None:
        super().__init__(
            db_path,
            f"run database {db_path}: disk I/O error ({detail}); check the disk and the"
            " file, then try again",
        )


class DatabaseFullError(DatabaseError):
    """The disk (or the database's size limit) is full; the write was not made."""

    def __init__(self, db_path: str | Path, detail: str) -> None:
        super().__init__(
            db_path,
            f"run database {db_path}: the disk is full ({detail}); free some space and try again",
        )


class DatabaseConnectionLostError(DatabaseError):
    """The connection to a database server broke while it was in use.

    ``unknown_outcome`` is true when it broke during a ``COMMIT``: the change may or may
    not have been recorded. Otherwise the change in progress was rolled back by the server.
    """

    def __init__(self, db_path: str | Path, detail: str, *, unknown_outcome: bool = False) -> None:
        self.unknown_outcome = unknown_outcome
        outcome = (
            "the change being committed may or may not have been recorded"
            if unknown_outcome
            else "the change in progress was not recorded"
        )
        super().__init__(
            db_path, f"lost the connection to run database {db_path} ({detail}); {outcome}"
        )


class DriverMissingError(DatabaseAccessError):
    """A PostgreSQL URL was given, but its driver (psycopg, the ``postgres`` extra) is missing."""

    def __init__(self, db_path: str | Path) -> None:
        super().__init__(
            db_path,
            "PostgreSQL needs the psycopg driver, which is not installed: pip install"
            " 'monocycle-nash[postgres]' (or uv sync --extra postgres)",
        )


class InvalidDatabaseUrlError(RunMetaError):
    """A database URL that is not a PostgreSQL URL; its password is never shown."""

    def __init__(self, shown: str, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid database URL {shown}: {reason}")


class NotOnServerError(RunMetaError):
    """An operation on a database file (SQLite's own checks, a rebuild) given a server URL."""

    def __init__(self, operation: str, db_url: str, hint: str) -> None:
        super().__init__(f"{operation} works on an SQLite database file, not on {db_url}; {hint}")


class CopyRefusedError(RunMetaError):
    """``runmeta migrate-db`` cannot copy into its target (not empty...); nothing was copied."""

    def __init__(self, source: str | Path, target: str, reason: str) -> None:
        self.reason = reason
        super().__init__(f"cannot copy {source} into {target}: {reason}; nothing was copied")


class DatabaseWriteError(RunMetaError):
    """Recording a change in the database failed; the message says how to repair it."""

    def __init__(self, run_id: int, reason: str, repair: str = "") -> None:
        self.run_id = run_id
        self.reason = reason
        suffix = f"; repair with: {repair}" if repair else ""
        super().__init__(f"cannot record run {run_id} in the database: {reason}{suffix}")


class RunDirExistsError(RunMetaError):
    """The run folder already exists, so it is not reused for another run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(f"run folder {self.path} already exists; refusing to reuse it")


class RunDirNotFoundError(RunMetaError):
    """The run folder does not exist."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(f"run folder {self.path} does not exist")


class ArtifactWriteError(RunMetaError):
    """Writing a file or folder of a run failed (disk full, I/O error, permissions)."""

    def __init__(self, path: str | Path, cause: OSError | str) -> None:
        self.path = Path(path)
        reason = cause if isinstance(cause, str) else (cause.strerror or str(cause))
        self.reason = reason
        super().__init__(f"cannot write {self.path}: {reason}")


class InputNotFoundError(RunMetaError):
    """The input file or folder to snapshot does not exist."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(f"input {self.path} does not exist")


class InputReadError(RunMetaError):
    """The input to snapshot exists but cannot be read."""

    def __init__(self, path: str | Path, cause: OSError | str) -> None:
        self.path = Path(path)
        reason = cause if isinstance(cause, str) else (cause.strerror or str(cause))
        self.reason = reason
        super().__init__(f"cannot read input {self.path}: {reason}")


class MetaNotFoundError(RunMetaError):
    """A run folder has no meta.json."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path} does not exist")


class MetaCorruptError(RunMetaError):
    """meta.json exists but is not a readable JSON object."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path} is unreadable: {reason}")


class ForeignMetaError(RunMetaError):
    """The run folder's meta.json describes another run (an older database's); not written."""

    def __init__(self, path: str | Path, created_at: object) -> None:
        self.path = Path(path)
        super().__init__(
            f"{self.path} describes another run (created_at {created_at!r}); left alone"
        )


class ProjectLinkError(RunMetaError):
    """The reference from an analysis project to a run folder could not be made."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot link run into {self.path}: {reason}")


class RunTerminated(BaseException):
    """Raised in the main thread when SIGTERM arrives while a run is being recorded."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"terminated by signal {signum}")


class DatabaseNotFoundError(DatabaseError):
    """A command that only reads found no database file; nothing was created."""

    def __init__(self, db_path: str | Path) -> None:
        super().__init__(db_path, f"no run database at {db_path} (nothing recorded yet)")


class RebuildRefusedError(RunMetaError):
    """``runmeta rebuild`` would replace something it must not; nothing was changed."""

    def __init__(self, db_path: str | Path, reason: str) -> None:
        self.db_path = str(db_path)
        self.reason = reason
        super().__init__(f"cannot rebuild run database {db_path}: {reason}; nothing was changed")


class RebuildFailedError(RunMetaError):
    """``runmeta rebuild`` failed after it began to change files; the message says what changed."""

    def __init__(self, db_path: str | Path, reason: str) -> None:
        self.db_path = str(db_path)
        self.reason = reason
        super().__init__(f"rebuilding run database {db_path} failed: {reason}")


class ForeignFolderError(RunMetaError):
    """``result/<run_id>`` is not the run's own folder; runmeta never writes into it."""

    def __init__(self, path: str | Path, run_id: int, never_made: bool = False) -> None:
        self.path = Path(path)
        self.run_id = run_id
        how = (
            "the run ended before making it"
            if never_made
            else "it was there before the run started"
        )
        super().__init__(
            f"{self.path} is not the folder of run {run_id} ({how}); it is never written into"
        )


class RunProcessAliveError(RunMetaError):
    """A manual status for a run whose recording process still runs; nothing changed."""

    def __init__(self, run_id: int, host: str, pid: int) -> None:
        self.run_id = run_id
        super().__init__(
            f"run {run_id} is still running (process {pid} on host {host} is alive);"
            " its status was not changed (give --force to set it anyway: the run's own"
            " end then keeps it)"
        )


class RunDeletionIncompleteError(RunMetaError):
    """A run's files were removed but its row could not be deleted; the message says what."""

    def __init__(self, run_id: int, removed: list[str], reason: str) -> None:
        self.run_id = run_id
        self.removed = removed
        super().__init__(
            f"removed {', '.join(removed)}, but run {run_id} could not be deleted from the"
            f" database: {reason}; run delete-run --run-id {run_id} again to finish"
        )
