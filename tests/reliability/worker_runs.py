"""A writer process of the concurrency test: waits for the start file, then records runs.

``python worker_runs.py ROOT READY_FILE START_FILE COUNT`` opens the service of the
project at ROOT (its database, or the one ``RUNMETA_DATABASE_URL`` names, may not
exist yet), touches READY_FILE, waits until
START_FILE exists, then records COUNT runs through ``RunSessionService.record()``, each
writing one output file. Exit 0 when every run was recorded.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from monocycle_nash.runmeta import RunSessionService


def main() -> int:
    """Record the runs once the start file appears."""
    root, ready, start, count = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    Path(ready).touch()
    deadline = time.monotonic() + 30
    while not start.exists():
        if time.monotonic() > deadline:
            return 3
        time.sleep(0.001)
    # Opening is part of the race: every worker may find the database missing.
    with RunSessionService.open(root) as service:
        for index in range(count):
            with service.record(f"worker {ready} run {index}", handle_sigterm=False) as run:
                (run.output_dir / "answer.txt").write_text(f"{index}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
