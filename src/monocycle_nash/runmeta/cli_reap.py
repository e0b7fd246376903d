"""``runmeta reap [--dry-run] [--json]``: mark runs whose process died as ``killed``.

Prints one line per running run (what was done and why), then a summary; with
``--json`` one object ``{"dry_run": ..., "runs": [...]}``. Exits 0 whenever it could
look (whatever it found); 1 only when the database cannot be used.
"""

from __future__ import annotations

import argparse
import json
import sys

from monocycle_nash.runmeta.cli_context import CommandContext, Commands
from monocycle_nash.runmeta.cli_format import (
    Column,
    clean,
    format_table,
    plural,
    terminal_width,
)

__all__ = ["register"]

_COLUMNS = (Column("RUN", right=True), Column("OUTCOME"), Column("DETAIL"))


def register(commands: Commands) -> None:
    """Add the ``reap`` subcommand."""
    commands.add(
        "reap",
        help="mark running runs whose process is gone as killed",
        description=(
            "Mark running runs as killed when they were started on this host and their "
            "process is gone (or its pid now belongs to a process started at another "
            "time). Runs of other hosts, and runs whose process cannot be checked, are "
            "listed and left alone. Exit 0 whenever the check could be made."
        ),
        handler=_reap,
        arguments=_arguments,
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="only report; change nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _reap(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.reaper import reap  # noqa: PLC0415 - the service is heavy

    findings = reap(context.service(), dry_run=args.dry_run)
    if args.json:
        document = {"dry_run": args.dry_run, "runs": [f.to_dict() for f in findings]}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
        return 0
    if findings:
        rows = ((str(f.run_id), f.outcome, clean(f.detail)) for f in findings)
        for line in format_table(_COLUMNS, rows, terminal_width()):
            print(line)
    marked = sum(f.marked for f in findings)
    dead = sum(f.outcome == "dead" for f in findings)
    running = plural(len(findings), "running run")
    if args.dry_run:
        print(f"{running}: {dead} would be marked killed (dry run)")
    else:
        print(f"{running}: {marked} marked killed")
    return 0
