"""runmeta: record every run of a program in SQLite and in ``result/<run_id>/``.

The one-line way in, for notebooks and scripts::

    from monocycle_nash.runmeta import RunSessionService

    with RunSessionService.open(".") as service, service.record("notebook: sweep") as run:
        (run.output_dir / "answer.txt").write_text("42\\n")

The names below are the public API; everything else in the submodules is internal.
They are re-exported lazily (PEP 562): importing this package loads no submodule, and
a name loads only the module that defines it, so the ``runmeta`` command starts fast.
This package never imports the solver domain.
"""

from __future__ import annotations

import sys

# Not ``typing.TYPE_CHECKING``: importing ``typing`` would cost a few milliseconds on
# every start of the CLI. Type checkers treat any name ``TYPE_CHECKING`` as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from monocycle_nash.runmeta.artifact_store import (
        InputFile,
        RunArtifactStore,
        write_file_atomically,
    )
    from monocycle_nash.runmeta.backends import (
        URL_VARIABLE,
        DatabaseUrl,
        choose_database,
        is_database_url,
        public_url,
    )
    from monocycle_nash.runmeta.cli import read_note_file
    from monocycle_nash.runmeta.clock import Clock, FixedClock, JstClock
    from monocycle_nash.runmeta.db import (
        DEFAULT_DB_PATH,
        DEFAULT_RESULT_ROOT,
        SCHEMA_VERSION,
        SQLiteConnectionFactory,
        transaction,
    )
    from monocycle_nash.runmeta.edits import DeletedRun, RunEditor
    from monocycle_nash.runmeta.errors import (
        ArtifactWriteError,
        ChildDeletionStoppedError,
        CopyRefusedError,
        DatabaseAccessError,
        DatabaseConnectionLostError,
        DatabaseCorruptError,
        DatabaseError,
        DatabaseFullError,
        DatabaseIOError,
        DatabaseLockedError,
        DatabaseNotFoundError,
        DatabaseReadOnlyError,
        DatabaseWriteError,
        DriverMissingError,
        DuplicateProjectError,
        ForeignFolderError,
        ForeignMetaError,
        InputNotFoundError,
        InputReadError,
        InvalidDatabaseUrlError,
        InvalidMetricError,
        InvalidProjectIdError,
        InvalidProjectPathError,
        InvalidStatusError,
        InvalidTimestampError,
        MetaCorruptError,
        MetaNotFoundError,
        NotADatabaseError,
        NotOnServerError,
        ParentRunNotFoundError,
        ProjectLinkError,
        ProjectNotFoundError,
        RebuildFailedError,
        RebuildRefusedError,
        RunDeletionIncompleteError,
        RunDirExistsError,
        RunDirNotFoundError,
        RunFilesLeftError,
        RunHasChildrenError,
        RunMetaError,
        RunNotFoundError,
        RunProcessAliveError,
        RunStatusChangedError,
        RunStillRunningError,
        RunTerminated,
        SchemaTooNewError,
    )
    from monocycle_nash.runmeta.git_probe import FirstCommitProbe, GitCommitProbe, GitState
    from monocycle_nash.runmeta.models import (
        FINAL_STATUSES,
        RUN_STATUSES,
        MetricValue,
        ProjectRecord,
        RunRecord,
        RunStatus,
    )
    from monocycle_nash.runmeta.process import sigterm_raises
    from monocycle_nash.runmeta.provenance import Provenance, package_version
    from monocycle_nash.runmeta.repositories import ProjectsRepository, RunsRepository
    from monocycle_nash.runmeta.service import RunContext, RunSessionService

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("InputFile", "RunArtifactStore", "write_file_atomically"), "artifact_store"),
    **dict.fromkeys(
        ("URL_VARIABLE", "DatabaseUrl", "choose_database", "is_database_url", "public_url"),
        "backends",
    ),
    **dict.fromkeys(("Clock", "FixedClock", "JstClock"), "clock"),
    **dict.fromkeys(
        (
            "DEFAULT_DB_PATH",
            "DEFAULT_RESULT_ROOT",
            "SCHEMA_VERSION",
            "SQLiteConnectionFactory",
            "transaction",
        ),
        "db",
    ),
    **dict.fromkeys(("DeletedRun", "RunEditor"), "edits"),
    **dict.fromkeys(
        (
            "ArtifactWriteError",
            "ChildDeletionStoppedError",
            "CopyRefusedError",
            "ParentRunNotFoundError",
            "RunHasChildrenError",
            "RunDeletionIncompleteError",
            "RunProcessAliveError",
            "ForeignFolderError",
            "RebuildFailedError",
            "RebuildRefusedError",
            "DatabaseNotFoundError",
            "DatabaseAccessError",
            "DatabaseFullError",
            "DatabaseConnectionLostError",
            "DriverMissingError",
            "InvalidDatabaseUrlError",
            "NotOnServerError",
            "DatabaseIOError",
            "DatabaseReadOnlyError",
            "DatabaseCorruptError",
            "DatabaseError",
            "DatabaseLockedError",
            "DatabaseWriteError",
            "DuplicateProjectError",
            "ForeignMetaError",
            "InputNotFoundError",
            "InputReadError",
            "InvalidMetricError",
            "InvalidProjectIdError",
            "InvalidProjectPathError",
            "InvalidStatusError",
            "InvalidTimestampError",
            "MetaCorruptError",
            "MetaNotFoundError",
            "NotADatabaseError",
            "ProjectLinkError",
            "ProjectNotFoundError",
            "RunDirExistsError",
            "RunDirNotFoundError",
            "RunFilesLeftError",
            "RunMetaError",
            "RunNotFoundError",
            "RunStatusChangedError",
            "RunStillRunningError",
            "RunTerminated",
            "SchemaTooNewError",
        ),
        "errors",
    ),
    **dict.fromkeys(("FirstCommitProbe", "GitCommitProbe", "GitState"), "git_probe"),
    **dict.fromkeys(
        (
            "FINAL_STATUSES",
            "RUN_STATUSES",
            "MetricValue",
            "ProjectRecord",
            "RunRecord",
            "RunStatus",
        ),
        "models",
    ),
    "sigterm_raises": "process",
    **dict.fromkeys(("Provenance", "package_version"), "provenance"),
    "read_note_file": "cli",
    **dict.fromkeys(("ProjectsRepository", "RunsRepository"), "repositories"),
    **dict.fromkeys(("RunContext", "RunSessionService"), "service"),
}

