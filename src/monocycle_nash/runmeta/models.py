"""The rows of the run history: run and project records, and the run statuses.

Both records are ``typing.NamedTuple`` s: immutable, compared and hashed by value, and
cheap to build for every row of a listing (``runmeta list-runs`` start-up is measured,
and ``dataclasses`` would add ``inspect`` to it). The records that do not sit on the
listing path are frozen dataclasses in the modules that make them (``RunContext`` in
``service``, ``ProcessIdentity`` in ``process``, ``InputSnapshotInfo`` in
``artifact_store``).
"""

from __future__ import annotations

from typing import Any, Final, Literal, NamedTuple, TypeGuard

from monocycle_nash.runmeta.errors import InvalidStatusError

__all__ = [
    "FINAL_STATUSES",
    "RUN_FIELDS",
    "RUN_STATUSES",
    "LinkKind",
    "ProjectRecord",
    "RunRecord",
    "RunStatus",
    "is_run_status",
    "parse_status",
]

RunStatus = Literal["running", "success", "fail", "killed"]
"""Status of a run: ``running`` until it ends, then one of the final statuses."""

LinkKind = Literal["symlink", "text"]
"""How a project refers to a run folder: a symbolic link or a text file."""

RUN_STATUSES: Final[tuple[RunStatus, ...]] = ("running", "success", "fail", "killed")
"""Every status, in lifecycle order."""

FINAL_STATUSES: Final[tuple[RunStatus, ...]] = ("success", "fail", "killed")
"""Statuses a run can end with."""


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


class RunRecord(NamedTuple):
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
        """Return the fields in declaration order (:data:`RUN_FIELDS`)."""
        return self._asdict()


RUN_FIELDS: Final[tuple[str, ...]] = RunRecord._fields
"""Fields of :class:`RunRecord`: the ``runs`` columns plus the joined ``project_path``.

meta.json carries each of them with the same value as the database.
"""


class ProjectRecord(NamedTuple):
    """One row of ``projects``: an analysis project folder that refers to runs."""

    project_id: str
    project_path: str
    created_at: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        """Return the fields in declaration order."""
        return self._asdict()
