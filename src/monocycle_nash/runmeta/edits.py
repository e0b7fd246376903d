"""Edits of the run history that keep meta.json and project links in step with the rows.

:class:`RunEditor` (``RunSessionService.edits``) updates and deletes runs and adds,
changes and deletes projects; every change goes to the database first, then to the
run's meta.json and its project link. Problems with files become warnings (stderr and
meta.json), never a half-made change of the row.

meta.json
---------

Every write of a run's meta.json (the run's start and end, ``update-run``, project
edits, ``check --repair``, ``reap``) goes through :meth:`RunEditor.write_meta`: under
the run's lock (:meth:`RunArtifactStore.meta_lock`) it reads the row again and the
current meta.json, takes the row's fields (and the run's figures, ``metrics``) from the
database and keeps everything else the file holds (input, process, reason, warnings,
extra fields), adds the writer's own facts, and writes. Writers racing on one run
therefore never drop each other's fields, and the last one to write carries the newest
row. A folder the run did not make (``runs.folder``) is never written into.

Project links
-------------

References from an analysis project folder to run folders.

A run attached to a project gets ``<project_path>/experiment_refs/<root tag>/<run_id>``:
a symbolic link to the absolute run folder where the system allows one (NTFS symlinks
on Windows need a privilege), otherwise a text file ``<run_id>.txt`` beside it::

    /abs/path/to/result/42
    created_at: 2026-02-14T19:30:12+09:00
    status: success

The first line is the folder, so ``cd "$(head -n1 experiment_refs/*/42.txt)"`` works.
The text file is rewritten when the run's status changes; a symlink needs no refresh.
The root tag (:func:`root_tag`) names the result root, so that several result roots
(several databases) can share one analysis folder: each has its own folder of links,
and none replaces or removes another's. Only a link that points at this run's folder
is ever rewritten or removed; anything else with its name (another tool's symlink, a
user's file) is left alone and the link is not made. An ``experiment_refs`` that is a
symlink is not followed. Links of the earlier layout (``experiment_refs/<run_id>``,
shared by every root) are still read, refreshed and removed while they point at this
run's folder. The project folder itself is never created: a missing one is an error for
the caller to report (the service turns it into a warning, never a failed run).
:func:`link_problem` and :func:`links_of_root` let ``check`` compare the links with
the rows.

Deleting a run
--------------

Deleting a run: the write lock first, then the files, then the row, so that a failure
can simply be retried.

The database's write lock is taken (``BEGIN IMMEDIATE``) before anything is touched:
a database locked by another process refuses the deletion with nothing removed. With
``with_files`` the project's reference to the run and the run folder are then removed,
and the row last, in the same transaction. If removing a file fails, the row stays
and the error says what is left, so running the same deletion again finishes the job;
the reverse order would leave files that no row points to. Without ``with_files`` only
the row goes: the folder stays, and so does the project's reference to it (it still
points at something real). A run whose status is ``running`` is deleted only with
``force`` (its process may still be writing). A folder the run did not make (it was
there before the run: ``runs.folder`` is ``'foreign'``, or its meta.json describes
another run) is removed only with ``delete_foreign_folder``.
``runmeta delete-run`` calls :meth:`RunEditor.delete_run` too.

A run with child runs (a sweep's parent) is deleted only with ``with_children``: its
children, and theirs, are deleted first, one by one, each exactly as a deletion of its
own (the write lock first, files, then the row), and the parent last. The checks that
would refuse a child for sure (a ``running`` child without ``force``) are made before
anything is deleted; a failure midway keeps the parent and the children not yet
deleted, and :class:`ChildDeletionStoppedError` lists the ones that went. A child
alone is deleted like any run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from monocycle_nash.runmeta.artifact_store import (
    RESERVED_FIELDS,
    InputSnapshotInfo,
    RunArtifactStore,
    describes_another_run,
    read_regular_file,
    sync_row,
    write_file_atomically,
)
from monocycle_nash.runmeta.clock import Clock
from monocycle_nash.runmeta.db import transaction
from monocycle_nash.runmeta.errors import (
    ArtifactWriteError,
    ChildDeletionStoppedError,
    DatabaseError,
    DatabaseLockedError,
    ForeignFolderError,
    ForeignMetaError,
    MetaCorruptError,
    MetaNotFoundError,
    ProjectLinkError,
    RunDeletionIncompleteError,
    RunFilesLeftError,
    RunHasChildrenError,
    RunMetaError,
    RunNotFoundError,
    RunProcessAliveError,
    RunStatusChangedError,
    RunStillRunningError,
)
from monocycle_nash.runmeta.metrics import checked_metrics
from monocycle_nash.runmeta.models import (
    FINAL_STATUSES,
    LinkKind,
    MetricValue,
    ProjectRecord,
    RunRecord,
    RunStatus,
)
from monocycle_nash.runmeta.process import ProcessIdentity, is_process_alive, recorded_process
from monocycle_nash.runmeta.repositories import (
    NO_FOLDER,
    ProjectsRepository,
    RunBookkeeping,
    RunsRepository,
)
from monocycle_nash.text import plural, printable

if TYPE_CHECKING:
    from monocycle_nash.runmeta.backends import Connection

__all__ = [
    "REFS_DIR",
    "DeletedRun",
    "LinkProblem",
    "ProjectLink",
    "RunEditor",
    "find_link",
    "link_problem",
    "link_run",
    "links_of_root",
    "print_warnings",
    "recorded_end",
    "refresh_link",
    "root_tag",
    "unlink_run",
    "warning_line",
]

# -- project links --------------------

REFS_DIR: Final = "experiment_refs"
"""Folder inside a project that holds the references to runs."""
_TEXT_LINK_LIMIT: Final = 64 * 1024
"""A text link is three short lines; a bigger file is not one of ours."""
_HINT_LENGTH: Final = 40


@dataclass(frozen=True, slots=True)
class ProjectLink:
    """A reference from a project to a run folder: its kind and its path."""

    kind: LinkKind
    path: Path


@dataclass(frozen=True, slots=True)
class LinkProblem:
    """What is wrong with a run's link in its project (see :func:`link_problem`)."""

    kind: Literal["missing-link", "stale-link"]
    detail: str
    repairable: bool


