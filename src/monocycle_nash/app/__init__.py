"""The main job: ``monocycle-nash`` solves a game and records the run from start to finish."""

from __future__ import annotations

from monocycle_nash.app.main_job import main

__all__ = ["main"]
