"""``runmeta``: list, search, correct, delete and repair recorded runs and projects.

Run it as ``runmeta``, ``python -m monocycle_nash.runmeta`` or
``python -m monocycle_nash.runmeta.cli``. Every subcommand accepts ``--db-path``
(default ``.runmeta/run_history.db``) and ``--result-root`` (default ``result``),
relative to the current folder, before or after the subcommand's name.

Exit codes: 0 success; 1 a refused request, i.e. any
:class:`~monocycle_nash.runmeta.errors.RunMetaError` (one ``runmeta: error: ...`` line
on stderr), or ``check`` finding problems; 2 a usage error (argparse, or a
:class:`UsageError` for options that contradict each other). Data goes to stdout.

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
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from monocycle_nash.runmeta.cli_format import (
    Column,
    clean,
    describe_run,
    format_project_table,
    format_run_details,
    format_run_table,
    format_table,
    json_array_lines,
    run_to_json,
    terminal_width,
)
from monocycle_nash.runmeta.clock import JST
from monocycle_nash.runmeta.db import DEFAULT_DB_PATH, DEFAULT_RESULT_ROOT, SQLiteConnectionFactory
from monocycle_nash.runmeta.errors import RunMetaError
from monocycle_nash.runmeta.models import FINAL_STATUSES, RUN_STATUSES
from monocycle_nash.runmeta.repositories import ProjectsRepository, RunsRepository
from monocycle_nash.text import plural

TYPE_CHECKING = False  # not typing's: the listing path does without ``typing`` (2 ms)
if TYPE_CHECKING:
    import sqlite3

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
    "to_bound",
]


class UsageError(Exception):
    """Options that argparse accepts one by one but not together; ``main`` exits 2."""


class CommandContext:
    """The database and result folder a subcommand works on, opened on first use.

    ``main`` builds one per call and closes it in ``finally``; handlers never close it.
    Asking for neither the connection nor the service opens nothing.
    """

    __slots__ = ("_connection", "_service", "db_path", "result_root")

    def __init__(self, db_path: Path, result_root: Path) -> None:
        """Remember where the database and the run folders are; open nothing yet."""
        self.db_path = db_path
        self.result_root = result_root
        self._connection: sqlite3.Connection | None = None
        self._service: RunSessionService | None = None

    def connection(self) -> sqlite3.Connection:
        """Return a connection to the database, creating and migrating it if needed."""
        if self._service is not None:
            return self._service.connection
        if self._connection is None:
            self._connection = SQLiteConnectionFactory(self.db_path).connect()
        return self._connection

    def service(self) -> RunSessionService:
        """Return a :class:`RunSessionService` on the same database and result folder."""
        if self._service is None:
            # The service pulls in the artifact store, shutil, hashlib...: only on demand.
            from monocycle_nash.runmeta.service import RunSessionService  # noqa: PLC0415

            self.close()
            self._service = RunSessionService.open(
                db_path=self.db_path, result_root=self.result_root
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


def _print_lines(lines: Iterable[str]) -> None:
    write = sys.stdout.write
    for line in lines:
        write(line)
        write("\n")


def _print_json(document: object) -> None:
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


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
    return text


def _result_root(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path is not a folder")
    if Path(text).is_file():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    return text


def parse_bound(text: str, *, end: bool) -> str:
    """Return ``text`` as an inclusive ``+09:00`` bound; ``end`` selects ``--to`` rounding.

    Stored times are ISO-8601 strings in Japan time with whole seconds, so a bound in
    that form compares correctly as a string. A date starts at 00:00:00 (``--from``) or
    ends at 23:59:59 (``--to``, so a date-only ``--to`` includes the whole day); a
    date-time without an offset is Japan time; one with an offset is converted to it.
    Fractions of a second round inwards (``--from`` up, ``--to`` down). Raises
    ``ValueError`` with a user-facing message when ``text`` is not a date or an
    ISO-8601 date-time.
    """
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime.combine(day, _DAY_END if end else _DAY_START, JST).isoformat()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date (2026-02-14) or an ISO-8601 date-time "
            "(2026-02-14T19:30:12, optionally with an offset such as +09:00 or Z)"
        ) from None
    try:
        moment = moment.replace(tzinfo=JST) if moment.tzinfo is None else moment.astimezone(JST)
        if moment.microsecond:
            moment = moment.replace(microsecond=0)
            if not end:
                moment += timedelta(seconds=1)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range once converted to +09:00") from None
    return moment.isoformat()


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
        type=from_bound,
        metavar="T",
        help="only runs created at or after T",
    )
    parser.add_argument(
        "--to", dest="to_at", type=to_bound, metavar="T", help="only runs created at or before T"
    )
    parser.add_argument("--status", choices=RUN_STATUSES, help="only runs with this status")
    parser.add_argument("--project-id", metavar="PID", help="only runs of this project")
    parser.add_argument(
        "--limit", type=_positive_int, metavar="N", help="print at most N runs (the newest)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON array instead of a table"
    )


def _list_runs(args: argparse.Namespace, context: CommandContext) -> int:
    if args.from_at is not None and args.to_at is not None and args.from_at > args.to_at:
        raise UsageError(f"--from ({args.from_at}) is later than --to ({args.to_at})")
    connection = context.connection()
    if args.project_id is not None:
        ProjectsRepository(connection).get(args.project_id)
    runs = RunsRepository(connection).iter_runs(
        from_at=args.from_at,
        to_at=args.to_at,
        status=args.status,
        project_id=args.project_id,
        limit=args.limit,
    )
    state = _process_state(context.result_root)
    if args.json:
        sys.stdout.writelines(json_array_lines(run_to_json(run, state) for run in runs))
    else:
        _print_lines(format_run_table(runs, terminal_width(), state))
    return 0


def _process_state(result_root: Path) -> Callable[[int], str]:
    """Whether a running run's process lives; liveness loads only for a running row."""

    def state(run_id: int) -> str:
        from monocycle_nash.runmeta.process import run_process_state  # noqa: PLC0415

        return run_process_state(result_root, run_id)

    return state