def root_tag(result_root: str | Path) -> str:
    """The folder of ``experiment_refs`` that holds the links of one result root.

    ``<hint>-<digest>``: the hint is the result root's parent and own name
    (``monocycle-nash-result``), cut to letters, digits, ``.``, ``_`` and ``-``; the
    digest is the start of the SHA-256 of the absolute result root. Two result roots
    (two databases) sharing one analysis folder never share this folder, so neither
    can replace or remove the other's links. The same root always gets the same tag;
    the root reached through another path (a symlink) gets another.
    """
    return _root_tag(os.path.abspath(result_root))  # noqa: PTH100 - normalises "..", no resolve


@lru_cache(maxsize=64)
def _root_tag(absolute: str) -> str:
    import hashlib  # noqa: PLC0415 - only runs with a project pay for it

    root = Path(absolute)
    hint = "-".join(part for part in (root.parent.name, root.name) if part)
    hint = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in hint)
    hint = hint.lstrip(".")[:_HINT_LENGTH] or "root"
    digest = hashlib.sha256(os.fsencode(str(root))).hexdigest()[:12]
    return f"{hint}-{digest}"


def _text(run_dir: Path, created_at: str, status: str) -> str:
    return f"{run_dir}\ncreated_at: {created_at}\nstatus: {status}\n"


def _target(run_dir: str | Path) -> Path:
    return Path(run_dir).absolute()


def _same_place(a: str | Path, b: Path) -> bool:
    return os.path.normpath(a) == os.path.normpath(b)


def _read_text_link(path: Path) -> list[str] | None:
    """The lines of a text link; ``None`` when ``path`` is not a small regular file."""
    try:
        raw = read_regular_file(path, _TEXT_LINK_LIMIT)
    except (OSError, ValueError):
        return None
    return raw.decode("utf-8", errors="surrogateescape").splitlines()


def _holder(path: Path, target: Path, kind: LinkKind) -> str | None:
    """Who holds ``path``: ``None`` (nothing), ``"ours"`` (a link to ``target``), else what.

    A symlink to ``target`` (``kind`` symlink) or a text file whose first line is
    ``target`` (``kind`` text) is this run's link; anything else is described in words
    and never replaced nor removed.
    """
    try:
        if path.is_symlink():
            pointed = str(path.readlink())
            ours = kind == "symlink" and _same_place(pointed, target)
            return "ours" if ours else f"a symlink to {pointed}"
        if not path.exists():
            return None
        lines = _read_text_link(path) if kind == "text" else None
    except OSError as err:
        return f"unreadable ({err.strerror or err})"
    if lines:
        return "ours" if _same_place(lines[0], target) else f"a text link to {lines[0]}"
    return "a folder" if path.is_dir() else "a file that is not a link to this run"


def _refs_folders(project: Path, target: Path, *, create: bool) -> tuple[Path, Path]:
    """``experiment_refs`` and its folder for the run's result root, made with ``create``.

    Neither is followed when it is a symbolic link (the links would land wherever it
    points): :class:`ProjectLinkError`, as for a file in their place.
    """
    refs = project / REFS_DIR
    tagged = refs / root_tag(target.parent)
    for folder in (refs, tagged):
        if folder.is_symlink():
            raise ProjectLinkError(folder, "it is a symbolic link; not followed")
        if folder.exists() and not folder.is_dir():
            raise ProjectLinkError(folder, "it is a file, not a folder; left alone")
        if create:
            try:
                folder.mkdir(exist_ok=True)
            except OSError as err:
                raise ProjectLinkError(folder, err.strerror or str(err)) from err
    return refs, tagged


def _places(folder: Path, run_id: int) -> tuple[ProjectLink, ProjectLink]:
    """The two names a link to run ``run_id`` can have in ``folder``."""
    symlink = ProjectLink("symlink", folder / str(run_id))
    return symlink, ProjectLink("text", folder / f"{run_id}.txt")


def _usable(folder: Path) -> bool:
    """A real folder (a symlink to one is not followed)."""
    return folder.is_dir() and not folder.is_symlink()


def _candidates(project: Path, run_id: int, target: Path) -> list[ProjectLink]:
    """Where a link to the run may be: its root's folder first, then the older layout.

    Links made before links had a folder per result root sit in ``experiment_refs``
    itself (``<id>`` or ``<id>.txt``); they are read, refreshed and removed as long
    as they point at this run's folder.
    """
    refs = project / REFS_DIR
    if not _usable(refs):
        return []
    tagged = refs / root_tag(target.parent)
    places = list(_places(tagged, run_id)) if _usable(tagged) else []
    return [*places, *_places(refs, run_id)]