__all__ = [
    "DEFAULT_DB_PATH",
    "DEFAULT_RESULT_ROOT",
    "FINAL_STATUSES",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "URL_VARIABLE",
    "ArtifactWriteError",
    "ChildDeletionStoppedError",
    "Clock",
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
    "DatabaseUrl",
    "DatabaseWriteError",
    "DeletedRun",
    "DriverMissingError",
    "DuplicateProjectError",
    "FirstCommitProbe",
    "FixedClock",
    "ForeignFolderError",
    "ForeignMetaError",
    "GitCommitProbe",
    "GitState",
    "InputFile",
    "InputNotFoundError",
    "InputReadError",
    "InvalidDatabaseUrlError",
    "InvalidMetricError",
    "InvalidProjectIdError",
    "InvalidProjectPathError",
    "InvalidStatusError",
    "InvalidTimestampError",
    "JstClock",
    "MetaCorruptError",
    "MetaNotFoundError",
    "MetricValue",
    "NotADatabaseError",
    "NotOnServerError",
    "ParentRunNotFoundError",
    "ProjectLinkError",
    "ProjectNotFoundError",
    "ProjectRecord",
    "ProjectsRepository",
    "Provenance",
    "RebuildFailedError",
    "RebuildRefusedError",
    "RunArtifactStore",
    "RunContext",
    "RunDeletionIncompleteError",
    "RunDirExistsError",
    "RunDirNotFoundError",
    "RunEditor",
    "RunFilesLeftError",
    "RunHasChildrenError",
    "RunMetaError",
    "RunNotFoundError",
    "RunProcessAliveError",
    "RunRecord",
    "RunSessionService",
    "RunStatus",
    "RunStatusChangedError",
    "RunStillRunningError",
    "RunTerminated",
    "RunsRepository",
    "SQLiteConnectionFactory",
    "SchemaTooNewError",
    "choose_database",
    "is_database_url",
    "package_version",
    "public_url",
    "read_note_file",
    "sigterm_raises",
    "transaction",
    "write_file_atomically",
]


def __getattr__(name: str) -> Any:
    """Load the submodule that defines ``name`` on first use (PEP 562)."""
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # __import__ rather than importlib.import_module: the importlib package would add
    # its own import (and warnings') to every start.
    full_name = f"{__name__}.{module_name}"
    __import__(full_name)
    value = getattr(sys.modules[full_name], name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names alongside the module's own attributes."""
    return sorted({*globals(), *_EXPORTS})
