"""Value types of the runmeta library: runs, projects, input snapshots, run contexts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TypeGuard

from monocycle_nash.runmeta.errors import InvalidStatusError

__all__ = [
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
    "is_run_status",
    "parse_status",
]

RunStatus = Literal["running", "success", "fail", "killed"]
"""Status of a run: ``running`` until it ends, then one of the final statuses."""

RUN_STATUSES: Final[tuple[RunStatus, ...]] = ("running", "success", "fail", "killed")
"""Every status, in lifecycle order."""

FINAL_STATUSES: Final[tuple[RunStatus, ...]] = ("success", "fail", "killed")
"""Statuses a run can end with."""

RUN_FIELDS: Final[tuple[str, ...]] = (
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
    "project_path",
)
"""Fields of :class:`RunRecord`: the ``runs`` columns plus the joined ``project_path``.

meta.json carries each of them with the same value as the database.
"""


def is_run_status(value: object) -> TypeGuard[RunStatus]:
    """Tell whether ``value`` is one of the four run statuses."""
    return value in RUN_STATUSES


def parse_status(value: str, *, final: bool = False) -> RunStatus:
    """Return ``value`` as a status, or raise :class:`InvalidStatusError`.

    With ``final=True`` only ``success``, ``fail`` and ``killed`` are accepted.
    """
    if not is_run_status(value):
        raise InvalidStatusError(value)
    if final and value == "running":
        raise InvalidStatusError(
            value, "a run becomes running only when it starts; use success, fail or killed"
        )
    return value


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One row of ``runs``, plus the project's path when the run belongs to a project."""

    run_id: int
    created_at: str
    started_at: str
    ended_at: str | None
    status: RunStatus
    command: str
    git_commit: str | None
    note: str
    project_id: str | None
    updated_at: str
    project_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields in :data:`RUN_FIELDS` order, as meta.json stores them."""
        return {
            "run_id": self.run_id,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "status": self.status,
            "command": self.command,
            "git_commit": self.git_commit,
            "note": self.note,
            "project_id": self.project_id,
            "updated_at": self.updated_at,
            "project_path": self.project_path,
        }


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """One row of ``projects``: an analysis project folder that refers to runs."""

    project_id: str
    project_path: str
    created_at: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        """Return the columns as a plain dictionary."""
        return {
            "project_id": self.project_id,
            "project_path": self.project_path,
            "created_at": self.created_at,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class InputSnapshotInfo:
    """What was frozen into ``input/``; stored in meta.json under ``"input"``.

    ``source_path`` is the absolute path that was copied (``None`` when only a merged
    input was given); ``stored_file`` is relative to the run folder (``input/...``,
    with ``/`` separators); ``checksum_sha256`` is the digest of the stored file (the
    merged one when given; for a copied folder, a digest over its relative paths and
    file digests, see ``RunArtifactStore.save_input_snapshot``).
    """

    source_path: str | None
    split_config_applied: bool
    stored_file: str
    checksum_sha256: str

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as meta.json stores them."""
        return {
            "source_path": self.source_path,
            "split_config_applied": self.split_config_applied,
            "stored_file": self.stored_file,
            "checksum_sha256": self.checksum_sha256,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputSnapshotInfo:
        """Rebuild the info from its meta.json form."""
        return cls(
            source_path=data.get("source_path"),
            split_config_applied=bool(data.get("split_config_applied", False)),
            stored_file=str(data["stored_file"]),
            checksum_sha256=str(data["checksum_sha256"]),
        )


@dataclass(frozen=True, slots=True)
class ProcessIdentity:
    """Who is running a run: enough for a later check to tell if the process is gone.

    ``start_time`` is an exact, opaque token of the process start where the system
    offers one (Linux: ``"<boot id>:<start ticks>"`` from ``/proc``), else ``None``;
    compare it only for equality. ``started_at`` is the same moment, readable
    (+09:00, seconds), or ``None``.
    """

    host: str
    pid: int
    start_time: str | None
    started_at: str | None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as meta.json stores them under ``"process"``."""
        return {
            "host": self.host,
            "pid": self.pid,
            "start_time": self.start_time,
            "started_at": self.started_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessIdentity:
        """Rebuild the identity from its meta.json form."""
        start_time = data.get("start_time")
        started_at = data.get("started_at")
        return cls(
            host=str(data["host"]),
            pid=int(data["pid"]),
            start_time=None if start_time is None else str(start_time),
            started_at=None if started_at is None else str(started_at),
        )


LinkKind = Literal["symlink", "text"]
"""How a project refers to a run folder: a symbolic link or a text file."""


@dataclass(frozen=True, slots=True)
class RunContext:
    """A started run, as handed to the code doing the work.

    ``extra`` is the one mutable part: put JSON-serialisable values in it while the run
    works and they are written as extra top-level meta.json fields when it finishes
    (names of the standard fields are ignored).
    """

    run_id: int
    run_dir: Path
    command: str
    created_at: str
    project_id: str | None
    project_path: str | None
    note: str
    git_commit: str | None
    process: ProcessIdentity
    input: InputSnapshotInfo | None = None
    warnings: tuple[str, ...] = ()
    link_kind: LinkKind | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def input_dir(self) -> Path:
        """Folder holding the frozen inputs."""
        return self.run_dir / "input"

    @property
    def output_dir(self) -> Path:
        """Folder where the run writes its results."""
        return self.run_dir / "output"

    @property
    def logs_dir(self) -> Path:
        """Folder holding ``stdout.log`` and ``stderr.log``."""
        return self.run_dir / "logs"