def link_run(
    project_path: str | Path, run_id: int, run_dir: str | Path, created_at: str, status: str
) -> ProjectLink:
    """Make ``experiment_refs/<root tag>/<run_id>`` point at ``run_dir`` (symlink, else text).

    ``run_dir`` is made absolute; :func:`root_tag` of its result root names the
    folder. Only this run's own link is ever rewritten: a symlink pointing elsewhere, a
    text file naming another folder or a user's file with that name is left alone and
    raises :class:`ProjectLinkError`, as do a missing project folder, an
    ``experiment_refs`` that is a symlink or a file, and a link that cannot be written.
    A link of the older layout to this run (``experiment_refs/<run_id>``) is replaced
    by the new one.
    """
    project = Path(project_path)
    if not project.is_dir():
        raise ProjectLinkError(project, "the project folder does not exist")
    target = _target(run_dir)
    refs, tagged = _refs_folders(project, target, create=True)
    link, text = _places(tagged, run_id)
    for place in (link, text):
        holder = _holder(place.path, target, place.kind)
        if holder not in (None, "ours"):
            raise ProjectLinkError(
                place.path, f"it exists and is {holder}, not made for this run; left alone"
            )
    made = _make_link(link, text, target, _text(target, created_at, status))
    if made.kind == "symlink":
        with suppress(OSError):  # a stale text link of this run next to a fresh symlink
            if _holder(text.path, target, "text") == "ours":
                text.path.unlink()
    for older in _places(refs, run_id):
        if _holder(older.path, target, older.kind) == "ours":
            with suppress(OSError):  # the older layout's link of this run: moved here
                older.path.unlink()
    return made


def _make_link(link: ProjectLink, text: ProjectLink, target: Path, content: str) -> ProjectLink:
    """Make ``link`` a symlink to ``target`` (kept if it is one), else write ``text``."""
    if _holder(link.path, target, "symlink") == "ours":
        return link
    try:
        try:
            link.path.symlink_to(target, target_is_directory=True)
        except FileNotFoundError:  # its folder, emptied, was removed meanwhile: once more
            link.path.parent.mkdir(exist_ok=True)
            link.path.symlink_to(target, target_is_directory=True)
    except FileExistsError as err:  # made meanwhile: by check --repair, or left alone
        if _holder(link.path, target, "symlink") == "ours":
            return link
        raise ProjectLinkError(link.path, "it appeared while the link was being made") from err
    except (OSError, NotImplementedError):
        pass  # no symlinks here (Windows without the privilege...): a text link
    else:
        return link
    try:
        write_file_atomically(text.path, content)
    except ArtifactWriteError as err:
        raise ProjectLinkError(text.path, err.reason) from err
    return text


def find_link(project_path: str | Path, run_id: int, run_dir: str | Path) -> ProjectLink | None:
    """Return the project's link to the run (either layout), or ``None`` when there is none.

    Only a link that points at ``run_dir`` counts: another root's link with the same
    run id is not this run's.
    """
    target = _target(run_dir)
    for place in _candidates(Path(project_path), run_id, target):
        if _holder(place.path, target, place.kind) == "ours":
            return place
    return None


def refresh_link(
    project_path: str | Path, run_id: int, run_dir: str | Path, created_at: str, status: str
) -> ProjectLink | None:
    """Bring an existing link up to date with the run's status.

    A text link is rewritten; a symlink is left as it is; with no link, nothing is
    created and ``None`` is returned. Raises :class:`ProjectLinkError` when the text
    file cannot be written.
    """
    found = find_link(project_path, run_id, run_dir)
    if found is None or found.kind == "symlink":
        return found
    try:
        write_file_atomically(found.path, _text(_target(run_dir), created_at, status))
    except ArtifactWriteError as err:
        raise ProjectLinkError(found.path, err.reason) from err
    return found


def unlink_run(project_path: str | Path, run_id: int, run_dir: str | Path) -> bool:
    """Remove the project's links to the run (either kind and layout); True when one went.

    Only links pointing at ``run_dir`` are removed: another root's link with the same
    run id, or a user's file, stays. The root's folder in ``experiment_refs`` goes
    when it is left empty. A missing project folder or link is not an error. Raises
    :class:`ProjectLinkError` when a link exists but cannot be removed.
    """
    target = _target(run_dir)
    removed = False
    for place in _candidates(Path(project_path), run_id, target):
        if _holder(place.path, target, place.kind) != "ours":
            continue
        try:
            place.path.unlink()
        except FileNotFoundError:
            continue
        except OSError as err:
            raise ProjectLinkError(place.path, err.strerror or str(err)) from err
        removed = True
    if removed:
        tagged = Path(project_path) / REFS_DIR / root_tag(target.parent)
        with suppress(OSError):  # not empty (or gone): it stays
            if _usable(tagged):
                tagged.rmdir()
    return removed


def link_problem(
    project_path: str | Path, run_id: int, run_dir: str | Path, created_at: str, status: str
) -> LinkProblem | None:
    """Tell what is wrong with the link of a run of the project (``None``: nothing).

    ``missing-link``: no link points at the run (repairable by :func:`link_run`,
    unless ``experiment_refs`` is a symlink or a file, or a file not made for this run
    sits at the link's name); ``stale-link``: a text link whose lines disagree with the
    row, or the older layout's ``experiment_refs/<run_id>`` now pointing at another
    folder (another result root's run): both repairable, the latter by making this
    run's own link beside it. A project folder that does not exist is not looked at.
    """
    project = Path(project_path)
    if not project.is_dir():
        return None
    target = _target(run_dir)
    found = find_link(project, run_id, target)
    if found is None:
        return _missing_link(project, run_id, target)
    lines = [] if found.kind == "symlink" else _read_text_link(found.path) or []
    if found.kind == "symlink" or lines == _text(target, created_at, status).splitlines():
        return None
    said = "; ".join(lines[1:]) or "nothing else"
    return LinkProblem(
        "stale-link",
        f"{found.path} says {said}, not created_at: {created_at}; status: {status}",
        repairable=True,
    )


