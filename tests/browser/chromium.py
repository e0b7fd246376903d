"""Headless Chromium for the browser tests and the README's screenshot, and a real history.

The browser is the system's (Debian's ``chromium`` and ``chromium-driver``, which
``.ci/run`` installs when missing), named by path, so Selenium Manager is never asked
to find or download one; ``SE_OFFLINE=true`` keeps it offline should anything reach it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = (
    "install the Debian packages chromium and chromium-driver"
    " (apt-get install chromium chromium-driver; .ci/run does it when they are missing)"
)

TEAM_GAME = """\
characters = [
  { label = "R", p = 0.0, v = [1.0, 0.0] },
  { label = "P", p = 0.0, v = [-1.0, -1.0] },
  { label = "S", p = 0.0, v = [0.0, 1.0] },
  { label = "D", p = -0.5, v = [1.0, 1.0] },
]

[teams]
size = 2
"""
FIRST_NOTE = "<script>alert(1)</script> first look"


class BrowserUnavailable(RuntimeError):
    """Headless Chromium cannot be started here; the message says what to install."""


def start_chromium(width: int = 1280, height: int = 1000) -> WebDriver:
    """Start headless Chromium through the system chromedriver, offline."""
    os.environ["SE_OFFLINE"] = "true"
    for program in (CHROMIUM, CHROMEDRIVER):
        if not program.is_file():
            raise BrowserUnavailable(f"{program} is missing: {INSTALL_HINT}")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    try:
        return webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    except WebDriverException as err:
        raise BrowserUnavailable(
            f"headless Chromium did not start ({err.msg}): {INSTALL_HINT}"
        ) from err


@dataclass(frozen=True)
class RealHistory:
    """A history made by the main job: 1 the built-in example, 2 a bad game file (fail),
    3 a team game."""

    root: Path
    db_path: Path
    result_root: Path


def _main_job(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monocycle_nash.app", *args, "--root", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def make_real_history(root: Path) -> RealHistory:
    """Run the main job three times in ``root``, as a user would, and return the history."""
    (root / "bad.toml").write_text('labels = ["a"\nmatrix = \n')
    (root / "teams.toml").write_text(TEAM_GAME)
    runs = (
        _main_job(root, "--note", FIRST_NOTE),
        _main_job(root, "bad.toml", "--note", "typo in input"),
        _main_job(root, "teams.toml", "--note", "team game"),
    )
    codes = [run.returncode for run in runs]
    if codes != [0, 1, 0]:
        raise RuntimeError(f"the main job exited {codes}: {[run.stderr for run in runs]}")
    return RealHistory(root, root / ".runmeta" / "run_history.db", root / "result")
