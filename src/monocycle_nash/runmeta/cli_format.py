"""Text and JSON shapes that the ``runmeta`` command line prints (no printing here).

Everything is a pure function of records and widths: ``cli.py`` decides where lines go.
Tables stream: the column widths are measured on the first rows (a window) and kept
for the rest, so a listing of a million runs never sits in memory; a later value wider
than its column is shortened with ``...``. Widths count terminal cells, so Japanese
notes (two cells per character) stay aligned.

Cell widths, shortening, plurals and escaping come from :mod:`monocycle_nash.text`,
shared with the domain and the app; :func:`terminal_width` is the only one of its kind.

Every text that a user or a file supplied (notes, commands, ids, paths, meta.json, error
messages) goes through :func:`~monocycle_nash.text.printable` (directly, through
:func:`clean`, or through ``repr``) before it is printed: a control character or a bidi
control shows as an escape such as ``\\x1b`` or ``\\u202e`` instead of acting on the
terminal. Widths are measured on the escaped text, so the columns stay aligned. JSON
output is ASCII (``json.dumps``' default), hence safe as it is.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import chain, islice

from monocycle_nash.text import cell_width, fit, printable

TYPE_CHECKING = False  # not typing's: the listing path does without ``typing`` (2 ms)
if TYPE_CHECKING:
    from typing import TextIO

    from monocycle_nash.runmeta.models import ProjectRecord, RunRecord

__all__ = [
    "WINDOW",
    "Column",
    "clean",
    "describe_run",
    "format_duration",
    "format_project_table",
    "format_run_details",
    "format_run_table",
    "format_size",
    "format_table",
    "json_array_lines",
    "run_to_json",
    "status_text",
    "terminal_width",
]

WINDOW = 200
"""Rows read before the column widths of a streamed table are fixed."""

_MIN_LAST_COLUMN = 12
_GAP = "  "


# --- one line of text -----------------------------------------------------------------


def clean(text: str | None) -> str:
    """Return ``text`` as one printable line: whitespace runs become one space.

    What is left of control and bidi characters (such as a terminal escape sequence in
    a note) is escaped by :func:`~monocycle_nash.text.printable` (``\\x1b``). For notes
    and commands; a path keeps its exact spelling through ``printable`` alone.
    """
    if not text:
        return ""
    return printable(" ".join(text.split()))


def terminal_width(stream: TextIO | None = None) -> int | None:
    """Return the width to fit tables into, or ``None`` for "do not shorten".

    ``COLUMNS`` wins when set (as with ``shutil.get_terminal_size``); otherwise the
    width of the terminal that ``stream`` (default: ``sys.stdout``) writes to. A pipe or
    a file has no width, so nothing is shortened and ``runmeta list-runs | grep ...``
    sees whole commands.
    """
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size((stream or sys.stdout).fileno()).columns
    except (AttributeError, OSError, ValueError):  # no file descriptor, or not a terminal
        return None


def _pad(text: str, width: int, *, right: bool) -> str:
    gap = " " * max(0, width - cell_width(text))
    return gap + text if right else text + gap


def _short_time(stamp: str | None) -> str:
    # "2026-02-14T19:30:12+09:00" -> "2026-02-14 19:30:12": every stored time is +09:00,
    # the header says so, and the short form is still accepted by --from/--to.
    if not stamp:
        return "-"
    if len(stamp) == 25 and stamp.endswith("+09:00"):
        return stamp[:10] + " " + stamp[11:19]
    return printable(stamp)


# --- tables ---------------------------------------------------------------------------


class Column:
    """One table column: header, alignment and an optional cap on its width in cells."""

    __slots__ = ("cap", "header", "right")

    def __init__(self, header: str, *, right: bool = False, cap: int | None = None) -> None:
        """Describe a column; ``cap`` limits its width in cells (``None``: no limit)."""
        self.header = header
        self.right = right
        self.cap = cap


def format_table(
    columns: Sequence[Column], rows: Iterable[Sequence[str]], width: int | None
) -> Iterator[str]:
    """Yield the header and one aligned line per row, lazily.

    The widths come from the first :data:`WINDOW` rows and the column caps; the last
    column takes the width that is left of ``width`` (``None``: never shortened).
    """
    iterator = iter(rows)
    window = list(islice(iterator, WINDOW))
    widths = [cell_width(column.header) for column in columns]
    for row in window:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], cell_width(cell))
    for index, column in enumerate(columns):
        if column.cap is not None:
            widths[index] = min(widths[index], max(column.cap, cell_width(column.header)))
    last: int | None = None
    if width is not None:
        used = sum(widths[:-1]) + len(_GAP) * (len(columns) - 1)
        last = max(_MIN_LAST_COLUMN, width - used)

    def line(cells: Sequence[str]) -> str:
        parts = [
            _pad(fit(cell, widths[index]), widths[index], right=columns[index].right)
            for index, cell in enumerate(cells[:-1])
        ]
        tail = cells[-1] if last is None else fit(cells[-1], last)
        return _GAP.join([*parts, tail]).rstrip()

    yield line([column.header for column in columns])
    for row in chain(window, iterator):
        yield line(row)


_RUN_COLUMNS = (
    Column("RUN", right=True),
    Column("STATUS"),
    Column("CREATED (+09:00)"),
    Column("DURATION", right=True),
    Column("PROJECT", cap=24),
    Column("NOTE", cap=32),
    Column("COMMAND"),
)

_PROJECT_COLUMNS = (
    Column("PROJECT"),
    Column("CREATED (+09:00)"),
    Column("NOTE", cap=32),
    Column("PATH"),
)


def format_run_table(
    runs: Iterable[RunRecord],
    width: int | None,
    process_state: Callable[[int], str] | None = None,
) -> Iterator[str]:
    """Yield an aligned table of ``runs`` (header first), lazily.

    Columns: run id, status, created, duration or ``running``, project, note, and the
    command, shortened so each line fits ``width`` cells (``None``: never shortened).
    ``process_state(run_id)`` is asked about ``running`` runs only; ``"dead"`` shows
    the status as ``running (dead)``.
    """
    return format_table(_RUN_COLUMNS, (_run_cells(run, process_state) for run in runs), width)


def _run_cells(
    run: RunRecord, process_state: Callable[[int], str] | None = None
) -> tuple[str, ...]:
    state = process_state(run.run_id) if process_state and run.status == "running" else None
    return (
        str(run.run_id),
        status_text(run.status, state),
        _short_time(run.created_at),
        format_duration(run.started_at, run.ended_at, run.status),
        clean(run.project_id) or "-",
        clean(run.note),
        clean(run.command),
    )


def format_project_table(projects: Iterable[ProjectRecord], width: int | None) -> Iterator[str]:
    """Yield an aligned table of ``projects`` (header first); the path is shortened last."""
    rows = (
        (
            clean(project.project_id),
            _short_time(project.created_at),
            clean(project.note),
            printable(project.project_path),
        )
        for project in projects
    )
    return format_table(_PROJECT_COLUMNS, rows, width)


# --- one run --------------------------------------------------------------------------


def status_text(status: str, process_state: str | None) -> str:
    """Return the status as shown: ``"running (dead)"`` for a running run whose process is gone."""
    if status == "running" and process_state == "dead":
        return "running (dead)"
    return status


def _child_status(child: RunRecord, state: Callable[[int], str] | None) -> str:
    if child.status == "running" and state is not None:
        return status_text(child.status, state(child.run_id))
    return child.status


def format_duration(started_at: str, ended_at: str | None, status: str) -> str:
    """Return ``"running"``, a span like ``"50s"``, ``"3m05s"``, ``"2h03m05s"``, or ``"-"``.

    ``"-"`` stands for a finished run without an end time or with unreadable times.
    """
    if status == "running":
        return "running"
    seconds = _seconds_between(started_at, ended_at)
    if seconds is None:
        return "-"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _seconds_between(started_at: str, ended_at: str | None) -> int | None:
    if ended_at is None:
        return None
    try:
        start, end = datetime.fromisoformat(started_at), datetime.fromisoformat(ended_at)
        seconds = round((end - start).total_seconds())
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def format_size(size: int) -> str:
    """Return a byte count for people: ``"812 B"``, ``"3.4 KiB"``, ``"12.0 MiB"``."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def describe_run(run: RunRecord) -> str:
    """Return a one-line summary: ``run 42 (success, project main, note 'baseline')``.

    A child run says whose: ``run 43 (success, no project, child of run 42, note 'a')``.
    """
    parts = [run.status, f"project {clean(run.project_id)}" if run.project_id else "no project"]
    if run.parent_run_id is not None:
        parts.append(f"child of run {run.parent_run_id}")
    if run.note:
        parts.append(f"note {' '.join(run.note.split())!r}")  # repr escapes what it must
    return f"run {run.run_id} ({', '.join(parts)})"


