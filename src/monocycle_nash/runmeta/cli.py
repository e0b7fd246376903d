"""``runmeta``: list, search, correct, delete and repair recorded runs and projects.

Run it as ``runmeta``, ``python -m monocycle_nash.runmeta`` or
``python -m monocycle_nash.runmeta.cli``. Every subcommand accepts ``--db-path``
(default ``.runmeta/run_history.db``) or ``--db-url`` (a PostgreSQL database,
``postgresql://user@host:5432/db``; the two exclude each other) and ``--result-root``
(default ``result``), relative to the current folder, before or after the
subcommand's name. Without either database option, ``RUNMETA_DATABASE_URL`` names the
database when it is set (see ``backends.py``).

Exit codes: 0 success; 1 a refused request, i.e. any
:class:`~monocycle_nash.runmeta.errors.RunMetaError` (one ``runmeta: error: ...`` line
on stderr), or ``check`` finding problems; 2 a usage error (argparse, or a
:class:`UsageError` for options that contradict each other). Data goes to stdout.

The commands that only read (``list-runs``, ``show-run``, ``list-projects``, ``check``
without ``--repair``, ``reap --dry-run``) open the database read-only and never create
it or a folder. Without a database they say ``runmeta: no run database at PATH
(nothing recorded yet)`` on stderr and exit 0 with an empty answer (``[]`` for
``--json``): an empty history is no error. ``show-run`` exits 1 (the run is not there),
and so does ``check`` when the result folder holds run folders (the database is
elsewhere: ``--db-path``).

This module parses, calls the library and prints; the printed shapes are in
``cli_format.py``. A subcommand is one :class:`Subcommand` entry in
:data:`SUBCOMMANDS`: its options and a handler that reads the parsed arguments, works
in a :class:`CommandContext` and returns the exit code. Handlers that write import the
service inside, so that ``runmeta list-runs`` loads only argparse, sqlite3, json and
the light modules (``bench/listing.py`` holds it to 2x a bare interpreter).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from monocycle_nash.runmeta.backends import (
    URL_VARIABLE,
    DatabaseUrl,
    choose_database,
    connect,
    is_database_url,
)
from monocycle_nash.runmeta.cli_format import (
    DEFAULT_LISTING_COLUMNS,
    LISTING_COLUMNS,
    METRIC_COLUMN,
    Column,
    clean,
    describe_run,
    format_listing_delimited,
    format_listing_table,
    format_project_table,
    format_run_details,
    format_table,
    json_array_lines,
    listed_to_json,
    parse_columns,
    run_to_json,
    terminal_width,
)
from monocycle_nash.runmeta.clock import JST, format_timestamp, parse_zone
from monocycle_nash.runmeta.db import DEFAULT_DB_PATH, DEFAULT_RESULT_ROOT
from monocycle_nash.runmeta.errors import (
    DatabaseError,
    DatabaseNotFoundError,
    NotOnServerError,
    RunMetaError,
    RunNotFoundError,
)
from monocycle_nash.runmeta.models import FINAL_STATUSES, RUN_STATUSES
from monocycle_nash.runmeta.repositories import ProjectsRepository, RunsRepository
from monocycle_nash.text import plural, printable

TYPE_CHECKING = False  # not typing's: the listing path does without ``typing`` (2 ms)
if TYPE_CHECKING:
    from monocycle_nash.runmeta.backends import Connection
    from monocycle_nash.runmeta.clock import DisplayZone
    from monocycle_nash.runmeta.metrics import MetricCondition
    from monocycle_nash.runmeta.service import RunSessionService

__all__ = [
    "SUBCOMMANDS",
    "CommandContext",
    "Handler",
    "HelpFormatter",
    "Subcommand",
    "UsageError",
    "build_parser",
    "from_bound",
    "main",
    "parse_bound",
    "read_note_file",
    "to_bound",
]


class UsageError(Exception):
    """Options that argparse accepts one by one but not together; ``main`` exits 2."""


class CommandContext:
    """The database and result folder a subcommand works on, opened on first use.

    ``database`` is an SQLite file (a path) or a PostgreSQL database (a
    :class:`DatabaseUrl`, whose ``str()`` has no password). ``main`` builds one per call
    and closes it in ``finally``; handlers never close it. Asking for neither the
    connection nor the service opens nothing.
    """

    __slots__ = ("_connection", "_service", "database", "result_root")

    def __init__(self, database: Path | DatabaseUrl, result_root: Path) -> None:
        """Remember where the database and the run folders are; open nothing yet."""
        self.database = database
        self.result_root = result_root
        self._connection: Connection | None = None
        self._service: RunSessionService | None = None

    @property
    def db_path(self) -> Path | DatabaseUrl:
        """The database (the same as ``database``), as the messages name it."""
        return self.database

    def database_file(self, operation: str, hint: str) -> Path:
        """The SQLite file, for ``operation`` that only a file allows; a URL is refused."""
        if isinstance(self.database, DatabaseUrl):
            raise NotOnServerError(operation, str(self.database), hint)
        return self.database

    def connection(self, *, read_only: bool = False) -> Connection:
        """Return a connection to the database, creating and migrating it if needed.

        With ``read_only`` nothing is created (:class:`DatabaseNotFoundError` when the
        history is missing) and an SQLite file is opened for reading (see
        :meth:`SQLiteConnectionFactory.connect`), so a read-only copy can be listed.
        """
        if self._service is not None:
            return self._service.connection
        if self._connection is None:
            self._connection = connect(self.database, read_only=read_only)
        return self._connection

    def service(self, *, read_only: bool = False) -> RunSessionService:
        """Return a :class:`RunSessionService` on the same database and result folder.

        ``read_only`` as for :meth:`connection`, for the commands that change nothing.
        """
        if self._service is None:
            # The service pulls in the artifact store, shutil, hashlib...: only on demand.
            from monocycle_nash.runmeta.service import RunSessionService  # noqa: PLC0415

            self.close()
            if read_only:
                from monocycle_nash.runmeta.artifact_store import (  # noqa: PLC0415
                    RunArtifactStore,
                )

                connection = self.connection(read_only=True)
                self._connection = None  # the service owns it from here
                self._service = RunSessionService(connection, RunArtifactStore(self.result_root))
            elif isinstance(self.database, DatabaseUrl):
                self._service = RunSessionService.open(
                    database_url=self.database, result_root=self.result_root
                )
            else:
                self._service = RunSessionService.open(
                    db_path=self.database, result_root=self.result_root
                )
        return self._service

    def close(self) -> None:
        """Close whatever was opened; safe to call twice."""
        connection, self._connection = self._connection, None
        service, self._service = self._service, None
        if connection is not None:
            connection.close()
        if service is not None:
            service.close()


Handler = Callable[[argparse.Namespace, CommandContext], int]
"""A subcommand: reads its parsed arguments, works in the context, returns the exit code."""


class _OutputError(RunMetaError):
    """Standard output cannot be written (a full disk, ``/dev/full``): the answer is lost."""

    def __init__(self, err: OSError) -> None:
        super().__init__(f"cannot write the output: {err.strerror or err}")


def _write_out(chunks: Iterable[str]) -> None:
    """Write ``chunks`` to stdout; its failure (only its) becomes :class:`_OutputError`.

    A reader that went away (``BrokenPipeError``) is left to ``main``, which stops quietly.
    """
    write = sys.stdout.write
    for chunk in chunks:
        try:
            write(chunk)
        except BrokenPipeError:
            raise
        except OSError as err:
            raise _OutputError(err) from err


def _flush_out() -> None:
    """Flush stdout, so that a failing one is reported while the command can still say so."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        raise _OutputError(err) from err


