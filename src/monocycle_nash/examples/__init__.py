"""Built-in example inputs, shipped inside the package.

``default_run.toml`` is a split run config: it names ``rock_paper_scissors.toml`` (the
game) and ``settings.toml`` (where runs are recorded and how to solve).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_RUN_CONFIG", "examples_dir"]

DEFAULT_RUN_CONFIG = "default_run.toml"


def examples_dir() -> Path:
    """Return the folder holding the example files (inside the installed package)."""
    return Path(__file__).resolve().parent