_CHILD_COLUMNS = (Column("RUN", right=True), Column("STATUS"), Column("NOTE"))


def format_run_details(
    run: RunRecord,
    meta: Mapping[str, object] | None,
    meta_problem: str | None,
    run_dir: str,
    files: Sequence[tuple[str, int]] | None,
    *,
    process_state: str | None = None,
    children: Sequence[RunRecord] = (),
    child_state: Callable[[int], str] | None = None,
    parent_missing: bool = False,
) -> Iterator[str]:
    """Yield the readable ``show-run`` page: the row, meta.json, and the folder's files.

    ``meta_problem`` says why ``meta`` is ``None`` (missing, unreadable); ``files`` is
    ``None`` when the run folder does not exist. ``process_state`` (for a running run)
    ``"dead"`` shows the status as ``running (dead)``. A child run names its parent
    (``parent_missing``: its row is gone); a parent lists its ``children``, one line
    each (id, status as ``child_state`` tells it for a running one, note).
    """
    project = clean(run.project_id) or "-"
    if run.project_id and run.project_path:
        project += f" ({printable(run.project_path)})"
    parent: tuple[tuple[str, str], ...] = ()
    if run.parent_run_id is not None:
        gone = " (not in the database)" if parent_missing else ""
        parent = (("parent", f"run {run.parent_run_id}{gone}"),)
    fields = (
        ("status", status_text(run.status, process_state)),
        ("command", clean(run.command)),
        ("created", printable(run.created_at)),
        ("started", printable(run.started_at)),
        ("ended", printable(run.ended_at or "-")),
        ("duration", format_duration(run.started_at, run.ended_at, run.status)),
        ("updated", printable(run.updated_at)),
        ("project", project),
        *parent,
        ("git commit", clean(run.git_commit) or "-"),
        ("note", clean(run.note) or "-"),
    )
    yield f"run {run.run_id}"
    for label, value in fields:
        yield f"  {label:<12}{value}"
    yield ""
    if children:
        yield f"child runs ({len(children)}):"
        rows = (
            (str(child.run_id), _child_status(child, child_state), clean(child.note) or "-")
            for child in children
        )
        yield from ("  " + line for line in format_table(_CHILD_COLUMNS, rows, None))
        yield ""
    if meta is None:
        yield f"meta.json: {printable(meta_problem or 'missing')}"
    else:
        yield "meta.json:"
        # JSON escapes C0 controls itself; DEL, C1 and bidi controls it leaves raw.
        for text in json.dumps(meta, indent=2, ensure_ascii=False).splitlines():
            yield "  " + printable(text)
    yield ""
    shown_dir = printable(run_dir)
    if files is None:
        yield f"files: {shown_dir} does not exist"
        return
    yield f"files in {shown_dir}:"
    if not files:
        yield "  (none)"
        return
    paths = [printable(path) for path, _ in files]
    path_width = max(cell_width(path) for path in paths)
    sizes = [format_size(size) for _, size in files]
    size_width = max(len(size) for size in sizes)
    for path, size in zip(paths, sizes, strict=True):
        yield f"  {_pad(path, path_width, right=False)}  {size:>{size_width}}"


# --- JSON -----------------------------------------------------------------------------


def run_to_json(
    run: RunRecord, process_state: Callable[[int], str] | None = None
) -> dict[str, object]:
    """Return every runs column of ``run`` plus ``project_path``, as a JSON-ready dict.

    With ``process_state``, a ``running`` run also gets ``"process"``: ``"alive"``,
    ``"dead"`` or ``"unknown"``.
    """
    data: dict[str, object] = run.to_dict()
    if process_state is not None and run.status == "running":
        data["process"] = process_state(run.run_id)
    return data


def json_array_lines(items: Iterable[object]) -> Iterator[str]:
    """Yield one JSON array, one compact element per line, without holding all of it."""
    first = True
    for item in items:
        yield ("[\n  " if first else ",\n  ") + json.dumps(item)
        first = False
    yield "[]\n" if first else "\n]\n"
