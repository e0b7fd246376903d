"""``runmeta check [--repair] [--json]``: compare the database with the run folders.

Prints one line per finding and a summary; with ``--json`` one object (see
:meth:`~monocycle_nash.runmeta.consistency.CheckReport.to_dict`). Exits 0 when
everything is consistent (after ``--repair``), 1 when problems remain.
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

_COLUMNS = (Column("RUN", right=True), Column("FINDING"), Column("STATE"), Column("DETAIL"))


def register(commands: Commands) -> None:
    """Add the ``check`` subcommand."""
    commands.add(
        "check",
        help="find rows without folders, folders without rows, bad meta.json, temp files",
        description=(
            "Compare the database with the run folders: rows without folders, folders "
            "without rows, missing, unreadable or disagreeing meta.json, temp files left "
            "by an interrupted write. --repair rewrites meta.json from the database and "
            "removes leftover temp files; it never deletes a run or its outputs. Exit 0 "
            "when consistent (after repair), 1 when problems remain."
        ),
        handler=_check,
        arguments=_arguments,
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--repair",
        action="store_true",
        help="rewrite meta.json from the database, remove leftover temp files",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _state(repaired: bool, repairable: bool, repair: bool) -> str:
    if repaired:
        return "repaired"
    if repairable and not repair:
        return "repairable"
    return "left"


def _check(args: argparse.Namespace, context: CommandContext) -> int:
    from monocycle_nash.runmeta.consistency import check_consistency  # noqa: PLC0415

    report = check_consistency(context.service(), repair=args.repair)
    code = 0 if report.consistent else 1
    if args.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return code
    findings = report.findings
    if findings:
        rows = (
            (str(f.run_id), f.kind, _state(f.repaired, f.repairable, args.repair), clean(f.detail))
            for f in findings
        )
        for line in format_table(_COLUMNS, rows, terminal_width()):
            print(line)
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
        repairable = sum(f.repairable for f in problems) if not args.repair else 0
        parts = [f"{plural(len(problems), 'problem')} left"]
        if repaired:
            parts.insert(0, f"{repaired} repaired")
        if repairable:
            parts.append(f"{repairable} repairable with --repair")
        print(f"{checked}: {', '.join(parts)}")
    return code
