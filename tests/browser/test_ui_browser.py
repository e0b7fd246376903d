"""``runmeta ui`` in a real headless Chromium, over a history the main job recorded.

Runs page, a filter, a run with its pictures rendered, the comparison, screenshots.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from monocycle_nash.runmeta.ui.server import UiServer
from tests.browser.chromium import FIRST_NOTE

pytestmark = pytest.mark.browser


def _rows(browser: WebDriver) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")


def _loaded_pictures(browser: WebDriver, selector: str) -> list[WebElement]:
    """The pictures under ``selector``, once every one has finished loading."""
    pictures = browser.find_elements(By.CSS_SELECTOR, selector)
    WebDriverWait(browser, 10).until(
        lambda _: all(picture.get_property("complete") for picture in pictures)
    )
    return pictures


def _assert_no_alert(browser: WebDriver) -> None:
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - reading it is the check


def test_runs_page_filtered_by_status(browser: WebDriver, ui: UiServer) -> None:
    """Three runs, newest first; choosing 'fail' in the form and filtering leaves run 2."""
    browser.get(ui.url)
    assert browser.title == "Runs · runmeta"
    rows = _rows(browser)
    assert [row.get_attribute("data-status") for row in rows] == ["success", "fail", "success"]
    assert rows[2].find_element(By.CSS_SELECTOR, "td.note").text == FIRST_NOTE
    _assert_no_alert(browser)
    Select(browser.find_element(By.ID, "status")).select_by_value("fail")
    browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "status=fail" in b.current_url)
    rows = _rows(browser)
    assert len(rows) == 1
    badge = rows[0].find_element(By.CSS_SELECTOR, ".status")
    assert badge.text.endswith("fail")
    assert badge.value_of_css_property("color") != rows[0].value_of_css_property("color")
    assert "invalid TOML" in rows[0].text


def test_run_page_renders_its_pictures(browser: WebDriver, ui: UiServer, tmp_path: Path) -> None:
    """Following run 1 from the list: its three SVGs render with a size; a screenshot."""
    browser.get(ui.url)
    browser.find_element(By.CSS_SELECTOR, 'a[href="/runs/1"]').click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/runs/1"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Run 1")
    pictures = _loaded_pictures(browser, "#pictures img")
    names = sorted(Path(str(picture.get_attribute("src"))).name for picture in pictures)
    assert names == ["characters.svg", "equilibrium.svg", "payoff_graph.svg"]
    for picture in pictures:
        assert picture.get_property("naturalWidth") > 0
        assert picture.get_property("naturalHeight") > 0
        assert picture.size["width"] > 0 and picture.size["height"] > 0
    assert "equilibrium.json" in browser.find_element(By.ID, "outputs").text
    assert "Run 1: solving" in browser.find_element(By.ID, "logs").text
    _assert_no_alert(browser)
    shot = tmp_path / "run.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000


def test_compare_page_from_ticked_runs(browser: WebDriver, ui: UiServer, tmp_path: Path) -> None:
    """Ticking runs 1 and 3 and comparing: both columns, differing figures, pictures drawn."""
    browser.get(ui.url)
    for run_id in (1, 3):
        browser.find_element(By.CSS_SELECTOR, f'input[name=run][value="{run_id}"]').click()
    browser.find_element(By.CSS_SELECTOR, "form.compare-form button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "/compare" in b.current_url)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Compare runs 1, 3"
    assert browser.find_elements(By.CSS_SELECTOR, "#figures tr.differs")
    pictures = _loaded_pictures(browser, "#pictures img")
    assert len(pictures) >= 2
    assert all(picture.get_property("naturalWidth") > 0 for picture in pictures)
    shot = tmp_path / "compare.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 10_000