def _print_lines(lines: Iterable[str]) -> None:
    _write_out(line + "\n" for line in lines)


def _print_json(document: object) -> None:
    _write_out((json.dumps(document, indent=2) + "\n",))


def _history(context: CommandContext) -> Connection | None:
    """The database opened for reading, or ``None`` when there is none yet (said on stderr).

    Commands that only read never create a database or a folder: a missing database is
    an empty history, one ``runmeta: no run database at PATH ...`` line, exit 0.
    """
    try:
        return context.connection(read_only=True)
    except DatabaseNotFoundError as err:
        sys.stderr.write(f"runmeta: {printable(str(err))}\n")
        return None


# --- option values --------------------------------------------------------------------

_MAX_ID = 2**63 - 1  # SQLite's largest integer
_DAY_START = time(0, 0, 0)
_DAY_END = time(23, 59, 59)


def _positive_int(text: str) -> int:
    # Plain ASCII digits only: int() would also take "1_0" (10) or other scripts' digits.
    digits = text.strip().removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    if value > _MAX_ID:
        raise argparse.ArgumentTypeError(f"{text!r} is too large (at most {_MAX_ID})")
    return value


def _database_path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path is not a database file")
    if is_database_url(text):
        raise argparse.ArgumentTypeError("a database URL goes to --db-url, not --db-path")
    return text


def _database_url(text: str) -> str:
    if not is_database_url(text):
        raise argparse.ArgumentTypeError(
            "expected a PostgreSQL URL: postgresql://user@host:5432/database"
        )
    return text


def _result_root(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path is not a folder")
    if Path(text).is_file():
        raise argparse.ArgumentTypeError(f"{printable(text)} is a file, not a folder")
    return text


def parse_bound(text: str, *, end: bool, zone: DisplayZone | None = None) -> str:
    """Return ``text`` as an inclusive ``+09:00`` bound; ``end`` selects ``--to`` rounding.

    Stored times are ISO-8601 strings in Japan time with whole seconds, so a bound in
    that form compares correctly as a string. A date starts at 00:00:00 (``--from``) or
    ends at 23:59:59 (``--to``, so a date-only ``--to`` includes the whole day); a
    date or date-time without an offset is Japan time, or a time in ``zone`` when given
    (``--tz``); one with an offset is converted to Japan time. Fractions of a second
    round inwards (``--from`` up, ``--to`` down). Raises ``ValueError`` with a
    user-facing message when ``text`` is not a date or an ISO-8601 date-time.

    Stored times lie between :data:`_EARLIEST` and :data:`_LATEST` (Python's dates
    reach year 1 to 9999 in UTC). A bound beyond them on the side that excludes
    nothing (``--from 0001-01-01``, ``--to`` in year 9999 west of Japan) is moved to
    them; one on the side that would exclude everything is refused.
    """
    value = text.strip()
    try:
        moment = datetime.combine(date.fromisoformat(value), _DAY_END if end else _DAY_START)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{text!r} is not a date (2026-02-14) or an ISO-8601 date-time "
                "(2026-02-14T19:30:12, optionally with an offset such as +09:00 or Z)"
            ) from None
    early = moment.year < 5000  # the side of the range a conversion can overflow on
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=JST) if zone is None else zone.attach(moment)
        moment = moment.astimezone(JST)
        if moment.microsecond:
            moment = moment.replace(microsecond=0)
            if not end:
                moment += timedelta(seconds=1)
    except (OverflowError, OSError, ValueError):  # beyond the calendar, or local time's reach
        return _out_of_range(text, end=end, early=early)
    return _within_range(moment, text, end)


_EARLIEST = datetime(1, 1, 1, 9, 0, 0, tzinfo=JST)
"""The earliest time that can be stored: 0001-01-01T00:00:00 UTC, in +09:00."""
_LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=JST)
"""The latest time that can be stored (+09:00)."""


def _within_range(moment: datetime, text: str, end: bool) -> str:
    """``moment`` as a bound, once the repository can convert it (see :func:`parse_bound`)."""
    if moment < _EARLIEST:
        return _out_of_range(text, end=end, early=True)
    return moment.isoformat()


def _out_of_range(text: str, *, end: bool, early: bool) -> str:
    if early != end:  # --from before the earliest, --to after the latest: no limit
        return (_EARLIEST if early else _LATEST).isoformat()
    raise ValueError(
        f"{text!r} is out of range: stored times lie between {_EARLIEST.isoformat()}"
        f" and {_LATEST.isoformat()}"
    )


def from_bound(text: str) -> str:
    """argparse type for ``--from``: the earliest ``created_at`` to include."""
    try:
        return parse_bound(text, end=False)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def to_bound(text: str) -> str:
    """argparse type for ``--to``: the latest ``created_at`` to include."""
    try:
        return parse_bound(text, end=True)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


# --- runs -----------------------------------------------------------------------------


