"""The main job: ``monocycle-nash`` solves a game and records the run from start to finish.

Importing this package loads nothing else: the main job's modules (the solver, the
pictures, runmeta) are imported when :func:`main` runs, with Ctrl-C and SIGTERM caught,
so an interruption during that start-up prints one line instead of a traceback (or
nothing at all).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import FrameType

__all__ = ["main"]


class _Terminated(BaseException):
    """SIGTERM while the main job's modules are being imported."""


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the main job with ``argv`` (default: the process's arguments); return the exit code."""
    import signal  # noqa: PLC0415 - loaded by the main job anyway; here it guards the imports

    try:
        previous = signal.signal(signal.SIGTERM, _terminated)
    except ValueError:  # not the main thread: signals are not ours to handle
        previous = None
    try:
        from monocycle_nash.app.main_job import main as run  # noqa: PLC0415 - see above
    except (KeyboardInterrupt, _Terminated) as err:
        interrupted = isinstance(err, KeyboardInterrupt)
        what = "interrupted" if interrupted else "terminated"
        print(
            f"monocycle-nash: {what} before the run started; no run was recorded", file=sys.stderr
        )
        return 130 if interrupted else 143  # 128 + SIGINT, 128 + SIGTERM
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return run(argv)
