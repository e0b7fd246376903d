"""Re-run one trial of a finished experiment and print its row as one line of JSON.

    python -m monocycle_nash.experiments.rerun output/summary.json 7

The row is the one ``trials.csv`` holds for trial 7 (``rerun_trial``). A file that
cannot be read, is not JSON or holds no usable settings, or a trial number the
experiment did not have, is one line on stderr and exit status 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from monocycle_nash.errors import GameError
from monocycle_nash.experiments.trials import rerun_trial

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The command line: ``SUMMARY_JSON INDEX``."""
    parser = argparse.ArgumentParser(
        prog="python -m monocycle_nash.experiments.rerun",
        description="Re-run one trial of an experiment from its summary.json and print "
        "the trial's row as JSON.",
    )
    parser.add_argument("summary", type=Path, help="the experiment's summary.json")
    parser.add_argument("index", type=int, help="the trial number (0, 1, ...)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = build_parser().parse_args(argv)
    path: Path = arguments.summary
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        return _fail(f"{path}: cannot read: {err.strerror or err}")
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return _fail(f"{path}: not a JSON summary: {err}")
    if not isinstance(summary, dict):
        return _fail(f"{path}: not a JSON summary (an object), got {type(summary).__name__}")
    try:
        row = rerun_trial(summary, arguments.index, source=str(path))
    except GameError as err:
        return _fail(str(err))
    sys.stdout.write(json.dumps(row, allow_nan=False) + "\n")
    return 0


def _fail(message: str) -> int:
    sys.stderr.write(message.replace("\n", " ") + "\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