def _list_runs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="from_at",
        metavar="T",
        help="only runs created at or after T (a date or a date-time; without an offset, in"
        " the --tz zone)",
    )
    parser.add_argument(
        "--to", dest="to_at", metavar="T", help="only runs created at or before T (as --from)"
    )
    parser.add_argument(
        "--since",
        type=_duration,
        metavar="AGE",
        help="only runs created in the last AGE: a number and a unit, s m h d w (90m, 2d,"
        " 1w2d); instead of --from",
    )
    parser.add_argument("--status", choices=RUN_STATUSES, help="only runs with this status")
    parser.add_argument("--project-id", metavar="PID", help="only runs of this project")
    parser.add_argument(
        "--parent",
        dest="parent_run_id",
        type=_positive_int,
        metavar="ID",
        help="only the child runs of run ID (the cases of a sweep)",
    )
    parser.add_argument(
        "--search",
        metavar="TEXT",
        help="only runs whose note, command or reason contains TEXT (ASCII letters in any case)",
    )
    parser.add_argument(
        "--where",
        action="append",
        type=_conditions,
        default=[],
        metavar="COND",
        help="only runs whose figures meet COND: KEY OP VALUE with OP one of = != < <= > >= ~"
        " (text contains), joined by ',' or 'and' (support_size=3, 'value>0.1 and solver=lp');"
        " repeatable",
    )
    parser.add_argument(
        "--limit", type=_positive_int, metavar="N", help="print at most N runs (the newest)"
    )
    parser.add_argument(
        "--columns",
        type=_columns,
        metavar="LIST",
        help=f"the columns, by commas: {', '.join(LISTING_COLUMNS)}, metric:KEY (default:"
        f" {','.join(DEFAULT_LISTING_COLUMNS)})",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--format",
        choices=_FORMATS,
        help="table (the default), json (one array), csv or tsv (a header line, then one"
        " line per run)",
    )
    output.add_argument("--json", action="store_true", help="the same as --format json")
    _tz_argument(parser)


_FORMATS = ("table", "json", "csv", "tsv")


def _list_runs(args: argparse.Namespace, context: CommandContext) -> int:
    zone = _display_zone(args)
    from_at, to_at = _created_bounds(args, zone)
    output = "json" if args.json else args.format or "table"
    if args.columns is not None and output == "json":
        raise UsageError("--columns chooses table, csv and tsv columns; JSON holds every field")
    columns = args.columns or DEFAULT_LISTING_COLUMNS
    where = [condition for conditions in args.where for condition in conditions]
    connection = _history(context)
    if connection is None:
        _write_out(_empty_listing(output, columns))
        return 0
    if args.project_id is not None:
        ProjectsRepository(connection).get(args.project_id)
    repository = RunsRepository(connection)
    parent = args.parent_run_id
    # A parent whose row is gone still lists its children (check's orphan-child).
    if (
        parent is not None
        and repository.find_by_id(parent) is None
        and not repository.count_children(parent)
    ):
        raise RunNotFoundError(parent)
    with_metrics = output == "json" or any(
        name == "result" or name.startswith(METRIC_COLUMN) for name in columns
    )
    runs = repository.iter_listing(
        from_at=from_at,
        to_at=to_at,
        status=args.status,
        project_id=args.project_id,
        limit=args.limit,
        parent_run_id=parent,
        search=args.search,
        where=where,
        with_metrics=with_metrics,
    )
    state = _process_state(context.result_root, repository)
    if output == "json":
        _write_out(json_array_lines(listed_to_json(run, state) for run in runs))
    elif output == "table":
        _print_lines(format_listing_table(runs, columns, terminal_width(), state, zone))
    else:
        separator = "," if output == "csv" else "\t"
        _write_out(format_listing_delimited(runs, columns, separator, zone))
    return 0


def _empty_listing(output: str, columns: Sequence[str]) -> Iterable[str]:
    """What ``list-runs`` prints without a database: ``[]``, a CSV/TSV header, or nothing."""
    if output == "json":
        return ("[]\n",)
    if output == "table":
        return ()
    return format_listing_delimited((), columns, "," if output == "csv" else "\t")


def _created_bounds(
    args: argparse.Namespace, zone: DisplayZone | None
) -> tuple[str | None, str | None]:
    """``--from``/``--since`` and ``--to`` as inclusive +09:00 bounds (naive times in ``zone``)."""
    bounds: list[str | None] = []
    for option, text, end in (("--from", args.from_at, False), ("--to", args.to_at, True)):
        try:
            bounds.append(None if text is None else parse_bound(text, end=end, zone=zone))
        except ValueError as err:
            raise UsageError(f"argument {option}: {err}") from None
    from_at, to_at = bounds
    if args.since is not None:
        if from_at is not None:
            raise UsageError("--since and --from both set the start; give one of them")
        try:
            from_at = format_timestamp(datetime.now(JST) - args.since)
        except OverflowError:
            from_at = None  # further back than the calendar: no limit
    if from_at is not None and to_at is not None and from_at > to_at:
        raise UsageError(f"--from ({from_at}) is later than --to ({to_at})")
    return from_at, to_at


_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def _duration(text: str) -> timedelta:
    """argparse type of ``--since``: ``90m``, ``2d``, ``1w2d`` (units s, m, h, d, w)."""
    value = text.strip().lower()
    seconds = 0
    number = ""
    for char in value:
        if char.isascii() and char.isdigit():
            number += char
        elif char in _AGE_UNITS and number:
            seconds += int(number) * _AGE_UNITS[char]
            number = ""
        else:
            number = "bad"
            break
    if number or not value or seconds <= 0:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an age such as 30s, 90m, 12h, 2d or 1w2d (a positive number"
            " and a unit: s, m, h, d, w)"
        )
    try:
        return timedelta(seconds=seconds)
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{text!r} is too long ago") from None


def _conditions(text: str) -> list[MetricCondition]:
    """argparse type of ``--where``: its conditions (see ``metrics.py``)."""
    from monocycle_nash.runmeta.metrics import parse_where  # noqa: PLC0415 - only --where

    try:
        return parse_where(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _columns(text: str) -> tuple[str, ...]:
    """argparse type of ``--columns``."""
    try:
        return parse_columns(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _tz_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--tz",
        metavar="ZONE",
        help="show times (and read --from/--to without an offset) in ZONE: local, UTC, an"
        " offset such as +02:00, or a name such as Europe/Paris (default: $RUNMETA_TZ, else"
        " +09:00, as stored)",
    )


def _display_zone(args: argparse.Namespace) -> DisplayZone | None:
    """The zone of ``--tz``, else of ``RUNMETA_TZ``; ``None``: +09:00, as stored."""
    text: str | None = args.tz
    source = "argument --tz"
    if text is None:
        text = os.environ.get("RUNMETA_TZ") or None
        source = "RUNMETA_TZ"
    if text is None:
        return None
    try:
        zone = parse_zone(text)
    except ValueError as err:
        raise UsageError(f"{source}: {printable(str(err))}") from None
    return None if zone.is_storage else zone


def _process_state(result_root: Path, runs: RunsRepository) -> Callable[[int], str]:
    """Whether a running run's process lives; liveness loads only for a running row.

    The row's own process (stored with the INSERT since schema version 3) comes first,
    so a run killed before its meta.json existed still shows as dead; a row of an
    older schema falls back to the process in meta.json.
    """

    def state(run_id: int) -> str:
        from monocycle_nash.runmeta.process import (  # noqa: PLC0415
            is_process_alive,
            run_process_state,
        )

        process = runs.bookkeeping(run_id).process
        if process is None:
            return run_process_state(result_root, run_id)
        return is_process_alive(process.host, process.pid, process.start_time)

    return state


def _show_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id", type=_positive_int, required=True, metavar="ID", help="the run to show"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"run": ..., "meta": ..., "files": [...], "children": [...]}',
    )
    _tz_argument(parser)