def _missing_link(project: Path, run_id: int, target: Path) -> LinkProblem:
    """Why a run of the project has no link: nothing, or something else in its place."""
    try:
        refs, tagged = _refs_folders(project, target, create=False)
    except ProjectLinkError as err:
        return LinkProblem("missing-link", f"no link to run {run_id}: {err}", repairable=False)
    for place in _places(tagged, run_id):
        holder = _holder(place.path, target, place.kind)
        if holder is not None:
            kind: Literal["missing-link", "stale-link"] = (
                "stale-link" if holder.startswith(("a symlink", "a text link")) else "missing-link"
            )
            return LinkProblem(
                kind,
                f"{place.path} is {holder}, not a link to {target}; left alone: move it away,"
                " then run check --repair",
                repairable=False,
            )
    for place in _places(refs, run_id):
        holder = _holder(place.path, target, place.kind)
        if holder is not None:
            return LinkProblem(
                "stale-link",
                f"{place.path} (the older layout) is {holder}, not a link to {target}"
                f" (another result root's run {run_id}?); this run's link goes in {tagged}",
                repairable=True,
            )
    return LinkProblem("missing-link", f"no link to run {run_id} in {refs}", repairable=True)


def links_of_root(project_path: str | Path, result_root: str | Path) -> list[tuple[int, Path]]:
    """The links in a project that belong to ``result_root``, as ``(run id, path)``.

    Those in its :func:`root_tag` folder, and older-layout links in ``experiment_refs``
    that point into ``result_root``. For ``check``: a link whose run does not exist
    (or is not the project's) is foreign, and is reported, never removed.
    """
    root = _target(result_root)
    refs = Path(project_path) / REFS_DIR
    found: list[tuple[int, Path]] = []
    if not _usable(refs):
        return found
    tagged = refs / root_tag(root)
    if _usable(tagged):
        with suppress(OSError):
            for entry in os.scandir(tagged):
                run_id = _run_id_of(entry.name)
                if run_id is not None:
                    found.append((run_id, Path(entry.path)))
    with suppress(OSError):
        for entry in os.scandir(refs):
            run_id = _run_id_of(entry.name)
            if run_id is None:
                continue
            kind: LinkKind = "text" if entry.name.endswith(".txt") else "symlink"
            if _holder(Path(entry.path), root / str(run_id), kind) == "ours":
                found.append((run_id, Path(entry.path)))
    return sorted(found)


def _run_id_of(name: str) -> int | None:
    """The run id a link's name stands for (``42`` or ``42.txt``), else ``None``."""
    stem = name.removesuffix(".txt")
    if stem.isascii() and stem.isdigit() and str(int(stem)) == stem:
        return int(stem)
    return None


# -- warnings --------------------


def warning_line(run_id: int, message: str) -> str:
    """The stderr line of a warning about run ``run_id``."""
    return f"runmeta: warning: run {run_id}: {printable(message)}\n"


def print_warnings(run_id: int, warnings: Sequence[str]) -> None:
    """Write each warning about run ``run_id`` to stderr."""
    for message in warnings:
        sys.stderr.write(warning_line(run_id, message))


# -- deleting a run --------------------


@dataclass(frozen=True, slots=True)
class DeletedRun:
    """A deleted run: its last row, the files removed (in words), and its deleted children.

    ``children`` are the runs deleted before it with ``with_children``: its child runs
    and theirs, in the order they were deleted (a child's own children before it).
    """

    record: RunRecord
    removed: tuple[str, ...]
    children: tuple[DeletedRun, ...] = ()


def _count_files(folder: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(folder))


def _refuse_another_runs_folder(store: RunArtifactStore, run: RunRecord) -> None:
    """Raise :class:`RunFilesLeftError` when the folder's meta.json is another run's."""
    try:
        meta = store.read_meta(run.run_id)
    except (MetaNotFoundError, MetaCorruptError):
        return  # nothing says the folder belongs to another run
    if describes_another_run(meta, run):
        reason = f"{store.meta_path(run.run_id)} describes another run (created_at "
        reason += f"{meta.get('created_at')!r}, not {run.created_at}), so it is not removed"
        raise RunFilesLeftError(
            run.run_id,
            reason,
            [f"the run folder {store.run_dir(run.run_id)}"],
            retry="add --delete-foreign-folder to remove it too, or delete the row alone"
            " without --with-files",
        )


# -- meta.json from the row --------------------


def recorded_end(meta: Mapping[str, Any], record: RunRecord) -> tuple[RunStatus, str] | None:
    """The end (final status, ``ended_at``) a meta.json of ``record``'s run records, if any.

    ``None`` when meta.json says the run is still running, has no valid end time, or
    describes another run. For a ``running`` row, an end here is one the database
    missed (its final update failed): the later, truer record.
    """
    from monocycle_nash.runmeta.clock import normalize_timestamp  # noqa: PLC0415

    status, ended_at = meta.get("status"), meta.get("ended_at")
    if status not in FINAL_STATUSES or not isinstance(ended_at, str):
        return None
    if describes_another_run(meta, record):
        return None
    try:
        if normalize_timestamp(ended_at) != ended_at:
            return None  # not a time this library wrote
    except RunMetaError:
        return None
    final: RunStatus = status
    return final, ended_at


