"""Take the README's screenshot of ``runmeta ui``: the page of a real run.

Run from the repository root (it needs the development dependencies and the system
``chromium`` and ``chromium-driver``, as the browser tests do):

    uv run python document/images/make_ui_screenshot.py

In a temporary folder it records four runs with the main job, as a user would: the
built-in example, a six-character roster (the one of ``make_examples.py``, with Latin
names: a machine without CJK fonts draws the same picture) attached to a project, a
team game, and an input with a typo (``fail``). Then it serves that history with
``runmeta ui`` on a free port of 127.0.0.1, opens the roster run's page in headless
Chromium and writes ``ui_run_page.png`` beside this script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))  # tests.browser.chromium: the browser tests' own start-up

from tests.browser.chromium import start_chromium  # noqa: E402

from monocycle_nash.runmeta.ui.server import running  # noqa: E402

ROSTER = """\
characters = [
  { label = "Swordsman", p = -0.62, v = [2.8, 0.6] },
  { label = "Archer", p = 2.14, v = [-0.1, 2.3] },
  { label = "Ninja", p = -0.38, v = [-0.3, -1.1] },
  { label = "Knight", p = 0.31, v = [1.4, 1.2] },
  { label = "Mage", p = -1.94, v = [2.2, -0.8] },
  { label = "The Wandering Lancer of the North", p = 0.54, v = [0.4, 0.8] },
]
"""
TEAMS = """\
characters = [
  { label = "R", p = 0.0, v = [1.0, 0.0] },
  { label = "P", p = 0.0, v = [-1.0, -1.0] },
  { label = "S", p = 0.0, v = [0.0, 1.0] },
  { label = "D", p = -0.5, v = [1.0, 1.0] },
]

[teams]
size = 2
"""
OUTPUT = HERE / "ui_run_page.png"


def _main_job(folder: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "monocycle_nash.app", *args],
        cwd=folder,
        capture_output=True,
        check=False,
        timeout=120,
    )


def record_history(folder: Path) -> None:
    """Record the four runs in ``folder`` (its .runmeta/ and result/)."""
    (folder / "analysis").mkdir()
    (folder / "roster.toml").write_text(ROSTER, encoding="utf-8")
    (folder / "teams.toml").write_text(TEAMS, encoding="utf-8")
    (folder / "broken.toml").write_text('labels = ["a"\n', encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "monocycle_nash.runmeta", "add-project", "--project-id",
         "patch-1.2", "--project-path", "analysis", "--note", "balance patch 1.2"],
        cwd=folder, capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    _main_job(folder, "--note", "first look")
    _main_job(folder, "roster.toml", "--project-id", "patch-1.2", "--note", "patch 1.2 roster")
    _main_job(folder, "teams.toml", "--note", "teams of two")
    _main_job(folder, "broken.toml", "--note", "typo in input")


def main() -> None:
    """Record the history, serve it, and save the screenshot of run 2's page."""
    with tempfile.TemporaryDirectory(prefix="runmeta-ui-") as name:
        folder = Path(name)
        record_history(folder)
        os.chdir(folder)  # the page's footer names the database and result root as given
        with running(Path(".runmeta/run_history.db"), Path("result")) as server:
            browser = start_chromium(width=1200, height=1500)
            try:
                browser.get(server.url + "runs/2")
                browser.execute_script("return document.fonts.ready")
                browser.save_screenshot(str(OUTPUT))
            finally:
                browser.quit()


if __name__ == "__main__":
    main()