def _show_run(args: argparse.Namespace, context: CommandContext) -> int:
    # Reading meta.json goes through the artifact store (hashlib, shutil, ...): load it
    # only here, never on the listing path.
    from monocycle_nash.runmeta.artifact_store import list_files, read_meta  # noqa: PLC0415

    zone = _display_zone(args)  # the row's times in the table; JSON keeps them as stored
    repository = RunsRepository(context.connection(read_only=True))
    run = repository.get(args.run_id)
    run_dir = context.result_root / str(run.run_id)
    meta, problem = read_meta(context.result_root, run.run_id)
    files = list_files(run_dir)
    process_state = _process_state(context.result_root, repository)
    state = process_state(run.run_id) if run.status == "running" else None
    children = repository.list_children(run.run_id)
    if args.json:
        document: dict[str, object] = {
            "run": run.to_dict(),
            "meta": meta,
            "files": [{"path": path, "size": size} for path, size in files or ()],
            "children": [run_to_json(child, process_state) for child in children],
        }
        if state is not None:
            document["process"] = state
        _print_json(document)
    else:
        parent = run.parent_run_id
        details = format_run_details(
            run,
            meta,
            problem,
            str(run_dir),
            files,
            process_state=state,
            children=children,
            child_state=process_state,
            parent_missing=parent is not None and repository.find_by_id(parent) is None,
            zone=zone,
        )
        _print_lines(_with_provenance(details, meta))
    return 0


def _with_provenance(lines: Iterable[str], meta: Mapping[str, object] | None) -> Iterator[str]:
    """The ``show-run`` page with the run's provenance after its fields (the first block)."""
    from monocycle_nash.runmeta.provenance import format_provenance  # noqa: PLC0415 - show-run only

    block = list(format_provenance(None if meta is None else meta.get("provenance")))
    for line in lines:
        yield line
        if block and not line:
            yield from block
            yield ""
            block = []


