"""``runmeta``: list, search, correct and delete recorded runs and projects from the shell.

Run it as ``runmeta``, ``python -m monocycle_nash.runmeta`` or
``python -m monocycle_nash.runmeta.cli``. Every subcommand accepts ``--db-path``
(default ``.runmeta/run_history.db``) and ``--result-root`` (default ``result``),
relative to the current folder, before or after the subcommand's name.

Exit codes: 0 success; 1 a refused request (one ``runmeta: error: ...`` line on
stderr); 2 a usage error (argparse). Data goes to stdout, and only on success.

This module only parses, calls the library and prints; the shapes printed live in
``cli_format.py``, the ``--from/--to`` parsing in ``cli_time.py``, and the way to add a
subcommand is described in ``cli_context.py``. Imports beyond the listing path happen
inside the handlers that need them (the service, the artifact store), so that
``runmeta list-runs`` loads only argparse, sqlite3, json and the light modules.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from monocycle_nash.runmeta import cli_check, cli_reap
from monocycle_nash.runmeta.cli_context import (
    CommandContext,
    Commands,
    HelpFormatter,
    UsageError,
    requested_subcommand,
)
from monocycle_nash.runmeta.cli_format import (
    describe_run,
    format_project_table,
    format_run_details,
    format_run_table,
    json_array_lines,
    plural,
    project_to_json,
    run_to_json,
    terminal_width,
)
from monocycle_nash.runmeta.cli_time import from_bound, to_bound
from monocycle_nash.runmeta.errors import RunMetaError
from monocycle_nash.runmeta.models import FINAL_STATUSES, RUN_STATUSES
from monocycle_nash.runmeta.repositories import ProjectsRepository, RunsRepository

__all__ = [
    "DEFAULT_DB_PATH",
    "DEFAULT_RESULT_ROOT",
    "REGISTRARS",
    "build_parser",
    "main",
]

DEFAULT_DB_PATH = ".runmeta/run_history.db"
"""Where the run database is, relative to the current folder, unless ``--db-path``."""

DEFAULT_RESULT_ROOT = "result"
"""Where the run folders are, relative to the current folder, unless ``--result-root``."""

_MAX_ID = 2**63 - 1  # SQLite's largest integer


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


def _print_lines(lines: Iterable[str]) -> None:
    write = sys.stdout.write
    for line in lines:
        write(line)
        write("\n")


# --- runs -----------------------------------------------------------------------------


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
        from monocycle_nash.runmeta.liveness import run_process_state  # noqa: PLC0415

        return run_process_state(result_root, run_id)

    return state


def _show_run(args: argparse.Namespace, context: CommandContext) -> int:
    # Reading meta.json goes through the artifact store (hashlib, shutil, ...): load it
    # only here, never on the listing path.
    from monocycle_nash.runmeta.cli_inspect import list_files, read_meta  # noqa: PLC0415

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
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        _print_lines(
            format_run_details(run, meta, problem, str(run_dir), files, process_state=state)
        )
    return 0


def _update_run(args: argparse.Namespace, context: CommandContext) -> int:
    if (
        args.status is None
        and args.note is None
        and args.project_id is None
        and not args.no_project
    ):
        raise UsageError("nothing to change: give --status, --note, --project-id or --no-project")
    run = context.service().update_run(
        args.run_id,
        status=args.status,
        note=args.note,
        project_id=args.project_id,
        clear_project=args.no_project,
    )
    print(f"updated {describe_run(run)}")
    return 0


def _delete_run(args: argparse.Namespace, context: CommandContext) -> int:
    # The same deletion as RunSessionService.delete_run: files first, then the row.
    deleted = context.service().delete_run(
        args.run_id, with_files=args.with_files, force=args.force
    )
    print(f"deleted {describe_run(deleted.record)}")
    for what in deleted.removed:
        print(f"removed {what}")
    return 0


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


def _show_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id", type=_positive_int, required=True, metavar="ID", help="the run to show"
    )
    parser.add_argument(
        "--json", action="store_true", help='print {"run": ..., "meta": ..., "files": [...]}'
    )


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


def _register_runs(commands: Commands) -> None:
    commands.add(
        "list-runs",
        help="list runs, newest first, with optional filters",
        description=(
            "List runs, newest first. --from/--to take a date (2026-02-14), a date-time "
            "without offset (taken as +09:00) or with any offset (converted to +09:00); "
            "both bounds are inclusive and a date-only --to includes the whole day."
        ),
        handler=_list_runs,
        arguments=_list_runs_arguments,
    )
    commands.add(
        "show-run",
        help="show one run: its row, its meta.json and the files of its folder",
        handler=_show_run,
        arguments=_show_run_arguments,
    )
    commands.add(
        "update-run",
        help="correct a run's status, note or project (meta.json is rewritten to match)",
        handler=_update_run,
        arguments=_update_run_arguments,
    )
    commands.add(
        "delete-run",
        help="delete a run's row, and with --with-files its folder and project link",
        handler=_delete_run,
        arguments=_delete_run_arguments,
    )


# --- projects -------------------------------------------------------------------------


def _add_project(args: argparse.Namespace, context: CommandContext) -> int:
    project = context.service().add_project(args.project_id, args.project_path, args.note)
    line = f"added project {project.project_id} at {project.project_path}"
    if not Path(project.project_path).is_dir():
        line += " (no such folder yet: create it; until then its runs warn that no link was made)"
    print(line)
    return 0


def _update_project(args: argparse.Namespace, context: CommandContext) -> int:
    if args.project_path is None and args.note is None:
        raise UsageError("nothing to change: give --project-path or --note")
    # Through the service: a new path is copied into the meta.json of the project's runs.
    project = context.service().update_project(
        args.project_id, project_path=args.project_path, note=args.note
    )
    print(f"updated project {project.project_id} at {project.project_path}")
    return 0


def _delete_project(args: argparse.Namespace, context: CommandContext) -> int:
    # Through the service: the detached runs' meta.json lose their project too.
    detached = context.service().delete_project(args.project_id)
    print(
        f"deleted project {args.project_id} ({plural(len(detached), 'run')} now without a project)"
    )
    return 0


def _list_projects(args: argparse.Namespace, context: CommandContext) -> int:
    projects = ProjectsRepository(context.connection()).list()
    if args.json:
        sys.stdout.writelines(json_array_lines(project_to_json(p) for p in projects))
    else:
        _print_lines(format_project_table(projects, terminal_width()))
    return 0


def _add_project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-id", required=True, metavar="PID", help="a new project id")
    parser.add_argument(
        "--project-path", required=True, metavar="PATH", help="the project's folder"
    )
    parser.add_argument("--note", default="", metavar="TEXT", help="a note on the project")


def _update_project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-id", required=True, metavar="PID", help="the project")
    parser.add_argument(
        "--project-path",
        metavar="PATH",
        help="the project's new folder; its runs' links (experiment_refs/) move there",
    )
    parser.add_argument("--note", metavar="TEXT", help='the new note ("" clears it)')


def _delete_project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project-id", required=True, metavar="PID", help="the project")


def _list_projects_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print one JSON array instead of a table"
    )


def _register_projects(commands: Commands) -> None:
    commands.add(
        "add-project",
        help="register an analysis project folder (stored as an absolute path)",
        handler=_add_project,
        arguments=_add_project_arguments,
    )
    commands.add(
        "update-project",
        help="change a project's folder or note",
        description=(
            "Change a project's folder or note. With --project-path, each run of the "
            "project gets its link in the new folder's experiment_refs/ and loses the one "
            "in the old folder, and its meta.json gets the new path. A link that cannot be "
            "made (the folder does not exist yet) is a warning and the old link is kept: "
            "run the command again once the folder exists."
        ),
        handler=_update_project,
        arguments=_update_project_arguments,
    )
    commands.add(
        "delete-project",
        help="delete a project; its runs stay, without a project",
        description=(
            "Delete a project. Its runs stay, without a project (row and meta.json), and "
            "their links in the project's experiment_refs/ are removed; the project "
            "folder and anything else in it are left alone."
        ),
        handler=_delete_project,
        arguments=_delete_project_arguments,
    )
    commands.add(
        "list-projects",
        help="list the registered projects",
        handler=_list_projects,
        arguments=_list_projects_arguments,
    )


# --- the command line -----------------------------------------------------------------

REGISTRARS: tuple[Callable[[Commands], None], ...] = (
    _register_runs,
    _register_projects,
    cli_reap.register,
    cli_check.register,
)
"""Functions that add subcommands; add one here to add a subcommand (see cli_context)."""


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # On the subcommands the defaults are SUPPRESS, so a value given after the
    # subcommand's name overrides one given before it and an absent one changes nothing.
    parser.add_argument(
        "--db-path",
        type=_database_path,
        default=argparse.SUPPRESS if suppress else DEFAULT_DB_PATH,
        metavar="PATH",
        help=f"the run database (default: {DEFAULT_DB_PATH})",
    )
    parser.add_argument(
        "--result-root",
        type=_result_root,
        default=argparse.SUPPRESS if suppress else DEFAULT_RESULT_ROOT,
        metavar="DIR",
        help=f"the folder holding result/<run_id>/ (default: {DEFAULT_RESULT_ROOT})",
    )


_GLOBAL_VALUE_OPTIONS = frozenset({"--db-path", "--result-root"})


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Return the ``runmeta`` argument parser with every registered subcommand.

    With ``only``, just that subcommand is built (when it exists): ``main`` uses this to
    skip building the others on every call; help and errors use the full parser.
    """
    parser = argparse.ArgumentParser(
        prog="runmeta",
        description="List, search, correct and delete recorded runs and projects.",
        epilog="Exit status: 0 success, 1 refused request, 2 usage error.",
        formatter_class=HelpFormatter,
        # Exact global option names, so that requested_subcommand() can find the
        # subcommand without parsing.
        allow_abbrev=False,
    )
    _add_global_options(parser, suppress=False)
    global_options = argparse.ArgumentParser(add_help=False, formatter_class=HelpFormatter)
    _add_global_options(global_options, suppress=True)
    subparsers = parser.add_subparsers(
        title="subcommands", metavar="SUBCOMMAND", dest="subcommand", required=True
    )
    commands = Commands(subparsers, [global_options], only=only)
    for register in REGISTRARS:
        register(commands)
    if only is not None and not commands.built:
        return build_parser()
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``runmeta`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    only = requested_subcommand(arguments, _GLOBAL_VALUE_OPTIONS)
    args = build_parser(only).parse_args(arguments)
    context = CommandContext(Path(args.db_path), Path(args.result_root))
    try:
        return int(args.func(args, context))
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
