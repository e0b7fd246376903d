"""Fixtures of the PostgreSQL backend's own tests: a URL with a password, a project root."""

from __future__ import annotations

from pathlib import Path

import pytest

SECRET = "s3cret-Pa55"  # noqa: S105 - a test password, to look for in every output
"""The password every URL of these tests carries: it must never be shown anywhere."""


@pytest.fixture
def secret_url(postgres_url: str) -> str:
    """``postgres_url`` with a password (the test server trusts local sockets: accepted)."""
    scheme, rest = postgres_url.split("://", 1)
    user, at, tail = rest.partition("@")
    assert at, postgres_url
    return f"{scheme}://{user.split(':', 1)[0]}:{SECRET}@{tail}"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project root that is the current folder; RUNMETA_DATABASE_URL unset."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.delenv("RUNMETA_DATABASE_URL", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    return root