def _note_arguments(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--note TEXT`` or ``--note-file PATH``, one of the two."""
    notes = parser.add_mutually_exclusive_group()
    notes.add_argument("--note", metavar="TEXT", help=help_text)
    notes.add_argument(
        "--note-file",
        metavar="PATH",
        help="read the note from PATH ('-': standard input; one final newline is dropped)",
    )


def _note(args: argparse.Namespace) -> str | None:
    """The note given by ``--note`` or read from ``--note-file`` (``None``: neither)."""
    if args.note_file is None:
        note: str | None = args.note
        return note
    try:
        return read_note_file(args.note_file)
    except ValueError as err:
        raise UsageError(str(err)) from None


def read_note_file(path: str) -> str:
    """The note in the file ``path`` (``-``: standard input), less one final newline.

    The text must be UTF-8 (SQLite and meta.json store nothing else); a final ``\\n``
    (or ``\\r\\n``) is dropped, so that ``echo note | runmeta ... --note-file -`` stores
    ``note``. Raises ``ValueError`` with one line saying why it cannot be read.
    """
    try:
        if path == "-":
            if sys.stdin is None:
                raise ValueError("--note-file -: standard input is closed")
            data = sys.stdin.buffer.read()
        else:
            data = Path(path).read_bytes()
    except OSError as err:
        raise ValueError(f"--note-file {printable(path)}: {err.strerror or err}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"--note-file {printable(path)}: the note is not valid UTF-8") from None
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def _update_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id", type=_positive_int, required=True, metavar="ID", help="the run to change"
    )
    parser.add_argument(
        "--status",
        choices=FINAL_STATUSES,
        help="the new status (a run is running only while its process records it)",
    )
    _note_arguments(parser, 'the new note ("" clears it)')
    project = parser.add_mutually_exclusive_group()
    project.add_argument(
        "--project-id", metavar="PID", help="attach the run to this project (and link it there)"
    )
    project.add_argument(
        "--no-project", action="store_true", help="detach the run from its project"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="set --status even while the run's process is alive (its own end keeps it)",
    )


def _update_run(args: argparse.Namespace, context: CommandContext) -> int:
    note = _note(args)
    nothing = args.status is None and note is None and args.project_id is None
    if nothing and not args.no_project:
        raise UsageError(
            "nothing to change: give --status, --note (or --note-file), --project-id or"
            " --no-project"
        )
    run = context.service().edits.update_run(
        args.run_id,
        status=args.status,
        note=note,
        project_id=args.project_id,
        clear_project=args.no_project,
        force=args.force,
    )
    print(f"updated {describe_run(run)}")
    return 0


def _delete_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id", type=_positive_int, required=True, metavar="ID", help="the run to delete"
    )
    parser.add_argument(
        "--with-files",
        action="store_true",
        help="also remove result/<ID>/ and the project's link to it (before the row)",
    )
    parser.add_argument(
        "--force", action="store_true", help="delete even if the run's status is running"
    )
    parser.add_argument(
        "--delete-foreign-folder",
        action="store_true",
        help="with --with-files: also remove result/<ID>/ when the run did not make it (it was"
        " there before the run started)",
    )
    parser.add_argument(
        "--children",
        action="store_true",
        help="delete the run's child runs (and theirs) first, each as delete-run would with"
        " the same options; without it a run with children is refused",
    )


def _delete_run(args: argparse.Namespace, context: CommandContext) -> int:
    if args.delete_foreign_folder and not args.with_files:
        raise UsageError("--delete-foreign-folder needs --with-files")
    deleted = context.service().edits.delete_run(
        args.run_id,
        with_files=args.with_files,
        force=args.force,
        delete_foreign_folder=args.delete_foreign_folder,
        with_children=args.children,
    )
    for run in (*deleted.children, deleted):  # in the order they were deleted
        line = f"deleted {describe_run(run.record)}"
        if run is deleted and deleted.children:
            line += f" and {plural(len(deleted.children), 'child run')}"
        print(line)
        for what in run.removed:
            print(f"removed {printable(what)}")
    return 0


# --- projects -------------------------------------------------------------------------


def _add_project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-id", required=True, metavar="PID", help="a new project id")
    parser.add_argument(
        "--project-path", required=True, metavar="PATH", help="the project's folder"
    )
    _note_arguments(parser, "a note on the project")


def _add_project(args: argparse.Namespace, context: CommandContext) -> int:
    note = _note(args) or ""
    project = context.service().edits.add_project(args.project_id, args.project_path, note)
    line = f"added project {printable(project.project_id)} at {printable(project.project_path)}"
    if not Path(project.project_path).is_dir():
        line += " (no such folder yet: create it; until then its runs warn that no link was made)"
    print(line)
    return 0


def _update_project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-id", required=True, metavar="PID", help="the project")
    parser.add_argument(
        "--project-path",
        metavar="PATH",
        help="the project's new folder; its runs' links (experiment_refs/) move there",
    )
    _note_arguments(parser, 'the new note ("" clears it)')


def _update_project(args: argparse.Namespace, context: CommandContext) -> int:
    note = _note(args)
    if args.project_path is None and note is None:
        raise UsageError("nothing to change: give --project-path or --note (or --note-file)")
    project = context.service().edits.update_project(
        args.project_id, project_path=args.project_path, note=note
    )
    print(f"updated project {printable(project.project_id)} at {printable(project.project_path)}")
    return 0


def _delete_project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-id", required=True, metavar="PID", help="the project")


def _delete_project(args: argparse.Namespace, context: CommandContext) -> int:
    detached = context.service().edits.delete_project(args.project_id)
    print(
        f"deleted project {printable(args.project_id)}"
        f" ({plural(len(detached), 'run')} now without a project)"
    )
    return 0


def _list_projects_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON array instead of a table"
    )
    _tz_argument(parser)


def _list_projects(args: argparse.Namespace, context: CommandContext) -> int:
    zone = _display_zone(args)
    connection = _history(context)
    if connection is None:
        if args.json:
            sys.stdout.write("[]\n")
        return 0
    projects = ProjectsRepository(connection).list()
    if args.json:
        _write_out(json_array_lines(project.to_dict() for project in projects))
    else:
        _print_lines(format_project_table(projects, terminal_width(), zone))
    return 0


# --- repair: reap and check -----------------------------------------------------------

_REAP_COLUMNS = (Column("RUN", right=True), Column("OUTCOME"), Column("DETAIL"))
_CHECK_COLUMNS = (Column("RUN", right=True), Column("FINDING"), Column("STATE"), Column("DETAIL"))


def _reap_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="only report; change nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _reap(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.repair import reap  # noqa: PLC0415 - loads the service

    try:
        service = context.service(read_only=args.dry_run)
    except DatabaseNotFoundError as err:
        sys.stderr.write(f"runmeta: {printable(str(err))}\n")
        if args.json:
            _print_json({"dry_run": args.dry_run, "runs": []})
        return 0
    findings = reap(service, dry_run=args.dry_run)
    if args.json:
        _print_json({"dry_run": args.dry_run, "runs": [f.to_dict() for f in findings]})
        return 0
    if findings:
        rows = ((str(f.run_id), f.outcome, clean(f.detail)) for f in findings)
        _print_lines(format_table(_REAP_COLUMNS, rows, terminal_width()))
    running = plural(len(findings), "running run")
    ends = sum(f.kind == "unrecorded-end" and f.state != "left" for f in findings)
    # Said only when there is one: an end meta.json recorded and the database missed.
    taken = f", {ends} {'would take' if args.dry_run else 'took'} the end meta.json records"
    if args.dry_run:
        dead = sum(f.kind == "dead" for f in findings)
        print(f"{running}: {dead} would be marked killed{taken if ends else ''} (dry run)")
    else:
        killed = sum(f.kind == "dead" and f.repaired for f in findings)
        print(f"{running}: {killed} marked killed{taken if ends else ''}")
    return 0


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repair",
        action="store_true",
        help="rewrite meta.json from the database, remove leftover temp files",
    )
    parser.add_argument(
        "--integrity",
        action="store_true",
        help="instead, run SQLite's own integrity and foreign key checks on the database file",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _check(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.repair import check_consistency  # noqa: PLC0415 - as _reap

    if args.integrity:
        return _check_integrity(args, context)
    try:
        service = context.service(read_only=not args.repair)
    except DatabaseNotFoundError as err:
        return _check_without_database(args, context, err)
    report = check_consistency(service, repair=args.repair)
    code = 0 if report.consistent else 1
    if args.json:
        _print_json(report.to_dict())
        return code
    findings = report.findings
    if findings:
        rows = ((str(f.run_id), f.kind, f.state, clean(f.detail)) for f in findings)
        _print_lines(format_table(_CHECK_COLUMNS, rows, terminal_width()))
    elsewhere = (
        f" ({report.runs_elsewhere} of other hosts, with their folders elsewhere)"
        if report.runs_elsewhere
        else ""
    )
    checked = (
        f"checked {plural(report.runs_checked, 'run')}{elsewhere} and"
        f" {plural(report.folders_checked, 'folder')}"
    )
    problems = report.problems
    repaired = len(findings) - len(problems)
    if not findings:
        print(f"{checked}: consistent")
    elif not problems:
        print(f"{checked}: {repaired} repaired, now consistent")
    else:
        parts = [f"{plural(len(problems), 'problem')} left"]
        if repaired:
            parts.insert(0, f"{repaired} repaired")
        repairable = sum(f.state == "repairable" for f in problems)
        if repairable:
            parts.append(f"{repairable} repairable with --repair")
        print(f"{checked}: {', '.join(parts)}")
    return code


def _check_integrity(args: argparse.Namespace, context: CommandContext) -> int:
    """``check --integrity``: SQLite's own checks, on a database other commands refuse."""
    from monocycle_nash.runmeta.repair import check_integrity  # noqa: PLC0415 - as _reap

    if args.repair:
        raise UsageError("--integrity only reads the database file; it does not go with --repair")
    path = context.database_file(
        "check --integrity (SQLite's own checks)",
        "PostgreSQL checks its own pages (its amcheck extension); runmeta check compares the"
        " history with the run folders",
    )
    report = check_integrity(path)
    code = 0 if report.ok else 1
    if args.json:
        _print_json(report.to_dict())
        return code
    _print_lines(f"integrity: {printable(problem)}" for problem in report.problems)
    if report.ok:
        print("database integrity: ok")
    else:
        print(
            f"database integrity: {plural(len(report.problems), 'problem')} in"
            f" {printable(report.db_path)}; restore it from a backup, or rebuild it from the"
            " run folders with `runmeta rebuild --move-aside`"
        )
    return code


def _rebuild_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--move-aside",
        action="store_true",
        help="rename an existing database (and its -wal, -shm) to <name>.broken-<time> first",
    )


