"""A script using only the public library, waiting to be terminated.

``python worker_sigterm.py ROOT FLAG MODE``: installs its own SIGTERM handler, then
starts a run (MODE ``record``: ``service.record()``; MODE ``manual``:
``sigterm_raises()`` + ``start``/``finish_killed``), writes the run id to FLAG and
sleeps. After SIGTERM it prints whether the run was recorded and whether its own handler
is back, then sends itself SIGTERM again to show the handler runs, and exits 143.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from monocycle_nash.runmeta import RunSessionService, RunTerminated, sigterm_raises


def _own_handler(signum: int, frame: FrameType | None) -> None:
    print("own handler ran", flush=True)


def _started(flag: Path, run_id: int) -> None:
    temp = flag.with_name(flag.name + ".tmp")
    temp.write_text(str(run_id), encoding="utf-8")
    temp.replace(flag)


def main() -> int:
    """Start a run, wait for SIGTERM, report, exit 143."""
    root, flag, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    signal.signal(signal.SIGTERM, _own_handler)
    with RunSessionService.open(root) as service:
        if mode == "record":
            try:
                with service.record("terminated script (record)") as run:
                    _started(flag, run.run_id)
                    time.sleep(60)
            except RunTerminated:
                print("terminated; recorded by record()", flush=True)
        else:
            with sigterm_raises() as installed:
                ctx = service.start("terminated script (manual)")
                try:
                    _started(flag, ctx.run_id)
                    time.sleep(60)
                except RunTerminated as err:
                    service.finish_killed(ctx, reason=f"terminated by signal {err.signum}")
                    print(f"terminated; recorded by hand (installed={installed})", flush=True)
    print(f"own handler back: {signal.getsignal(signal.SIGTERM) is _own_handler}", flush=True)
    os.kill(os.getpid(), signal.SIGTERM)
    return 143


if __name__ == "__main__":
    sys.exit(main())
