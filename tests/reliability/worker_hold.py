"""A run that starts and then waits to be killed: ``python worker_hold.py ROOT FLAG``.

Starts a run through the public library (``RunSessionService.start``), writes its run
id to FLAG (atomically), then sleeps for a minute without finishing the run.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from monocycle_nash.runmeta import RunSessionService


def main() -> int:
    """Start a run and wait."""
    root, flag = Path(sys.argv[1]), Path(sys.argv[2])
    with RunSessionService.open(root) as service:
        ctx = service.start("held run")
        temp = flag.with_name(flag.name + ".tmp")
        temp.write_text(str(ctx.run_id), encoding="utf-8")
        temp.replace(flag)
        time.sleep(60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
