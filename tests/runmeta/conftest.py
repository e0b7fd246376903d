"""Fixtures for the in-process CLI tests: a workspace that is the current folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from monocycle_nash.runmeta.clock import FixedClock
from monocycle_nash.runmeta.service import RunSessionService


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project root that is also the current folder (the CLI's defaults)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COLUMNS", raising=False)
    return tmp_path


@pytest.fixture
def service(workspace: Path) -> Iterator[RunSessionService]:
    """A service on the workspace's default database, with pinned clock and commit."""
    with RunSessionService.open(
        workspace,
        clock=FixedClock("2026-02-14T19:30:12+09:00", step=10),
        git_probe=lambda: "abc123",
    ) as opened:
        yield opened
