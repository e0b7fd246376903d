"""The rows of the run history: run and project records, and the run statuses.

Both records are ``collections.namedtuple`` classes: immutable, compared and hashed by
value, and cheap to build for every row of a listing. ``runmeta list-runs`` start-up
is measured (issue 7's bound: at most 2x a bare interpreter), and ``typing`` (for
``typing.NamedTuple``) or ``dataclasses`` would add about 2-7 ms to it, so type
checkers read the typed ``NamedTuple`` twins below while the program builds the same
fields with ``namedtuple``. The records off the listing path are frozen dataclasses in
the modules that make them (``RunContext`` in ``service``, ``ProcessIdentity`` in
``process``, ``InputSnapshotInfo`` in ``artifact_store``).
"""

from __future__ import annotations

from collections import namedtuple

from monocycle_nash.runmeta.errors import InvalidStatusError

# Not ``typing.TYPE_CHECKING``: see the module docstring.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final, Literal, NamedTuple, TypeGuard

    RunStatus = Literal["running", "success", "fail", "killed"]
    """Status of a run: ``running`` until it ends, then one of the final statuses."""
    LinkKind = Literal["symlink", "text"]
    """How a project refers to a run folder: a symbolic link or a text file."""
    MetricValue = int | float | str | bool | None
    """The value of one of a run's headline figures (see ``metrics.py``)."""

    class _RunRow(NamedTuple):
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
        parent_run_id: int | None = None

    class _ProjectRow(NamedTuple):
        project_id: str
        project_path: str
        created_at: str
        note: str

    class _ListedRow(NamedTuple):
        record: RunRecord
        reason: str | None
        metrics: dict[str, MetricValue]

else:
    _RunRow = namedtuple(
        "RunRecord",
        "run_id created_at started_at ended_at status command git_commit note project_id"
        " updated_at project_path parent_run_id",
        defaults=(None, None),
    )
    _ProjectRow = namedtuple("ProjectRecord", "project_id project_path created_at note")
    _ListedRow = namedtuple("ListedRun", "record reason metrics")

    def __getattr__(name: str) -> object:
        """Build the aliases ``RunStatus``, ``LinkKind`` and ``MetricValue`` on first use."""
        if name not in {"RunStatus", "LinkKind", "MetricValue"}:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from typing import Literal  # noqa: PLC0415 - see the module docstring

        globals().update(
            RunStatus=Literal[RUN_STATUSES],
            LinkKind=Literal["symlink", "text"],
            MetricValue=int | float | str | bool | None,
        )
        return globals()[name]


__all__ = [
    "FINAL_STATUSES",
    "RUN_FIELDS",
    "RUN_STATUSES",
    "LinkKind",
    "ListedRun",
    "MetricValue",
    "ProjectRecord",
    "RunRecord",
    "RunStatus",
    "is_run_status",
    "parse_status",
]

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


class RunRecord(_RunRow):
    """One row of ``runs``, plus the project's path when the run belongs to a project.

    ``parent_run_id`` (schema version 4) is the id of the run this one is a child of
    (a case of a sweep), ``None`` for an ordinary run. It comes last, after the joined
    ``project_path``, so that records built by position before it existed still mean
    the same.
    """

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the fields in declaration order (:data:`RUN_FIELDS`)."""
        return self._asdict()


RUN_FIELDS: Final[tuple[str, ...]] = RunRecord._fields
"""Fields of :class:`RunRecord`: the ``runs`` columns plus the joined ``project_path``.

meta.json carries each of them with the same value as the database (a meta.json
written before ``parent_run_id`` existed lacks it: read as ``None``).
"""


class ProjectRecord(_ProjectRow):
    """One row of ``projects``: an analysis project folder that refers to runs."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the fields in declaration order."""
        return self._asdict()


class ListedRun(_ListedRow):
    """A run as ``list-runs`` shows it: its record, its reason and its figures.

    ``reason`` is why it failed or was killed (``None`` otherwise, or for a row older
    than schema version 3); ``metrics`` its headline figures by key (``{}``: none).
    """

    __slots__ = ()