def _show_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id", type=_positive_int, required=True, metavar="ID", help="the run to show"
    )
    parser.add_argument(
        "--json", action="store_true", help='print {"run": ..., "meta": ..., "files": [...]}'
    )


def _show_run(args: argparse.Namespace, context: CommandContext) -> int:
    # Reading meta.json goes through the artifact store (hashlib, shutil, ...): load it
    # only here, never on the listing path.
    from monocycle_nash.runmeta.artifact_store import list_files, read_meta  # noqa: PLC0415

    run = RunsRepository(context.connection()).get(args.run_id)
    run_dir = context.result_root / str(run.run_id)
    meta, problem = read_meta(context.result_root, run.run_id)
    files = list_files(run_dir)
    state = _process_state(context.result_root)(run.run_id) if run.status == "running" else None
    if args.json:
        document: dict[str, object] = {
            "run": run.to_dict(),
            "meta": meta,
            "files": [{"path": path, "size": size} for path, size in files or ()],
        }
        if state is not None:
            document["process"] = state
        _print_json(document)
    else:
        _print_lines(
            format_run_details(run, meta, problem, str(run_dir), files, process_state=state)
        )
    return 0


def _update_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id", type=_positive_int, required=True, metavar="ID", help="the run to change"
    )
    parser.add_argument(
        "--status",
        choices=FINAL_STATUSES,
        help="the new status (a run is running only while its process records it)",
    )
    parser.add_argument("--note", metavar="TEXT", help='the new note ("" clears it)')
    project = parser.add_mutually_exclusive_group()
    project.add_argument(
        "--project-id", metavar="PID", help="attach the run to this project (and link it there)"
    )
    project.add_argument(
        "--no-project", action="store_true", help="detach the run from its project"
    )


def _update_run(args: argparse.Namespace, context: CommandContext) -> int:
    nothing = args.status is None and args.note is None and args.project_id is None
    if nothing and not args.no_project:
        raise UsageError("nothing to change: give --status, --note, --project-id or --no-project")
    run = context.service().edits.update_run(
        args.run_id,
        status=args.status,
        note=args.note,
        project_id=args.project_id,
        clear_project=args.no_project,
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


def _delete_run(args: argparse.Namespace, context: CommandContext) -> int:
    deleted = context.service().edits.delete_run(
        args.run_id, with_files=args.with_files, force=args.force
    )
    print(f"deleted {describe_run(deleted.record)}")
    for what in deleted.removed:
        print(f"removed {what}")
    return 0


# --- projects -------------------------------------------------------------------------


def _add_project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-id", required=True, metavar="PID", help="a new project id")
    parser.add_argument(
        "--project-path", required=True, metavar="PATH", help="the project's folder"
    )
    parser.add_argument("--note", default="", metavar="TEXT", help="a note on the project")


def _add_project(args: argparse.Namespace, context: CommandContext) -> int:
    project = context.service().edits.add_project(args.project_id, args.project_path, args.note)
    line = f"added project {project.project_id} at {project.project_path}"
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
    parser.add_argument("--note", metavar="TEXT", help='the new note ("" clears it)')


def _update_project(args: argparse.Namespace, context: CommandContext) -> int:
    if args.project_path is None and args.note is None:
        raise UsageError("nothing to change: give --project-path or --note")
    project = context.service().edits.update_project(
        args.project_id, project_path=args.project_path, note=args.note
    )
    print(f"updated project {project.project_id} at {project.project_path}")
    return 0


def _delete_project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-id", required=True, metavar="PID", help="the project")


def _delete_project(args: argparse.Namespace, context: CommandContext) -> int:
    detached = context.service().edits.delete_project(args.project_id)
    print(
        f"deleted project {args.project_id} ({plural(len(detached), 'run')} now without a project)"
    )
    return 0


def _list_projects_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON array instead of a table"
    )


