"""Fixtures of the browser tests: a real history, ``runmeta ui`` serving it, Chromium.

Where the browser cannot start, every test here fails saying what to install; leave
them out on purpose with ``-m "not browser"``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from monocycle_nash.runmeta.ui.server import UiServer, running
from tests.browser.chromium import (
    BrowserUnavailable,
    RealHistory,
    make_real_history,
    start_chromium,
)


@pytest.fixture(scope="session")
def real_history(tmp_path_factory: pytest.TempPathFactory) -> RealHistory:
    """The main job's three runs, shared by the browser tests (they only read)."""
    return make_real_history(tmp_path_factory.mktemp("real-history"))


@pytest.fixture(scope="session")
def ui(real_history: RealHistory) -> Iterator[UiServer]:
    """``runmeta ui`` over the real history, on a free port of 127.0.0.1."""
    with running(real_history.db_path, real_history.result_root) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    """One headless Chromium for the session; a clear failure where it cannot start."""
    try:
        driver = start_chromium()
    except BrowserUnavailable as err:
        pytest.fail(f"browser tests: {err}, or leave them out with -m 'not browser'", pytrace=False)
    try:
        yield driver
    finally:
        driver.quit()