def _rebuild(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.repair import rebuild_database  # noqa: PLC0415 - as _reap

    path = context.database_file(
        "rebuild",
        "rebuild into a new file (--db-path) and copy it to the server with runmeta migrate-db",
    )
    report = rebuild_database(context.result_root, path, move_aside=args.move_aside)
    for old, new in report.moved:
        print(f"moved {printable(old)} aside to {printable(new)}")
    for run_id, why in report.skipped:
        sys.stderr.write(f"runmeta: warning: run {run_id} not restored: {printable(why)}\n")
    for note in report.notes:
        sys.stderr.write(f"runmeta: warning: {printable(note)}\n")
    skipped = f", {plural(len(report.skipped), 'folder')} skipped" if report.skipped else ""
    print(
        f"rebuilt {printable(report.db_path)} from {printable(report.result_root)}:"
        f" {plural(len(report.runs), 'run')}, {plural(len(report.projects), 'project')}"
        f"{skipped}; the next run id is {report.next_run_id}"
    )
    return 0


def _check_without_database(
    args: argparse.Namespace, context: CommandContext, missing: DatabaseNotFoundError
) -> int:
    """No database: consistent when there are no run folders either; else say so, exit 1."""
    from monocycle_nash.runmeta.artifact_store import RunArtifactStore  # noqa: PLC0415

    folders = len(RunArtifactStore(context.result_root).run_ids_on_disk())
    if not folders:
        sys.stderr.write(f"runmeta: {printable(str(missing))}\n")
        if args.json:
            empty = {"consistent": True, "runs_checked": 0, "folders_checked": 0, "findings": []}
            _print_json(empty)
        return 0
    raise DatabaseError(
        str(context.db_path),
        f"no run database at {context.db_path}, but {context.result_root} holds"
        f" {plural(folders, 'run folder')}; give the database with"
        f" {'--db-url' if isinstance(context.database, DatabaseUrl) else '--db-path'}",
    )


# --- migrate-db: an SQLite history onto a PostgreSQL server ---------------------------


def _migrate_db_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="source",
        type=_database_path,
        metavar="PATH",
        help=f"the SQLite file to copy (default: --db-path, else {DEFAULT_DB_PATH})",
    )
    parser.add_argument(
        "--to",
        dest="target",
        type=_database_url,
        metavar="URL",
        help=f"the empty PostgreSQL database to copy into (default: --db-url, else {URL_VARIABLE})",
    )


def _migrate_db(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.migrate_db import copy_history  # noqa: PLC0415 - loads psycopg

    source = Path(args.source or args.db_path or DEFAULT_DB_PATH)
    if args.target is not None:
        target = DatabaseUrl(args.target)
    elif isinstance(context.database, DatabaseUrl):
        target = context.database
    else:
        raise UsageError(f"give the database to copy into with --to URL (or {URL_VARIABLE})")

    def copied(table: str, rows: int) -> None:
        _print_lines([f"{table}: {plural(rows, 'row')} copied"])
        _flush_out()

    report = copy_history(source, target, progress=copied)
    for note in report.notes:
        sys.stderr.write(f"runmeta: warning: {printable(note)}\n")
    print(
        f"copied {printable(report.source)} into {printable(report.target)}; the next run id"
        f" is {report.next_run_id}"
    )
    return 0


# --- comparing runs: diff and rerun ---------------------------------------------------

_VALUE_LIMIT = 20
"""Default of --max-values (``comparison.DEFAULT_VALUE_LIMIT``; not imported here, which
would load hashlib on the listing path)."""


def _max_values_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-values",
        type=_positive_int,
        default=_VALUE_LIMIT,
        metavar="N",
        help=f"list at most N differing values per JSON output (all are counted; default"
        f" {_VALUE_LIMIT})",
    )


def _trouble(err: RunMetaError) -> int:
    """``diff``/``rerun`` could not compare: one line on stderr, exit 2 (as ``diff(1)``)."""
    sys.stderr.write(f"runmeta: error: {printable(str(err))}\n")
    return 2


def _diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", type=_positive_int, metavar="A", help="the first run")
    parser.add_argument("run_b", type=_positive_int, metavar="B", help="the second run")
    _max_values_argument(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help='print one JSON object: {"runs", "identical", "inputs", "settings",'
        ' "provenance", "figures", "outputs"}',
    )


def _diff(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.comparison import load_run  # noqa: PLC0415 - hashlib, ...
    from monocycle_nash.runmeta.diff import diff_runs, format_diff  # noqa: PLC0415

    try:
        connection = context.connection(read_only=True)
        first = load_run(connection, context.result_root, args.run_a)
        second = (
            first
            if args.run_b == args.run_a
            else load_run(connection, context.result_root, args.run_b)
        )
        found = diff_runs(first, second, limit=args.max_values)
    except RunMetaError as err:
        return _trouble(err)
    if args.json:
        _print_json(found.to_dict())
    else:
        _print_lines(format_diff(found, terminal_width()))
    return 0 if found.identical else 1


def _rerun_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", type=_positive_int, metavar="ID", help="the run to repeat")
    notes = parser.add_mutually_exclusive_group()
    notes.add_argument(
        "--note", metavar="TEXT", help="the new run's note (default: 'rerun of run ID')"
    )
    notes.add_argument(
        "--note-file",
        metavar="PATH",
        help="read the new run's note from PATH ('-': standard input), as the main job does",
    )
    _max_values_argument(parser)


def _rerun(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.comparison import load_run  # noqa: PLC0415 - as _diff
    from monocycle_nash.runmeta.rerun import (  # noqa: PLC0415
        format_outcome,
        judge_rerun,
        plan_rerun,
        run_main_job,
    )

    try:
        connection = context.connection(read_only=True)
        original = load_run(connection, context.result_root, args.run_id)
        plan = plan_rerun(
            original,
            db_path=context.db_path,
            result_root=context.result_root,
            note=args.note,
            note_file=args.note_file,
        )
    except RunMetaError as err:
        return _trouble(err)
    job = run_main_job(plan)
    try:
        outcome = judge_rerun(connection, context.result_root, plan, job, limit=args.max_values)
    except RunMetaError as err:
        raise RunMetaError(
            f"the main job ran (exit {job.returncode}), but its run cannot be judged: {err}"
        ) from err
    if outcome.failure is not None:
        sys.stderr.write(f"runmeta: error: {printable(outcome.failure)}\n")
        return 1
    _print_lines(format_outcome(outcome))
    return 0 if outcome.identical else 1


# --- ui: the run browser --------------------------------------------------------------


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535; 0: any free port)")
    return int(text)


def _ui_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="HOST",
        help="the address to serve on (default: 127.0.0.1, this machine only; another"
        " one lets anyone who can reach it read the history, and says so)",
    )
    parser.add_argument(
        "--port", type=_port, default=0, metavar="N", help="the port (default: 0, any free port)"
    )
    parser.add_argument(
        "--open", action="store_true", help="open the page in the default web browser"
    )


