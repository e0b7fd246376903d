"""The browser tests' set-up says what to install where Chromium cannot start."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import chromium


def test_a_missing_driver_is_named_with_the_packages_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No chromedriver: BrowserUnavailable naming the file and the Debian packages."""
    monkeypatch.setenv("SE_OFFLINE", "true")  # start_chromium sets it; restored after
    monkeypatch.setattr(chromium, "CHROMEDRIVER", tmp_path / "chromedriver")
    with pytest.raises(chromium.BrowserUnavailable) as raised:
        chromium.start_chromium()
    message = str(raised.value)
    assert str(tmp_path / "chromedriver") in message
    assert "apt-get install chromium chromium-driver" in message
