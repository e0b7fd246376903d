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
output is ASCII (``json.dumps``' default), hence safe as it is; CSV and TSV cells are
escaped the same way (TSV also writes tab, line feed, carriage return and backslash as
``\\t``, ``\\n``, ``\\r``, ``\\\\``).

``list-runs`` shows chosen columns (:data:`LISTING_COLUMNS`, ``metric:KEY``) of
:class:`~monocycle_nash.runmeta.models.ListedRun` rows as a table, CSV, TSV or JSON,
with times in a :class:`~monocycle_nash.runmeta.clock.DisplayZone` (stored times are
always +09:00; JSON keeps them as stored). Its ``RESULT`` column (:func:`result_text`)
sums up a run's figures, or says why it failed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import chain, islice

from monocycle_nash.runmeta.models import ListedRun
from monocycle_nash.text import cell_width, fit, printable

TYPE_CHECKING = False  # not typing's: the listing path does without ``typing`` (2 ms)
if TYPE_CHECKING:
    from typing import Final, TextIO

    from monocycle_nash.runmeta.clock import DisplayZone
    from monocycle_nash.runmeta.models import MetricValue, ProjectRecord, RunRecord

__all__ = [
    "DEFAULT_LISTING_COLUMNS",
    "LISTING_COLUMNS",
    "METRIC_COLUMN",
    "WINDOW",
    "Column",
    "clean",
    "describe_run",
    "format_duration",
    "format_listing_delimited",
    "format_listing_table",
    "format_metric",
    "format_project_table",
    "format_run_details",
    "format_run_table",
    "format_size",
    "format_table",
    "json_array_lines",
    "listed_to_json",
    "parse_columns",
    "result_text",
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


def _short_time(stamp: str | None, zone: DisplayZone | None = None) -> str:
    # "2026-02-14T19:30:12+09:00" -> "2026-02-14 19:30:12": every stored time is +09:00
    # (or shown in ``zone``), the header says so, and the short form is still accepted
    # by --from/--to (given the same --tz).
    if not stamp:
        return "-"
    if zone is not None and not zone.is_storage:
        moment = _in_zone(stamp, zone)
        return printable(stamp) if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")
    if len(stamp) == 25 and stamp.endswith("+09:00"):
        return stamp[:10] + " " + stamp[11:19]
    return printable(stamp)


def _full_time(stamp: str | None, zone: DisplayZone | None = None) -> str:
    """A stored time as ISO-8601 in ``zone`` (with its offset); stored as is in +09:00."""
    if not stamp or zone is None or zone.is_storage:
        return stamp or ""
    moment = _in_zone(stamp, zone)
    return stamp if moment is None else moment.isoformat(timespec="seconds")


def _in_zone(stamp: str, zone: DisplayZone) -> datetime | None:
    """``stamp`` converted to ``zone``, or ``None`` when it cannot be (unreadable, or
    beyond what the system's local time reaches)."""
    try:
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            return None
        return zone.convert(moment)
    except (ValueError, OverflowError, OSError):
        return None


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


_PROJECT_COLUMNS = (
    Column("PROJECT"),
    Column("CREATED (+09:00)"),
    Column("NOTE", cap=32),
    Column("PATH"),
)


_CLASSIC_COLUMNS = ("run", "status", "created", "duration", "project", "note", "command")
"""The columns of :func:`format_run_table` (``list-runs`` before it had a result)."""

LISTING_COLUMNS: Final = (
    "run",
    "status",
    "created",
    "started",
    "ended",
    "updated",
    "duration",
    "project",
    "note",
    "result",
    "reason",
    "command",
    "parent",
    "commit",
)
"""The columns ``list-runs --columns`` can choose, besides ``metric:KEY``."""
DEFAULT_LISTING_COLUMNS: Final = (
    "run",
    "status",
    "created",
    "duration",
    "project",
    "note",
    "result",
    "command",
)
"""The columns of ``list-runs`` without ``--columns``."""
METRIC_COLUMN: Final = "metric:"
"""Prefix of a column showing one figure: ``metric:support_size``."""

_TIMES: Final = frozenset({"created", "started", "ended", "updated"})
_HEADS: Final = {
    "run": Column("RUN", right=True),
    "status": Column("STATUS"),
    "duration": Column("DURATION", right=True),
    "project": Column("PROJECT", cap=24),
    "note": Column("NOTE", cap=32),
    "result": Column("RESULT", cap=28),
    "reason": Column("REASON", cap=48),
    "command": Column("COMMAND", cap=60),  # the cap counts when it is not the last column
    "parent": Column("PARENT", right=True),
    "commit": Column("COMMIT"),
}
_RESULT_LONGEST: Final = 80
"""Characters of figures that :func:`result_text` puts together at most (about)."""
_WELL_KNOWN: Final = (
    ("support_size", "support"),
    ("value", "value"),
    ("support_3_rate", "support-3 rate"),
    ("distance_mean", "mean distance"),
    ("succeeded", "children succeeded"),
)
"""Figures that come first in the result, under a shorter name: the main job's headline
figures of a solve, a team-spectrum experiment, an approximation experiment, a sweep."""


def parse_columns(text: str) -> tuple[str, ...]:
    """Read ``--columns``: names of :data:`LISTING_COLUMNS` or ``metric:KEY``, by commas.

    Names are case-insensitive (keys are not). Raises ``ValueError`` (one line).
    """
    from monocycle_nash.runmeta.metrics import is_metric_key  # noqa: PLC0415 - its regexes cost

    columns: list[str] = []
    for part in text.split(","):
        name = part.strip()
        if name.lower().startswith(METRIC_COLUMN):
            key = name[len(METRIC_COLUMN) :].strip()
            if not is_metric_key(key):
                raise ValueError(
                    f"{name!r}: metric:KEY needs a key of 1-64 letters, digits, '_', '.' or '-'"
                )
            columns.append(METRIC_COLUMN + key)
        elif name.lower() in LISTING_COLUMNS:
            columns.append(name.lower())
        else:
            choices = ", ".join(LISTING_COLUMNS)
            raise ValueError(f"unknown column {name!r}; choose from {choices}, or metric:KEY")
    return tuple(columns)


def format_metric(value: MetricValue, *, digits: int = 4) -> str:
    """A figure for reading: floats to ``digits`` significant digits, ``true``/``false``,
    ``-`` for None, a text as one printable line."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(value + 0.0, f".{digits}g")  # + 0.0: no "-0"
    if isinstance(value, int):
        return str(value)
    return clean(value)


def _exact_metric(value: MetricValue) -> str:
    """A figure for a CSV or TSV cell: exact (``repr`` of a float), empty for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return value


def result_text(listed: ListedRun) -> str:
    """A run's result in a few words: ``support 3, value 0, solver lp``, or why it failed.

    The well-known figures come first (:data:`_WELL_KNOWN`, e.g. ``support_size`` and
    ``value`` as ``support`` and ``value``), then the others by key, as ``key value``,
    until about :data:`_RESULT_LONGEST` characters; figures without a value are left
    out. A failed or killed run without figures shows the first line of its reason;
    otherwise the result is empty.
    """
    metrics = listed.metrics
    if not metrics:
        reason = (listed.reason or "").strip()
        if listed.record.status in {"fail", "killed"} and reason:
            return clean(reason.splitlines()[0])
        return ""
    names = dict(_WELL_KNOWN)
    ordered = [key for key, _ in _WELL_KNOWN if key in metrics]
    ordered += [key for key in metrics if key not in names]
    ordered = [key for key in ordered if metrics[key] is not None]
    parts: list[str] = []
    length = 0
    for key in ordered:
        part = f"{names.get(key, key)} {format_metric(metrics[key])}"
        parts.append(part)
        length += len(part) + 2
        if length >= _RESULT_LONGEST:
            break
    return ", ".join(parts)


def _column(name: str, zone: DisplayZone | None) -> Column:
    if name in _TIMES:
        return Column(f"{name.upper()} ({'+09:00' if zone is None else zone.label})")
    if name.startswith(METRIC_COLUMN):
        return Column(printable(name[len(METRIC_COLUMN) :]), right=True, cap=24)
    return _HEADS[name]


def _cell(  # noqa: PLR0911 - one branch per column
    listed: ListedRun,
    name: str,
    process_state: Callable[[int], str] | None,
    zone: DisplayZone | None,
) -> str:
    """The text of one table cell."""
    run = listed.record
    if name == "run":
        return str(run.run_id)
    if name == "status":
        state = process_state(run.run_id) if process_state and run.status == "running" else None
        return status_text(run.status, state)
    if name in _TIMES:
        return _short_time(getattr(run, f"{name}_at"), zone)
    if name == "duration":
        return format_duration(run.started_at, run.ended_at, run.status)
    if name == "project":
        return clean(run.project_id) or "-"
    if name == "note":
        return clean(run.note)
    if name == "result":
        return result_text(listed) or "-"
    if name == "reason":
        return clean(listed.reason) or "-"
    if name == "command":
        return clean(run.command)
    if name == "parent":
        return "-" if run.parent_run_id is None else str(run.parent_run_id)
    if name == "commit":
        return clean(run.git_commit)[:12] or "-"
    key = name[len(METRIC_COLUMN) :]
    return format_metric(listed.metrics[key], digits=6) if key in listed.metrics else "-"


def format_listing_table(
    runs: Iterable[ListedRun],
    columns: Sequence[str],
    width: int | None,
    process_state: Callable[[int], str] | None = None,
    zone: DisplayZone | None = None,
) -> Iterator[str]:
    """Yield an aligned table of ``runs`` in ``columns`` (header first), lazily.

    ``columns`` are names of :data:`LISTING_COLUMNS` or ``metric:KEY``; the last one is
    shortened so each line fits ``width`` cells (``None``: never shortened). Times are
    shown in ``zone`` (default +09:00, as stored). ``process_state(run_id)`` is asked
    about ``running`` runs only; ``"dead"`` shows the status as ``running (dead)``.
    """
    heads = [_column(name, zone) for name in columns]
    rows = (tuple(_cell(run, name, process_state, zone) for name in columns) for run in runs)
    return format_table(heads, rows, width)


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
    listed = (ListedRun(run, None, {}) for run in runs)
    return format_listing_table(listed, _CLASSIC_COLUMNS, width, process_state)


def _delimited_value(listed: ListedRun, name: str, zone: DisplayZone | None) -> str:  # noqa: PLR0911
    """The exact text of one CSV/TSV cell (before escaping)."""
    run = listed.record
    if name in _TIMES:
        return _full_time(getattr(run, f"{name}_at"), zone)
    if name == "run":
        return str(run.run_id)
    if name == "status":
        return run.status
    if name == "duration":
        if run.status == "running":
            return ""
        seconds = _seconds_between(run.started_at, run.ended_at)
        return "" if seconds is None else str(seconds)
    if name == "result":
        return result_text(listed)
    if name == "reason":
        return listed.reason or ""
    if name == "parent":
        return "" if run.parent_run_id is None else str(run.parent_run_id)
    if name in _TEXT_FIELDS:
        return getattr(run, _TEXT_FIELDS[name]) or ""
    return _exact_metric(listed.metrics.get(name[len(METRIC_COLUMN) :]))


_TEXT_FIELDS: Final = {
    "project": "project_id",
    "note": "note",
    "command": "command",
    "commit": "git_commit",
}


def _tsv_field(text: str) -> str:
    """One TSV cell: tab, line feed, carriage return and backslash written as escapes."""
    for char, escape in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        text = text.replace(char, escape)
    return printable(text)


def format_listing_delimited(
    runs: Iterable[ListedRun],
    columns: Sequence[str],
    separator: str,
    zone: DisplayZone | None = None,
) -> Iterator[str]:
    """Yield CSV (``separator=","``) or TSV (``"\\t"``) lines of ``runs``, header first.

    Each line ends with a line feed. The header is the column names as ``--columns``
    takes them. Cells are exact: times in ISO-8601 with their offset (as stored, or in
    ``zone``), the duration in whole seconds (empty while running or unknown), the
    stored status, whole notes, commands, commits and reasons, figures as stored (a
    float's shortest exact form; empty for None or a figure the run lacks). CSV quotes
    a cell only where RFC 4180 needs it; TSV escapes tab, line feed, carriage return
    and backslash. Other control characters show as escapes, as in the table.
    """
    if separator == "\t":
        yield "\t".join(_tsv_field(name) for name in columns) + "\n"
        for run in runs:
            cells = (_tsv_field(_delimited_value(run, name, zone)) for name in columns)
            yield "\t".join(cells) + "\n"
        return
    import csv  # noqa: PLC0415 - only a CSV listing pays for it
    import io  # noqa: PLC0415

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def line(cells: Iterable[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([printable(cell, keep="\n\r\t") for cell in cells])
        return buffer.getvalue()

    yield line(columns)
    for run in runs:
        yield line(_delimited_value(run, name, zone) for name in columns)


def format_project_table(
    projects: Iterable[ProjectRecord], width: int | None, zone: DisplayZone | None = None
) -> Iterator[str]:
    """Yield an aligned table of ``projects`` (header first); the path is shortened last.

    Creation times are shown in ``zone`` (default: +09:00, as stored).
    """
    rows = (
        (
            clean(project.project_id),
            _short_time(project.created_at, zone),
            clean(project.note),
            printable(project.project_path),
        )
        for project in projects
    )
    columns = _PROJECT_COLUMNS
    if zone is not None and not zone.is_storage:
        columns = (columns[0], Column(f"CREATED ({zone.label})"), *columns[2:])
    return format_table(columns, rows, width)


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
    zone: DisplayZone | None = None,
) -> Iterator[str]:
    """Yield the readable ``show-run`` page: the row, meta.json, and the folder's files.

    ``meta_problem`` says why ``meta`` is ``None`` (missing, unreadable); ``files`` is
    ``None`` when the run folder does not exist. ``process_state`` (for a running run)
    ``"dead"`` shows the status as ``running (dead)``. A child run names its parent
    (``parent_missing``: its row is gone); a parent lists its ``children``, one line
    each (id, status as ``child_state`` tells it for a running one, note). The row's
    times are shown in ``zone`` (default: +09:00, as stored); meta.json as it is.
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
        ("created", printable(_full_time(run.created_at, zone))),
        ("started", printable(_full_time(run.started_at, zone))),
        ("ended", printable(_full_time(run.ended_at, zone) or "-")),
        ("duration", format_duration(run.started_at, run.ended_at, run.status)),
        ("updated", printable(_full_time(run.updated_at, zone))),
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


def listed_to_json(
    listed: ListedRun, process_state: Callable[[int], str] | None = None
) -> dict[str, object]:
    """``list-runs --json``'s object: :func:`run_to_json`'s fields, then ``reason`` and
    ``metrics`` (the figures by key, ``{}`` for none), then ``process`` for a running run."""
    data: dict[str, object] = listed.record.to_dict()
    data["reason"] = listed.reason
    data["metrics"] = listed.metrics
    if process_state is not None and listed.record.status == "running":
        data["process"] = process_state(listed.record.run_id)
    return data


def json_array_lines(items: Iterable[object]) -> Iterator[str]:
    """Yield one JSON array, one compact element per line, without holding all of it."""
    first = True
    for item in items:
        yield ("[\n  " if first else ",\n  ") + json.dumps(item)
        first = False
    yield "[]\n" if first else "\n]\n"