def _ui(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.ui.server import database_connector, serve  # noqa: PLC0415

    if not args.host.strip():
        raise UsageError("--host must not be empty")
    # Each request opens its own connection in its own thread (sqlite3's rule).
    return serve(
        database_connector(context.database),
        context.result_root,
        db_label=str(context.db_path),
        host=args.host,
        port=args.port,
        open_browser=args.open,
    )


# --- the command line -----------------------------------------------------------------


class Subcommand:
    """One ``runmeta`` subcommand: its name, help texts, options and handler."""

    __slots__ = ("arguments", "description", "handler", "help", "name")

    def __init__(
        self,
        name: str,
        help: str,
        arguments: Callable[[argparse.ArgumentParser], None],
        handler: Handler,
        description: str | None = None,
    ) -> None:
        """Describe subcommand ``name``, run by ``handler``, with options from ``arguments``.

        ``help`` is its summary in ``runmeta --help``; ``description`` (default: ``help``)
        heads ``runmeta NAME --help``. The global options are added for it.
        """
        self.name = name
        self.help = help
        self.arguments = arguments
        self.handler = handler
        self.description = description or help


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "list-runs",
        "list runs, newest first, with optional filters",
        _list_runs_arguments,
        _list_runs,
        "List runs, newest first, with a short RESULT (a run's headline figures, or "
        "why it failed). --from/--to take a date (2026-02-14), a date-time without "
        "offset (taken as +09:00, or in the --tz zone) or with any offset; both bounds "
        "are inclusive and a date-only --to includes the whole day. --where selects "
        "runs by their figures, --search by a text in the note, command or reason. "
        "Times are stored in +09:00; --tz (or RUNMETA_TZ) shows them in another zone.",
    ),
    Subcommand(
        "show-run",
        "show one run: its row, its meta.json and the files of its folder",
        _show_run_arguments,
        _show_run,
    ),
    Subcommand(
        "update-run",
        "correct a run's status, note or project (meta.json is rewritten to match)",
        _update_run_arguments,
        _update_run,
    ),
    Subcommand(
        "delete-run",
        "delete a run's row, and with --with-files its folder and project link",
        _delete_run_arguments,
        _delete_run,
        "Delete a run's row, and with --with-files its folder and project link. A run "
        "with child runs (a sweep) is refused unless --children is given: its children "
        "(and theirs) are then deleted first, one by one, and the run last; a failure "
        "midway keeps the run and says which children went. A child run alone is "
        "deleted like any run.",
    ),
    Subcommand(
        "add-project",
        "register an analysis project folder (stored as an absolute path)",
        _add_project_arguments,
        _add_project,
    ),
    Subcommand(
        "update-project",
        "change a project's folder or note",
        _update_project_arguments,
        _update_project,
        "Change a project's folder or note. With --project-path, each run of the "
        "project gets its link in the new folder's experiment_refs/ and loses the one "
        "in the old folder, and its meta.json gets the new path. A link that cannot be "
        "made (the folder does not exist yet) is a warning and the old link is kept: "
        "run the command again once the folder exists.",
    ),
    Subcommand(
        "delete-project",
        "delete a project; its runs stay, without a project",
        _delete_project_arguments,
        _delete_project,
        "Delete a project. Its runs stay, without a project (row and meta.json), and "
        "their links in the project's experiment_refs/ are removed; the project "
        "folder and anything else in it are left alone.",
    ),
    Subcommand(
        "list-projects",
        "list the registered projects",
        _list_projects_arguments,
        _list_projects,
    ),
    Subcommand(
        "reap",
        "mark running runs whose process is gone as killed",
        _reap_arguments,
        _reap,
        "Mark running runs as killed when they were started on this host and their "
        "process is gone (or its pid now belongs to a process started at another "
        "time); the end is dated by the run's last write (logs, meta.json, outputs). A "
        "run whose meta.json records its end (the database missed it: a locked "
        "database at the end) takes that end instead. Runs of other hosts, and runs "
        "whose process cannot be checked, are listed and left alone. Exit 0 whenever "
        "the check could be made.",
    ),
    Subcommand(
        "check",
        "find rows without folders, folders without rows, bad meta.json, temp files",
        _check_arguments,
        _check,
        "Compare the database with the run folders: rows without folders, folders "
        "without rows, folders a run did not make, missing, unreadable or disagreeing "
        "meta.json, ends the database missed, temp files left "
        "by an interrupted write, project links (experiment_refs/) that are missing, "
        "stale or foreign, child runs whose parent run is gone. --repair rewrites "
        "meta.json from the database, makes missing and stale links again and removes "
        "leftover temp files; it never deletes a run, its outputs or a link. Exit 0 "
        "when consistent (after repair), 1 when problems remain. --integrity runs "
        "SQLite's own integrity_check and foreign_key_check on the database file "
        "instead (it reads a damaged database that other commands refuse): exit 0 "
        "when SQLite finds nothing, 1 when it does.",
    ),
    Subcommand(
        "rebuild",
        "recreate the database from the result/<id>/meta.json files",
        _rebuild_arguments,
        _rebuild,
        "Recreate the run database from the run folders' meta.json files: every run "
        "keeps its id, status, times, command, git commit, note and project, and the "
        "projects are recreated from the runs' project_id and project_path. A folder "
        "whose meta.json is missing or unreadable is reported and skipped. An existing "
        "database is never overwritten: --move-aside first renames it (with its -wal "
        "and -shm files) to <name>.broken-<time>. New run ids continue after the "
        "highest one known.",
    ),
    Subcommand(
        "migrate-db",
        "copy an SQLite history into an empty PostgreSQL database",
        _migrate_db_arguments,
        _migrate_db,
        "Copy the history of an SQLite file (--from, default --db-path or the default"
        " file) into an empty PostgreSQL database (--to, default --db-url or"
        f" {URL_VARIABLE}): its projects, every run with its own id and the runs' figures,"
        " in one transaction, then the server's next run id continues after the file's"
        " largest. A target that already holds a run, a project or a figure is refused"
        " with nothing copied. Run folders are left where they are (the ids are kept).",
    ),
    Subcommand(
        "diff",
        "what differs between two runs: inputs, settings, provenance, figures, outputs",
        _diff_arguments,
        _diff,
        "Compare runs A and B section by section: their stored inputs (a unified diff "
        "of text inputs, the merged inputs included; checksums for the rest), settings "
        "(the merged inputs' tables, key by key), provenance, headline figures, and "
        "their outputs (by SHA-256; the values of differing JSON outputs side by side, "
        "with their absolute and relative differences). An identical section is one "
        "line. Exit status as diff(1): 0 nothing differs, 1 something differs, 2 "
        "trouble (an unknown run, a run without its folder or meta.json).",
    ),
    Subcommand(
        "rerun",
        "run the main job again on a run's frozen input and compare the outputs",
        _rerun_arguments,
        _rerun,
        "Run the main job (python -m monocycle_nash.app) again on run ID's stored "
        "input (its merged_input.toml for a run config, else the stored copy of its "
        "game file), record the new run with rerun_of ID in the same database (and in "
        "run ID's project), pass the job's own output through, then compare the two "
        "runs' output/ files byte for byte (the values of differing JSON files side by "
        "side). Exit status: 0 every output identical, 1 an output differs or the "
        "rerun failed, 2 nothing was run (an unknown run, a run without its folder, an "
        "input that changed, or a database the rerun could not be recorded in).",
    ),
    Subcommand(
        "ui",
        "browse the history in a web browser (a read-only page served on this machine)",
        _ui_arguments,
        _ui,
        "Serve a read-only web page over the history until Ctrl-C: the runs with the "
        "filters of list-runs, each run (row, provenance, pictures, outputs, logs, "
        "inputs), runs compared side by side, and the projects. It prints its address; "
        "by default it listens on 127.0.0.1 only, on any free port.",
    ),
)
"""Every subcommand, in the order ``runmeta --help`` lists them."""


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help formatter, sized by :func:`terminal_width` instead of ``shutil``.

    argparse builds a formatter for every option it adds and imports ``shutil`` (with
    bz2 and lzma, about 3 ms) to size it; ``runmeta list-runs`` would pay for that
    without printing any help.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        """Format help for ``prog``; ``width`` defaults to the terminal's (or 80), less 2."""
        if width is None:
            width = (terminal_width(sys.__stdout__) or 80) - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # On the subcommands the defaults are SUPPRESS, so a value given after the
    # subcommand's name overrides one given before it and an absent one changes nothing.
    # Neither database option has a value by default: main() tells "not given" (then
    # RUNMETA_DATABASE_URL, then the default file) from given.
    parser.add_argument(
        "--db-path",
        type=_database_path,
        default=argparse.SUPPRESS if suppress else None,
        metavar="PATH",
        help=f"the run database, an SQLite file (default: {DEFAULT_DB_PATH}, or the"
        f" database {URL_VARIABLE} names when it is set)",
    )
    parser.add_argument(
        "--db-url",
        type=_database_url,
        default=argparse.SUPPRESS if suppress else None,
        metavar="URL",
        help="the run database on a PostgreSQL server, postgresql://user@host:5432/db"
        " (instead of --db-path; needs the postgres extra). The password is better kept"
        f" in {URL_VARIABLE}, PGPASSWORD or ~/.pgpass than on a command line",
    )
    parser.add_argument(
        "--result-root",
        type=_result_root,
        default=argparse.SUPPRESS if suppress else str(DEFAULT_RESULT_ROOT),
        metavar="DIR",
        help=f"the folder holding result/<run_id>/ (default: {DEFAULT_RESULT_ROOT})",
    )


