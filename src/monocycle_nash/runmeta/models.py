"""Value types of the runmeta library: runs, projects, input snapshots, run contexts.

The records are frozen: assigning or deleting an attribute raises ``AttributeError``;
equal fields make equal (and equally hashed) records, as with frozen dataclasses. They
are plain slotted classes rather than dataclasses because the ``dataclasses`` module
imports ``inspect`` (about 10 ms), which every ``runmeta list-runs`` would pay for. For
the same reason ``typing`` is not imported at run time: the ``Literal`` aliases
``RunStatus`` and ``LinkKind`` are built on first use (PEP 562).
"""

from __future__ import annotations

from monocycle_nash.runmeta.errors import InvalidStatusError

# Not ``typing.TYPE_CHECKING``: see the module docstring.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, Final, Literal, TypeGuard

    RunStatus = Literal["running", "success", "fail", "killed"]
    """Status of a run: ``running`` until it ends, then one of the final statuses."""
    LinkKind = Literal["symlink", "text"]
    """How a project refers to a run folder: a symbolic link or a text file."""

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

RUN_STATUSES: Final[tuple[RunStatus, ...]] = ("running", "success", "fail", "killed")
"""Every status, in lifecycle order."""

FINAL_STATUSES: Final[tuple[RunStatus, ...]] = ("success", "fail", "killed")
"""Statuses a run can end with."""


if not TYPE_CHECKING:  # hidden from type checkers, which see the aliases above

    def __getattr__(name: str) -> object:
        """Build the ``Literal`` aliases on first use (PEP 562).

        ``RunStatus``: status of a run, ``running`` until it ends, then one of the final
        statuses. ``LinkKind``: how a project refers to a run folder, ``"symlink"`` or
        ``"text"``.
        """
        if name not in {"RunStatus", "LinkKind"}:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        from typing import Literal  # noqa: PLC0415 - see the module docstring

        globals().update(RunStatus=Literal[RUN_STATUSES], LinkKind=Literal["symlink", "text"])
        return globals()[name]


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


_set = object.__setattr__