def _merged_meta(
    existing: Mapping[str, Any],
    record: RunRecord,
    books: RunBookkeeping | None,
    *,
    input_info: InputSnapshotInfo | None,
    process: ProcessIdentity | None,
    reason: str | None,
    warnings: Sequence[str],
    extra: Mapping[str, Any] | None,
    metrics: Mapping[str, MetricValue] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """meta.json: the row's fields, the file's other fields, then the writer's facts.

    The process is the writer's, else the file's when it is the row's, else the row's
    (a row of schema 3 always names it); the reason is the writer's, else the row's,
    else the file's. Warnings are added once each. ``metrics`` (the database's figures,
    or the writer's) replace the file's; without them (``None``) the file's are kept.
    So does ``provenance`` (the run's, given at its start).
    """
    meta = sync_row(existing, record)
    if provenance is not None:
        meta["provenance"] = dict(provenance)
    if metrics is not None:
        meta["metrics"] = dict(metrics)
    if input_info is not None:
        meta["input"] = input_info.to_dict()
    row_process = None if books is None else books.process
    if process is not None:
        meta["process"] = process.to_dict()
    elif (
        books is not None
        and row_process is not None
        and not books.same_process(recorded_process(meta))
    ):
        meta["process"] = row_process.to_dict()
    if reason is not None:
        meta["reason"] = reason
    elif books is not None and books.reason is not None:
        meta["reason"] = books.reason
    listed: list[str] = meta["warnings"]
    listed.extend([warning for warning in dict.fromkeys(warnings) if warning not in listed])
    if extra:
        meta.update((key, value) for key, value in extra.items() if key not in RESERVED_FIELDS)
    return meta


class RunEditor:
    """Edits of the history that keep meta.json and project links in step with the rows.

    Update and delete runs, add, change and delete projects. It works on the service's
    connection and result folder (``RunSessionService.edits``) or on its own.
    """

    def __init__(self, connection: Connection, store: RunArtifactStore, clock: Clock) -> None:
        self.connection = connection
        self.store = store
        self.clock = clock
        self.runs = RunsRepository(connection)
        self.projects = ProjectsRepository(connection)

    def update_run(
        self,
        run_id: int,
        *,
        status: str | None = None,
        note: str | None = None,
        project_id: str | None = None,
        clear_project: bool = False,
        reason: str | None = None,
        expected_status: RunStatus | None = None,
        ended_at: str | None = None,
        force: bool = False,
    ) -> RunRecord:
        """Change a run's row, then its meta.json and project links; return the new row.

        ``status`` must be final (``success``, ``fail``, ``killed``); ``reason`` is
        stored in the row and in meta.json; ``ended_at`` (with ``status``) sets the end
        time, by default the time of the change for a run that had none. A run whose
        folder is gone, or is not its own, is updated in the database only (and gets
        no link that would point at nothing). Link problems become warnings, in
        meta.json and on stderr. With ``expected_status``, the row is changed only if
        it still has that status when the write lock is held (else
        :class:`RunStatusChangedError`): ``reap`` never overwrites a run that ended
        between its look and its change. A status for a ``running`` run whose process
        is alive raises :class:`RunProcessAliveError`, unless ``force``: then the
        manual status wins (the run's own end keeps it) and a warning says so.
        """
        now = self.clock.timestamp()
        warnings: list[str] = []
        with transaction(self.connection):
            before, books = self.runs.get_in_full(run_id)
            if expected_status is not None and before.status != expected_status:
                raise RunStatusChangedError(run_id, expected_status, before.status)
            if status is not None and before.status == "running":
                alive = self._live_process(run_id, books)
                if alive is not None and not force:
                    raise RunProcessAliveError(run_id, alive.host, alive.pid)
                if alive is not None:
                    warnings.append(
                        f"its process {alive.pid} on host {alive.host} is still running; the"
                        f" status was set to {status} by hand (--force), and the run's own"
                        " end will keep it"
                    )
            after = self.runs.update(
                run_id,
                status=status,
                note=note,
                project_id=project_id,
                clear_project=clear_project,
                reason=reason,
                ended_at=ended_at,
                updated_at=now,
            )
        run_dir = self.store.run_dir(run_id)
        has_folder = books.owns_folder and run_dir.is_dir()
        try:
            if before.project_id != after.project_id:
                if before.project_path is not None:
                    unlink_run(before.project_path, run_id, run_dir)
                if after.project_path is not None and has_folder:  # never a dangling link
                    link_run(after.project_path, run_id, run_dir, after.created_at, after.status)
            elif after.project_path is not None and before.status != after.status:
                refresh_link(after.project_path, run_id, run_dir, after.created_at, after.status)
        except ProjectLinkError as err:
            warnings.append(f"project link not updated: {err}")
        if run_dir.is_dir():
            try:
                self.write_meta(run_id, reason=reason, warnings=warnings)
            except (ForeignMetaError, ForeignFolderError) as err:  # the row changed, not it
                warnings.append(f"meta.json not updated: {err}")
        print_warnings(run_id, warnings)
        return after

    def _live_process(self, run_id: int, books: RunBookkeeping) -> ProcessIdentity | None:
        """The run's recording process if it is alive (the row's, else meta.json's)."""
        process = books.process
        if process is None and books.owns_folder:  # a row of an older schema
            try:
                process = recorded_process(self.store.read_meta(run_id))
            except RunMetaError:
                return None
        if process is None:
            return None
        alive = is_process_alive(process.host, process.pid, process.start_time) == "alive"
        return process if alive else None

    def record_end_from_meta(self, run_id: int, *, found_by: str) -> RunRecord:
        """Take a ``running`` row to the end its meta.json records; return the new row.

        The run's process wrote its end to meta.json but could not update the database
        (locked, full...): meta.json is the later, truer record, so the row takes its
        status, ``ended_at`` and reason, never the reverse. ``found_by`` names the
        command, for the warning added to meta.json. Raises
        :class:`RunStatusChangedError` when the row is no longer ``running``, and
        :class:`MetaNotFoundError` / :class:`MetaCorruptError` /
        :class:`ForeignMetaError` when meta.json records no end of this run.
        """
        record = self.runs.get(run_id)
        if record.status != "running":
            raise RunStatusChangedError(run_id, "running", record.status)
        meta = self.store.read_meta(run_id)
        end = recorded_end(meta, record)
        if end is None:
            raise ForeignMetaError(self.store.meta_path(run_id), meta.get("created_at"))
        status, ended_at = end
        reason = meta.get("reason")
        recorded = meta.get("metrics")
        figures, problems = checked_metrics(recorded if isinstance(recorded, dict) else {})
        now = self.clock.timestamp()
        with transaction(self.connection):
            before = self.runs.get(run_id)
            if before.status != "running":
                raise RunStatusChangedError(run_id, "running", before.status)
            after = self.runs.update(
                run_id,
                status=status,
                ended_at=ended_at,
                reason=reason if isinstance(reason, str) else None,
                updated_at=now,
            )
            if figures:  # the figures of that end, missed with it
                self.runs.set_metrics(run_id, figures)
        note = f"the database missed this end; {found_by} recorded it from meta.json at {now}"
        warnings = [note, *(f"{problem}; not stored" for problem in problems)]
        if after.project_path is not None:
            run_dir = self.store.run_dir(run_id)
            try:
                refresh_link(after.project_path, run_id, run_dir, after.created_at, status)
            except ProjectLinkError as err:
                warnings.append(f"project link not updated: {err}")
        self.write_meta(run_id, warnings=warnings)
        return after

    def set_metrics(
        self, run_id: int, metrics: Mapping[str, MetricValue], *, replace: bool = False
    ) -> dict[str, MetricValue]:
        """Store figures of a run (ended or not), then its meta.json; return all its figures.

        Each key's value replaces the one stored; with ``replace`` the run's other
        figures go. Every key and value is checked first: one that cannot be stored
        raises :class:`InvalidMetricError` and nothing changes. The row (and its
        ``updated_at``) is unchanged: the figures are not columns of ``runs``. A run
        whose folder is gone, or is not its own, gets them in the database only; a
        meta.json that cannot be written is a warning (stderr and nothing else), like
        :meth:`update_run`'s. Raises :class:`RunNotFoundError`.
        """
        with transaction(self.connection):
            self.runs.set_metrics(run_id, metrics, replace=replace)
            stored = self.runs.metrics(run_id)
        warnings: list[str] = []
        if self._has_own_folder(run_id):
            try:
                self.write_meta(run_id, metrics=stored)
            except (ForeignMetaError, ForeignFolderError) as err:
                warnings.append(f"meta.json not updated: {err}")
        print_warnings(run_id, warnings)
        return stored

    def sync_meta(self, run_id: int, *, warnings: Sequence[str] = ()) -> Path | None:
        """Rewrite the run's meta.json from its row, keeping every other field.

        An unreadable meta.json is kept as ``meta.json.unreadable`` (its path is
        returned, else ``None``) and a new one is built from the row. ``warnings`` are
        appended to its ``warnings`` list (e.g. that it was rebuilt). Raises
        :class:`RunNotFoundError`, :class:`RunDirNotFoundError` (the folder is not
        recreated), :class:`ForeignFolderError` for a folder the run did not make, and
        :class:`ForeignMetaError` for a meta.json of another run, which is never
        overwritten. A meta.json without the recording process gets the row's.
        """
        self.runs.get(run_id)
        return self.write_meta(run_id, warnings=warnings)

    def write_meta(
        self,
        run_id: int,
        *,
        record: RunRecord | None = None,
        first: RunRecord | None = None,
        input_info: InputSnapshotInfo | None = None,
        process: ProcessIdentity | None = None,
        reason: str | None = None,
        warnings: Sequence[str] = (),
        extra: Mapping[str, Any] | None = None,
        metrics: Mapping[str, MetricValue] | None = None,
        provenance: Mapping[str, Any] | None = None,
    ) -> Path | None:
        """Write the run's meta.json from its row plus what only the file holds.

        Under the run's lock (:meth:`RunArtifactStore.meta_lock`) the row is read again
        (``record``, when given, stands for it: the end of a run that the database
        could not take) and so is the current meta.json: the row's fields replace the
        file's, every other field of the file is kept, and the writer's own facts are
        added (``input_info``, ``process``, ``reason``, ``warnings``, ``extra`` fields).
        ``metrics`` (the run's figures) are the database's when it holds any for the
        run, else those given (with ``record``: the figures the database could not
        take), else the file's are kept. ``provenance`` (the run's, from its start)
        replaces the file's; without it the file's is kept.
        Concurrent writers thus never drop each other's fields, and the last write
        carries the newest row. ``first`` is the row as the run's start inserted it,
        used without reading it again when no meta.json exists yet (no other writer has
        written one; any that changed the row since writes after this). An unreadable
        meta.json is kept aside first (its new name is returned). Raises
        :class:`RunDirNotFoundError`, :class:`ForeignFolderError` (a folder the run did
        not make: never written into), :class:`ForeignMetaError` (a meta.json of
        another run), :class:`RunNotFoundError` and :class:`ArtifactWriteError`.
        """
        with self.store.meta_lock(run_id):
            books: RunBookkeeping | None = None
            if record is None and first is None:
                record, books = self._own_row(run_id)
            kept: Path | None = None
            try:
                existing: dict[str, Any] = self.store.read_meta(run_id)
            except MetaNotFoundError:
                existing = {}
            except MetaCorruptError:
                existing = {}
                kept = self.store.set_aside_meta(run_id)
            if record is None:  # a start's first write, unless another writer came first
                if first is None or existing or kept is not None:
                    record, books = self._own_row(run_id)
                else:
                    record = first
            if metrics is None and books is not None:  # the row was read: so are its figures
                # None keeps the file's: figures of an end the database missed stay
                # until reap or check --repair records them (record_end_from_meta).
                metrics = self.runs.metrics(run_id) or None
            if describes_another_run(existing, record):
                raise ForeignMetaError(self.store.meta_path(run_id), existing.get("created_at"))
            if kept is not None:
                warnings = [f"the unreadable meta.json was kept as {kept.name}", *warnings]
            meta = _merged_meta(
                existing,
                record,
                books,
                input_info=input_info,
                process=process,
                reason=reason,
                warnings=warnings,
                extra=extra,
                metrics=metrics,
                provenance=provenance,
            )
            self.store.write_meta(run_id, meta)
        return kept

    def _own_row(self, run_id: int) -> tuple[RunRecord, RunBookkeeping]:
        """The run's row, or :class:`ForeignFolderError` when its folder is not its own."""
        record, books = self.runs.get_in_full(run_id)
        if not books.owns_folder:
            raise ForeignFolderError(
                self.store.run_dir(run_id), run_id, never_made=books.folder == NO_FOLDER
            )
        return record, books

    def add_project(
        self, project_id: str, project_path: str | Path, note: str = ""
    ) -> ProjectRecord:
        """Register an analysis project (its path made absolute) and return it."""
        with transaction(self.connection):
            return self.projects.add(project_id, project_path, self.clock.timestamp(), note)

    def update_project(
        self,
        project_id: str,
        *,
        project_path: str | Path | None = None,
        note: str | None = None,
    ) -> ProjectRecord:
        """Change a project; with a path, its runs' references and meta.json follow.

        With ``project_path`` every run of the project whose folder exists gets its
        reference in the (new) folder's ``experiment_refs``, made again when missing,
        so repeating the command repairs references. When the path changed, the run's
        reference in the old folder is removed once the new one exists; one that
        cannot be made is a warning (stderr and meta.json) and the old one is kept.
        """
        with transaction(self.connection):
            before = self.projects.get(project_id)
            project = self.projects.update(project_id, project_path=project_path, note=note)
            runs = self.runs.list_runs(project_id=project_id) if project_path is not None else []
        for run in reversed(runs):  # oldest first
            if self._has_own_folder(run.run_id):
                warnings = self._move_reference(run, before.project_path)
                self._sync_quietly(run.run_id, warnings)
        return project

    def _has_own_folder(self, run_id: int) -> bool:
        """Whether ``result/<run_id>`` exists and was made by the run."""
        return self.store.run_dir(run_id).is_dir() and self.runs.bookkeeping(run_id).owns_folder

    def _move_reference(self, run: RunRecord, old_path: str) -> list[str]:
        """Link ``run`` from its project's folder, then unlink it from ``old_path``."""
        if run.project_path is None:  # pragma: no cover - the run was selected by project
            return []
        try:
            link_run(
                run.project_path,
                run.run_id,
                self.store.run_dir(run.run_id),
                run.created_at,
                run.status,
            )
        except ProjectLinkError as err:
            kept = "" if old_path == run.project_path else f" (the one in {old_path} is kept)"
            return [f"project link not made: {err}{kept}"]
        if old_path == run.project_path:
            return []
        try:
            unlink_run(old_path, run.run_id, self.store.run_dir(run.run_id))
        except ProjectLinkError as err:
            return [f"old project link not removed: {err}"]
        return []

    def delete_project(self, project_id: str) -> list[int]:
        """Delete a project; its runs stay, detached, with meta.json updated.

        Returns the ids of the runs that were attached (oldest first); their
        ``updated_at`` is set. As with a run detached by :meth:`update_run`, each run's
        reference in the project's ``experiment_refs`` is removed; the project folder
        and anything else in it are left alone.
        """
        now = self.clock.timestamp()
        with transaction(self.connection):
            project = self.projects.get(project_id)
            run_ids = self.runs.detach_project(project_id, now)
            self.projects.delete(project_id)
        for run_id in run_ids:
            warnings: list[str] = []
            try:
                unlink_run(project.project_path, run_id, self.store.run_dir(run_id))
            except ProjectLinkError as err:
                warnings.append(f"project link not removed: {err}")
            self._sync_quietly(run_id, warnings)
        return run_ids

    def _sync_quietly(self, run_id: int, warnings: Sequence[str] = ()) -> None:
        """Sync meta.json (with ``warnings``) if the run has its own folder; problems on stderr."""
        print_warnings(run_id, warnings)
        if not self._has_own_folder(run_id):
            return
        try:
            self.write_meta(run_id, warnings=warnings)
        except RunMetaError as err:
            print_warnings(run_id, [str(err)])

    def delete_run(
        self,
        run_id: int,
        *,
        with_files: bool = False,
        force: bool = False,
        delete_foreign_folder: bool = False,
        with_children: bool = False,
    ) -> DeletedRun:
        """Delete a run (and with ``with_files`` its link and folder), under the write lock.

        The database's write lock is taken before any file is touched, so a locked
        database (:class:`DatabaseLockedError`) means nothing was removed. ``removed``
        lists the removed files in words (``"the link in /analysis"``, ``"result/42"``).
        A folder the run did not make is removed only with ``delete_foreign_folder``.
        Raises :class:`RunNotFoundError`, :class:`RunStillRunningError` without
        ``force``, :class:`RunFilesLeftError` when a file cannot (or may not) be removed
        (then the row is not deleted), and :class:`RunDeletionIncompleteError` in the
        rare case where files went but the row could not.

        A run with child runs raises :class:`RunHasChildrenError` (nothing deleted)
        unless ``with_children``: then its children and theirs are deleted first, each
        as this method deletes one run (with the same options), and ``children`` of the
        result lists them. A ``running`` child without ``force`` is refused before
        anything is deleted. If a child, or the parent itself, cannot be deleted once
        some children were, :class:`ChildDeletionStoppedError` names those deleted and
        the error that stopped it; the parent stays, and running the same deletion
        again finishes the job.
        """
        children: list[DeletedRun] = []
        if with_children:
            children = self._delete_children(
                run_id,
                with_files=with_files,
                force=force,
                delete_foreign_folder=delete_foreign_folder,
            )
        try:
            deleted = self._delete_one(run_id, with_files, force, delete_foreign_folder)
        except RunMetaError as err:
            if children:
                gone = [child.record.run_id for child in children]
                raise ChildDeletionStoppedError(run_id, gone, run_id, err) from err
            raise
        return DeletedRun(deleted.record, deleted.removed, tuple(children))

    def _delete_children(
        self, run_id: int, *, with_files: bool, force: bool, delete_foreign_folder: bool
    ) -> list[DeletedRun]:
        """Delete the descendants of ``run_id``, deepest first; return them in that order."""
        parent = self.runs.get(run_id)
        if parent.status == "running" and not force:
            raise RunStillRunningError(run_id)  # refused before any child goes
        descendants = self._descendants(run_id)
        if not force:
            for child in descendants:
                if child.status == "running":
                    raise RunStillRunningError(child.run_id)
        deleted: list[DeletedRun] = []
        for child in descendants:
            try:
                deleted.append(
                    self._delete_one(child.run_id, with_files, force, delete_foreign_folder)
                )
            except RunNotFoundError:
                continue  # deleted meanwhile by someone else: not ours to report
            except RunMetaError as err:
                if deleted:
                    gone = [run.record.run_id for run in deleted]
                    raise ChildDeletionStoppedError(run_id, gone, child.run_id, err) from err
                raise
        return deleted

    def _descendants(self, run_id: int) -> list[RunRecord]:
        """The children of ``run_id`` and theirs, each after its own children, ids ascending."""
        order: list[RunRecord] = []
        seen = {run_id}
        # Depth first without recursion: (run, its children listed yet?).
        stack: list[tuple[RunRecord, bool]] = [
            (child, False) for child in reversed(self.runs.list_children(run_id))
        ]
        while stack:
            run, expanded = stack.pop()
            if expanded:
                order.append(run)
                continue
            if run.run_id in seen:  # a cycle (a hand edit): each run once
                continue
            seen.add(run.run_id)
            stack.append((run, True))
            stack.extend((child, False) for child in reversed(self.runs.list_children(run.run_id)))
        return order

    def _delete_one(
        self, run_id: int, with_files: bool, force: bool, delete_foreign_folder: bool
    ) -> DeletedRun:
        """Delete one run that has no children left (see :meth:`delete_run`)."""
        removed: list[str] = []
        try:
            with transaction(self.connection):
                run, books = self.runs.get_in_full(run_id)
                if run.status == "running" and not force:
                    raise RunStillRunningError(run_id)
                children = self.runs.list_children(run_id)
                if children:
                    raise RunHasChildrenError(run_id, [child.run_id for child in children])
                if with_files:
                    self._remove_files(run, books, removed, delete_foreign_folder)
                self.runs.delete(run_id)
        except DatabaseError as err:
            if removed:
                # Not the lock's own words ("nothing was changed"): files did go.
                why = "it is locked" if isinstance(err, DatabaseLockedError) else str(err)
                raise RunDeletionIncompleteError(run_id, removed, why) from err
            raise
        return DeletedRun(run, tuple(removed))

    def _remove_files(
        self, run: RunRecord, books: RunBookkeeping, removed: list[str], delete_foreign: bool
    ) -> None:
        """Remove the run's project link and folder, saying each in ``removed``."""
        store, run_id = self.store, run.run_id
        run_dir = store.run_dir(run_id)
        if not delete_foreign:
            if not books.owns_folder and run_dir.exists():
                how = "" if books.folder == NO_FOLDER else " (it was there before the run started)"
                raise RunFilesLeftError(
                    run_id,
                    f"{run_dir} was not made by run {run_id}{how}, so it is not removed",
                    [f"the run folder {run_dir}"],
                    retry="add --delete-foreign-folder to remove it too, or delete the row"
                    " alone without --with-files",
                )
            _refuse_another_runs_folder(store, run)
        if run.project_path is not None and books.owns_folder:  # a foreign run has no link
            try:
                if unlink_run(run.project_path, run_id, run_dir):
                    removed.append(f"the link in {run.project_path}")
            except ProjectLinkError as err:
                left = [f"the project link {err.path}"]
                if run_dir.exists():
                    left.append(f"the run folder {run_dir}")
                raise RunFilesLeftError(
                    run_id, f"cannot remove {err.path}: {err.reason}", left
                ) from err
        try:
            if store.delete_run_dir(run_id):
                removed.append(str(run_dir))
        except ArtifactWriteError as err:
            count = _count_files(run_dir)
            left = [f"{run_dir} ({plural(count, 'file')})"]
            done = f" (removed: {', '.join(removed)})" if removed else ""
            raise RunFilesLeftError(
                run_id, f"cannot remove {err.path}: {err.reason}{done}", left
            ) from err