class _VersionAction(argparse.Action):
    """``--version``: print ``runmeta (monocycle-nash) X.Y.Z`` and exit 0.

    The version is looked up only when asked for, never on every start.
    """

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(
            option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0, help=help
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        from monocycle_nash.runmeta.provenance import (  # noqa: PLC0415 - only when asked
            DISTRIBUTION,
            package_version,
        )

        print(f"runmeta ({DISTRIBUTION}) {package_version() or 'unknown'}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """Return the ``runmeta`` argument parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="runmeta",
        description="List, search, correct and delete recorded runs and projects.",
        epilog="Exit status: 0 success, 1 refused request, 2 usage error.",
        formatter_class=HelpFormatter,
        allow_abbrev=False,  # "--db" would stop working once another "--db..." appears
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="print the version of runmeta and exit"
    )
    _add_global_options(parser, suppress=False)
    global_options = argparse.ArgumentParser(add_help=False, formatter_class=HelpFormatter)
    _add_global_options(global_options, suppress=True)
    subparsers = parser.add_subparsers(
        title="subcommands", metavar="SUBCOMMAND", dest="subcommand", required=True
    )
    for subcommand in SUBCOMMANDS:
        command_parser = subparsers.add_parser(
            subcommand.name,
            help=subcommand.help,
            description=subcommand.description,
            parents=[global_options],
            formatter_class=HelpFormatter,
        )
        subcommand.arguments(command_parser)
        command_parser.set_defaults(func=subcommand.handler, command_parser=command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``runmeta`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    args = build_parser().parse_args(argv)
    refusal = _unusable_arguments(args)
    if refusal is not None:
        print(f"runmeta: error: {refusal}; nothing was done", file=sys.stderr)
        return 1
    handler: Handler = args.func
    command_parser: argparse.ArgumentParser = args.command_parser
    database = choose_database(args.db_path, args.db_url, default=DEFAULT_DB_PATH)
    context = CommandContext(database, Path(args.result_root))
    try:
        # Listings stream, so a database error can come while rows are printed: it
        # is caught here like any other.
        code = handler(args, context)
        _flush_out()
        return code
    except UsageError as err:
        command_parser.error(str(err))  # exits 2
    except _OutputError as err:
        print(f"runmeta: error: {err}", file=sys.stderr)
        _silence_stdout()  # what is still buffered would fail again at exit
        return 1
    except RunMetaError as err:
        # Messages quote paths, notes and ids as given: never let them drive the terminal.
        print(f"runmeta: error: {printable(str(err))}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (runmeta list-runs | head): stop quietly. Point stdout
        # at devnull so that the interpreter's final flush does not fail again.
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        context.close()


def _unusable_arguments(args: argparse.Namespace) -> str | None:
    """Say why the parsed arguments cannot be used at all, or return ``None``.

    On POSIX, argv bytes that are not UTF-8 arrive as lone surrogates (``$'\\xe3\\x81'``
    becomes ``'\\udce3\\udc81'``): such a value can be neither stored (SQLite and
    meta.json take UTF-8) nor used as a database path, so it is refused before anything
    is opened. A closed stdout (``runmeta list-runs >&-``) is refused too: the answer
    could not be given. So is a ``RUNMETA_DATABASE_URL`` that is not a URL.
    """
    parser: argparse.ArgumentParser = args.command_parser
    if args.db_path is not None and args.db_url is not None:
        parser.error("--db-path and --db-url name two databases; give one")  # exits 2
    options = {action.dest: action.option_strings for action in parser._actions}
    for dest, value in vars(args).items():
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                name = max(options.get(dest) or [dest], key=len)
                return f"{name} '{printable(value)}' is not valid UTF-8"
    if sys.stdout is None:
        return "standard output is closed"
    try:
        choose_database(args.db_path, args.db_url, default=DEFAULT_DB_PATH)
    except RunMetaError as err:  # a RUNMETA_DATABASE_URL that is not a URL
        return printable(str(err))
    return None


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