class _Frozen:
    """Equality, hashing, ``repr`` and immutability from the class's ``_compared`` fields."""

    __slots__ = ()
    _compared: tuple[str, ...]
    _shown: tuple[str, ...]

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._compared])

    def __eq__(self, other: object) -> bool:
        """Equal when ``other`` is of the same class and every compared field is equal."""
        if not isinstance(other, _Frozen) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        """Hash of the compared fields, consistent with ``==``."""
        return hash(self._values())

    def __repr__(self) -> str:
        """``Name(field=value, ...)``, as a dataclass shows itself."""
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{self.__class__.__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        """Refuse: the record is frozen."""
        raise AttributeError(f"cannot assign to field {name!r} of a frozen record")

    def __delattr__(self, name: str) -> None:
        """Refuse: the record is frozen."""
        raise AttributeError(f"cannot delete field {name!r} of a frozen record")

    def __getstate__(self) -> tuple[Any, ...]:
        """The field values, for ``copy`` and ``pickle``."""
        return tuple([getattr(self, name) for name in self._shown])

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        """Restore the field values saved by :meth:`__getstate__`."""
        for name, value in zip(self._shown, state, strict=True):
            _set(self, name, value)


class _Record(_Frozen):
    """A frozen record that meta.json and ``--json`` output store as a plain mapping."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the fields in declaration order (for ``RunRecord``, :data:`RUN_FIELDS`)."""
        return {name: getattr(self, name) for name in self._shown}


class RunRecord(_Record):
    """One row of ``runs``, plus the project's path when the run belongs to a project."""

    __match_args__ = (
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
    __slots__ = __match_args__
    _compared = _shown = __match_args__

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
    project_path: str | None

    def __init__(  # noqa: PLR0917 - the columns of a row, in order
        self,
        run_id: int,
        created_at: str,
        started_at: str,
        ended_at: str | None,
        status: RunStatus,
        command: str,
        git_commit: str | None,
        note: str,
        project_id: str | None,
        updated_at: str,
        project_path: str | None = None,
    ) -> None:
        """Build a record from the columns (positionally or by name)."""
        _set(self, "run_id", run_id)
        _set(self, "created_at", created_at)
        _set(self, "started_at", started_at)
        _set(self, "ended_at", ended_at)
        _set(self, "status", status)
        _set(self, "command", command)
        _set(self, "git_commit", git_commit)
        _set(self, "note", note)
        _set(self, "project_id", project_id)
        _set(self, "updated_at", updated_at)
        _set(self, "project_path", project_path)


RUN_FIELDS: Final[tuple[str, ...]] = RunRecord.__match_args__
"""Fields of :class:`RunRecord`: the ``runs`` columns plus the joined ``project_path``.

meta.json carries each of them with the same value as the database.
"""


class ProjectRecord(_Record):
    """One row of ``projects``: an analysis project folder that refers to runs."""

    __match_args__ = ("project_id", "project_path", "created_at", "note")
    __slots__ = __match_args__
    _compared = _shown = __match_args__

    project_id: str
    project_path: str
    created_at: str
    note: str

    def __init__(self, project_id: str, project_path: str, created_at: str, note: str) -> None:
        """Build a record from the columns (positionally or by name)."""
        _set(self, "project_id", project_id)
        _set(self, "project_path", project_path)
        _set(self, "created_at", created_at)
        _set(self, "note", note)


class InputSnapshotInfo(_Record):
    """What was frozen into ``input/``; stored in meta.json under ``"input"``.

    ``source_path`` is the absolute path that was copied (``None`` when only a merged
    input was given); ``stored_file`` is relative to the run folder (``input/...``,
    with ``/`` separators); ``checksum_sha256`` is the digest of the stored file (the
    merged one when given; for a copied folder, a digest over its relative paths and
    file digests, see ``RunArtifactStore.save_input_snapshot``).
    """

    __match_args__ = ("source_path", "split_config_applied", "stored_file", "checksum_sha256")
    __slots__ = __match_args__
    _compared = _shown = __match_args__

    source_path: str | None
    split_config_applied: bool
    stored_file: str
    checksum_sha256: str

    def __init__(
        self,
        source_path: str | None,
        split_config_applied: bool,
        stored_file: str,
        checksum_sha256: str,
    ) -> None:
        """Build the info from its fields (positionally or by name)."""
        _set(self, "source_path", source_path)
        _set(self, "split_config_applied", split_config_applied)
        _set(self, "stored_file", stored_file)
        _set(self, "checksum_sha256", checksum_sha256)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputSnapshotInfo:
        """Rebuild the info from its meta.json form."""
        return cls(
            source_path=data.get("source_path"),
            split_config_applied=bool(data.get("split_config_applied", False)),
            stored_file=str(data["stored_file"]),
            checksum_sha256=str(data["checksum_sha256"]),
        )


class ProcessIdentity(_Record):
    """Who is running a run: enough for a later check to tell if the process is gone.

    ``start_time`` is an exact, opaque token of the process start where the system
    offers one (Linux: ``"<boot id>:<start ticks>"`` from ``/proc``), else ``None``;
    compare it only for equality. ``started_at`` is the same moment, readable
    (+09:00, seconds), or ``None``.
    """

    __match_args__ = ("host", "pid", "start_time", "started_at")
    __slots__ = __match_args__
    _compared = _shown = __match_args__

    host: str
    pid: int
    start_time: str | None
    started_at: str | None

    def __init__(self, host: str, pid: int, start_time: str | None, started_at: str | None) -> None:
        """Build the identity from its fields (positionally or by name)."""
        _set(self, "host", host)
        _set(self, "pid", pid)
        _set(self, "start_time", start_time)
        _set(self, "started_at", started_at)

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


class RunContext(_Frozen):
    """A started run, as handed to the code doing the work.

    ``extra`` is the one mutable part: put JSON-serialisable values in it while the run
    works and they are written as extra top-level meta.json fields when it finishes
    (names of the standard fields are ignored). It takes no part in ``==``.
    """

    __match_args__ = (
        "run_id",
        "run_dir",
        "command",
        "created_at",
        "project_id",
        "project_path",
        "note",
        "git_commit",
        "process",
        "input",
        "warnings",
        "link_kind",
        "extra",
    )
    __slots__ = __match_args__
    _compared = __match_args__[:-1]  # every field but ``extra``
    _shown = __match_args__

    run_id: int
    run_dir: Path
    command: str
    created_at: str
    project_id: str | None
    project_path: str | None
    note: str
    git_commit: str | None
    process: ProcessIdentity
    input: InputSnapshotInfo | None
    warnings: tuple[str, ...]
    link_kind: LinkKind | None
    extra: dict[str, Any]

    def __init__(  # noqa: PLR0917 - the fields, in order
        self,
        run_id: int,
        run_dir: Path,
        command: str,
        created_at: str,
        project_id: str | None,
        project_path: str | None,
        note: str,
        git_commit: str | None,
        process: ProcessIdentity,
        input: InputSnapshotInfo | None = None,
        warnings: tuple[str, ...] = (),
        link_kind: LinkKind | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Build the context; ``extra`` defaults to a new empty dictionary."""
        _set(self, "run_id", run_id)
        _set(self, "run_dir", run_dir)
        _set(self, "command", command)
        _set(self, "created_at", created_at)
        _set(self, "project_id", project_id)
        _set(self, "project_path", project_path)
        _set(self, "note", note)
        _set(self, "git_commit", git_commit)
        _set(self, "process", process)
        _set(self, "input", input)
        _set(self, "warnings", warnings)
        _set(self, "link_kind", link_kind)
        _set(self, "extra", {} if extra is None else extra)

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
