"""runmeta: record every run of a program in SQLite and in ``result/<run_id>/``.

The one-line way in, for notebooks and scripts::

    from monocycle_nash.runmeta import RunSessionService

    with RunSessionService.open(".") as service, service.record("notebook: sweep") as run:
        (run.output_dir / "answer.txt").write_text("42\\n")

Names are re-exported lazily (PEP 562), so ``import monocycle_nash.runmeta`` and the
import of any one submodule stay cheap: only the module that defines a name is loaded,
when the name is first used. This package never imports the solver domain.
"""

from __future__ import annotations

import sys

# Not ``typing.TYPE_CHECKING``: importing ``typing`` would cost a few milliseconds on
# every start of the CLI. Type checkers treat any name ``TYPE_CHECKING`` as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from monocycle_nash.runmeta.artifact_store import RunArtifactStore
    from monocycle_nash.runmeta.clock import (
        JST,
        Clock,
        FixedClock,
        JstClock,
        format_timestamp,
        normalize_timestamp,
        parse_timestamp,
    )
    from monocycle_nash.runmeta.consistency import check_consistency
    from monocycle_nash.runmeta.db import (
        SCHEMA_VERSION,
        SQLiteConnectionFactory,
        migrate,
        schema_version,
        transaction,
    )
    from monocycle_nash.runmeta.deletion import DeletedRun
    from monocycle_nash.runmeta.errors import (
        ArtifactWriteError,
        DatabaseAccessError,
        DatabaseLockedError,
        DatabaseWriteError,
        DuplicateProjectError,
        ForeignMetaError,
        InputNotFoundError,
        InputReadError,
        InvalidProjectIdError,
        InvalidProjectPathError,
        InvalidStatusError,
        InvalidTimestampError,
        MetaCorruptError,
        MetaNotFoundError,
        NotADatabaseError,
        ProjectLinkError,
        ProjectNotFoundError,
        RunDirExistsError,
        RunDirNotFoundError,
        RunFilesLeftError,
        RunMetaError,
        RunNotFoundError,
        RunStatusChangedError,
        RunStillRunningError,
        RunTerminated,
        SchemaTooNewError,
    )
    from monocycle_nash.runmeta.git_probe import GitCommitProbe, read_git_commit
    from monocycle_nash.runmeta.meta import (
        META_SCHEMA_VERSION,
        build_meta,
        meta_mismatches,
        sync_row,
    )
    from monocycle_nash.runmeta.models import (
        FINAL_STATUSES,
        RUN_FIELDS,
        RUN_STATUSES,
        InputSnapshotInfo,
        LinkKind,
        ProcessIdentity,
        ProjectRecord,
        RunContext,
        RunRecord,
        RunStatus,
        parse_status,
    )
    from monocycle_nash.runmeta.output_capture import capture_output
    from monocycle_nash.runmeta.process_identity import (
        ProcessState,
        current_process,
        is_process_alive,
    )
    from monocycle_nash.runmeta.project_links import (
        ProjectLink,
        find_link,
        link_run,
        refresh_link,
        unlink_run,
    )
    from monocycle_nash.runmeta.reaper import reap
    from monocycle_nash.runmeta.repositories import ProjectsRepository, RunsRepository
    from monocycle_nash.runmeta.service import RunSessionService
    from monocycle_nash.runmeta.signals import sigterm_raises

_EXPORTS: dict[str, str] = {
    "RunArtifactStore": "artifact_store",
    **dict.fromkeys(
        (
            "JST",
            "Clock",
            "FixedClock",
            "JstClock",
            "format_timestamp",
            "normalize_timestamp",
            "parse_timestamp",
        ),
        "clock",
    ),
    **dict.fromkeys(
        (
            "SCHEMA_VERSION",
            "SQLiteConnectionFactory",
            "migrate",
            "schema_version",
            "transaction",
        ),
        "db",
    ),
    **dict.fromkeys(
        (
            "ArtifactWriteError",
            "DatabaseAccessError",
            "DatabaseLockedError",
            "DatabaseWriteError",
            "DuplicateProjectError",
            "ForeignMetaError",
            "InputNotFoundError",
            "InputReadError",
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
    **dict.fromkeys(("GitCommitProbe", "read_git_commit"), "git_probe"),
    **dict.fromkeys(("META_SCHEMA_VERSION", "build_meta", "meta_mismatches", "sync_row"), "meta"),
    **dict.fromkeys(
        (
            "FINAL_STATUSES",
            "RUN_FIELDS",
            "RUN_STATUSES",
            "InputSnapshotInfo",
            "LinkKind",
            "ProcessIdentity",
            "ProjectRecord",
            "RunContext",
            "RunRecord",
            "RunStatus",
            "parse_status",
        ),
        "models",
    ),
    "capture_output": "output_capture",
    **dict.fromkeys(("ProcessState", "current_process", "is_process_alive"), "process_identity"),
    **dict.fromkeys(
        ("ProjectLink", "find_link", "link_run", "refresh_link", "unlink_run"), "project_links"
    ),
    **dict.fromkeys(("ProjectsRepository", "RunsRepository"), "repositories"),
    "RunSessionService": "service",
    "check_consistency": "consistency",
    "DeletedRun": "deletion",
    "reap": "reaper",
    "sigterm_raises": "signals",
}

__all__ = [
    "FINAL_STATUSES",
    "JST",
    "META_SCHEMA_VERSION",
    "RUN_FIELDS",
    "RUN_STATUSES",
    "SCHEMA_VERSION",
    "ArtifactWriteError",
    "Clock",
    "DatabaseAccessError",
    "DatabaseLockedError",
    "DatabaseWriteError",
    "DeletedRun",
    "DuplicateProjectError",
    "FixedClock",
    "ForeignMetaError",
    "GitCommitProbe",
    "InputNotFoundError",
    "InputReadError",
    "InputSnapshotInfo",
    "InvalidProjectIdError",
    "InvalidProjectPathError",
    "InvalidStatusError",
    "InvalidTimestampError",
    "JstClock",
    "LinkKind",
    "MetaCorruptError",
    "MetaNotFoundError",
    "NotADatabaseError",
    "ProcessIdentity",
    "ProcessState",
    "ProjectLink",
    "ProjectLinkError",
    "ProjectNotFoundError",
    "ProjectRecord",
    "ProjectsRepository",
    "RunArtifactStore",
    "RunContext",
    "RunDirExistsError",
    "RunDirNotFoundError",
    "RunFilesLeftError",
    "RunMetaError",
    "RunNotFoundError",
    "RunRecord",
    "RunSessionService",
    "RunStatus",
    "RunStatusChangedError",
    "RunStillRunningError",
    "RunTerminated",
    "RunsRepository",
    "SQLiteConnectionFactory",
    "SchemaTooNewError",
    "build_meta",
    "capture_output",
    "check_consistency",
    "current_process",
    "find_link",
    "format_timestamp",
    "is_process_alive",
    "link_run",
    "meta_mismatches",
    "migrate",
    "normalize_timestamp",
    "parse_status",
    "parse_timestamp",
    "read_git_commit",
    "reap",
    "refresh_link",
    "schema_version",
    "sigterm_raises",
    "sync_row",
    "transaction",
    "unlink_run",
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
