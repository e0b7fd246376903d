"""The main job's argument parser."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monocycle_nash.app.command_line import PROGRAM

__all__ = ["Arguments", "build_parser", "parse_arguments"]

_DESCRIPTION = """\
Solve a symmetric zero-sum game (a payoff matrix or a monocycle roster) and record the
run: a row in .runmeta/run_history.db and a folder result/<run_id>/ holding a copy of
the input, the results (output/) and the console output (logs/)."""

_EPILOG = """\
INPUT is a game file or a run config (TOML):
  game file   matrix = [[0, -1, 1], [1, 0, -1], [-1, 1, 0]] with optional
              labels = ["R", "P", "S"], or
              characters = [{ label = "A", p = 0.0, v = [2.0, 0.0] }, ...]
  run config  game = "game.toml" (or an inline table), settings = "settings.toml";
              settings tables (in either file): [runmeta] db_path (or
              database_url, a PostgreSQL server), result_root;
              [analysis_project] project_id, project_path, note; [solver] exact;
              [experiment] and [sweep] (see document/experiments.md)
Paths in a run config are relative to its folder; paths inside settings tables are
relative to --root. Without INPUT the built-in rock-paper-scissors example runs.

exit status: 0 success; 1 bad input or failure (recorded as 'fail'), or an unusable
database or result folder (nothing recorded); 130 interrupted (Ctrl-C) and
143 terminated (SIGTERM), both recorded as 'killed' once the run has begun (its
row is written after the input is read; before that, nothing is recorded).

afterwards: runmeta list-runs, runmeta show-run --run-id N"""


@dataclass(frozen=True, slots=True)
class Arguments:
    """The parsed command line."""

    input: Path | None
    note: str
    project_id: str | None
    root: Path
    resume: int | None = None
    parent: int | None = None
    rerun_of: int | None = None


class _VersionAction(argparse.Action):
    """``--version``: print the version and exit. The version is looked up only when
    asked for (reading the package's metadata at every start would cost the main job
    its start-up time)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from monocycle_nash.runmeta import package_version  # noqa: PLC0415 - see above

        print(f"{parser.prog} {package_version() or 'unknown'}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``monocycle-nash [INPUT] [--note] [--project-id] [--root]``."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "input",
        nargs="?",
        type=Path,
        metavar="INPUT",
        help="game file or run config (TOML); default: the built-in example",
    )
    notes = parser.add_mutually_exclusive_group()
    notes.add_argument("--note", default="", metavar="TEXT", help="a note stored with the run")
    notes.add_argument(
        "--note-file",
        metavar="PATH",
        help="read the note from PATH ('-': standard input; one final newline is dropped)",
    )
    parser.add_argument(
        "--project-id",
        metavar="PID",
        help="attach the run to this registered analysis project "
        "(overrides the settings' [analysis_project])",
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(),
        metavar="DIR",
        help="project root holding .runmeta/ and result/, and the base of relative paths "
        "in settings files (default: the current folder)",
    )
    parser.add_argument(
        "--resume",
        type=_run_id,
        metavar="RUN_ID",
        help="run the experiment (or sweep) of run RUN_ID again as a new run that reuses "
        "its finished trials (or children); INPUT defaults to RUN_ID's stored input",
    )
    parser.add_argument(
        "--parent",
        type=_run_id,
        metavar="RUN_ID",
        help="record the run as a child of run RUN_ID (how a sweep runs its children)",
    )
    parser.add_argument(
        "--rerun-of",
        type=_run_id,
        metavar="RUN_ID",
        help="record that this run repeats run RUN_ID on its stored input (runmeta rerun "
        "passes it; meta.json's rerun_of)",
    )
    parser.add_argument("--version", action=_VersionAction)
    return parser


def parse_arguments(argv: list[str] | None) -> Arguments:
    """Parse ``argv`` (default ``sys.argv[1:]``); argparse exits with 2 on a usage error."""
    parser = build_parser()
    namespace = parser.parse_args(argv)
    note = namespace.note
    if namespace.note_file is not None:
        from monocycle_nash.runmeta import read_note_file  # noqa: PLC0415 - only when asked

        try:
            note = read_note_file(namespace.note_file)
        except ValueError as err:
            parser.error(str(err))
    return Arguments(
        input=namespace.input,
        note=note,
        project_id=namespace.project_id,
        root=namespace.root,
        resume=namespace.resume,
        parent=namespace.parent,
        rerun_of=namespace.rerun_of,
    )


def _run_id(text: str) -> int:
    """argparse type of a run id: a positive integer."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a run id is a positive integer, got {text!r}")
    return value
