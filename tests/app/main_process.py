"""Run the real main job (``python src/main.py``) as a process, for end-to-end tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MAIN = Path(__file__).resolve().parents[2] / "src" / "main.py"


def run_main_job(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python src/main.py ARGS --root ROOT``, its output captured."""
    return subprocess.run(
        [sys.executable, str(MAIN), *args, "--root", str(root)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