def _list_projects(args: argparse.Namespace, context: CommandContext) -> int:
    projects = ProjectsRepository(context.connection()).list()
    if args.json:
        sys.stdout.writelines(json_array_lines(project.to_dict() for project in projects))
    else:
        _print_lines(format_project_table(projects, terminal_width()))
    return 0


# --- repair: reap and check -----------------------------------------------------------

_REAP_COLUMNS = (Column("RUN", right=True), Column("OUTCOME"), Column("DETAIL"))
_CHECK_COLUMNS = (Column("RUN", right=True), Column("FINDING"), Column("STATE"), Column("DETAIL"))


def _reap_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="only report; change nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _reap(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.repair import reap  # noqa: PLC0415 - loads the service

    findings = reap(context.service(), dry_run=args.dry_run)
    if args.json:
        _print_json({"dry_run": args.dry_run, "runs": [f.to_dict() for f in findings]})
        return 0
    if findings:
        rows = ((str(f.run_id), f.outcome, clean(f.detail)) for f in findings)
        _print_lines(format_table(_REAP_COLUMNS, rows, terminal_width()))
    running = plural(len(findings), "running run")
    if args.dry_run:
        dead = sum(f.kind == "dead" for f in findings)
        print(f"{running}: {dead} would be marked killed (dry run)")
    else:
        print(f"{running}: {sum(f.repaired for f in findings)} marked killed")
    return 0


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repair",
        action="store_true",
        help="rewrite meta.json from the database, remove leftover temp files",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _check(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.repair import check_consistency  # noqa: PLC0415 - as _reap

    report = check_consistency(context.service(), repair=args.repair)
    code = 0 if report.consistent else 1
    if args.json:
        _print_json(report.to_dict())
        return code
    findings = report.findings
    if findings:
        rows = ((str(f.run_id), f.kind, f.state, clean(f.detail)) for f in findings)
        _print_lines(format_table(_CHECK_COLUMNS, rows, terminal_width()))
    checked = (
        f"checked {plural(report.runs_checked, 'run')} and"
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
        "List runs, newest first. --from/--to take a date (2026-02-14), a date-time "
        "without offset (taken as +09:00) or with any offset (converted to +09:00); "
        "both bounds are inclusive and a date-only --to includes the whole day.",
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
        "time). Runs of other hosts, and runs whose process cannot be checked, are "
        "listed and left alone. Exit 0 whenever the check could be made.",
    ),
    Subcommand(
        "check",
        "find rows without folders, folders without rows, bad meta.json, temp files",
        _check_arguments,
        _check,
        "Compare the database with the run folders: rows without folders, folders "
        "without rows, missing, unreadable or disagreeing meta.json, temp files left "
        "by an interrupted write. --repair rewrites meta.json from the database and "
        "removes leftover temp files; it never deletes a run or its outputs. Exit 0 "
        "when consistent (after repair), 1 when problems remain.",
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
    parser.add_argument(
        "--db-path",
        type=_database_path,
        default=argparse.SUPPRESS if suppress else str(DEFAULT_DB_PATH),
        metavar="PATH",
        help=f"the run database (default: {DEFAULT_DB_PATH})",
    )
    parser.add_argument(
        "--result-root",
        type=_result_root,
        default=argparse.SUPPRESS if suppress else str(DEFAULT_RESULT_ROOT),
        metavar="DIR",
        help=f"the folder holding result/<run_id>/ (default: {DEFAULT_RESULT_ROOT})",
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the ``runmeta`` argument parser with every subcommand of :data:`SUBCOMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="runmeta",
        description="List, search, correct and delete recorded runs and projects.",
        epilog="Exit status: 0 success, 1 refused request, 2 usage error.",
        formatter_class=HelpFormatter,
        allow_abbrev=False,  # "--db" would stop working once another "--db..." appears
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
    context = CommandContext(Path(args.db_path), Path(args.result_root))
    handler: Handler = args.func
    try:
        # Listings stream, so a database error can come while rows are printed: it
        # is caught here like any other.
        return handler(args, context)
    except UsageError as err:
        command_parser: argparse.ArgumentParser = args.command_parser
        command_parser.error(str(err))  # exits 2
    except RunMetaError as err:
        print(f"runmeta: error: {err}", file=sys.stderr)
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


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())
