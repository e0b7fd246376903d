"""``--resume RUN_ID``: what an earlier run of an experiment or sweep leaves to reuse.

The new run reads RUN_ID's stored input (its merged input, which is itself a run
config) unless an INPUT is given, and must describe the same experiment: every
``[experiment]`` key but ``workers`` and ``skip_failed_trials`` equal. It then takes
over the trials in RUN_ID's ``output/trials.csv`` (an experiment) or the finished
children listed in its ``output/sweep.csv`` (a sweep).
"""

from __future__ import annotations

import json
from pathlib import Path

from monocycle_nash.app.errors import InputError, RunConfigError
from monocycle_nash.app.experiments import TRIALS_CSV, Reused, read_trials
from monocycle_nash.app.run_config import read_toml
from monocycle_nash.errors import GameError
from monocycle_nash.experiments import ExperimentSettings, parse_experiment
from monocycle_nash.runmeta import RunMetaError, RunNotFoundError, RunSessionService

__all__ = [
    "earlier_run_dir",
    "experiment_of",
    "reused_trials",
    "same_experiment",
    "stored_input",
]

_IGNORED_KEYS = ("workers", "skip_failed_trials")
_MERGED_INPUT = "merged_input.toml"


def earlier_run_dir(service: RunSessionService, run_id: int) -> Path:
    """The folder of run ``run_id``, which must exist and have ended.

    ``InputError`` (one line) when the run is unknown, still running, or has no folder.
    """
    try:
        record = service.runs.get(run_id)
    except RunNotFoundError:
        raise InputError(f"--resume {run_id}: there is no run {run_id} in the database") from None
    except RunMetaError as err:
        raise InputError(f"--resume {run_id}: {err}") from None
    if record.status == "running":
        raise InputError(
            f"--resume {run_id}: run {run_id} is still running (if its process is gone, "
            f"runmeta reap ends it first)"
        )
    run_dir = service.store.run_dir(run_id)
    if not run_dir.is_dir():
        raise InputError(f"--resume {run_id}: the run's folder {run_dir} is missing")
    return run_dir


def stored_input(service: RunSessionService, run_id: int) -> Path:
    """The input run ``run_id`` stored: its merged input, else its one stored input."""
    run_dir = earlier_run_dir(service, run_id)
    merged = run_dir / "input" / _MERGED_INPUT
    if merged.is_file():
        return merged
    try:
        meta = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
        stored = meta["input"]["stored_file"]
    except (OSError, ValueError, KeyError, TypeError):
        stored = None
    if not isinstance(stored, str) or not (run_dir / stored).is_file():
        raise InputError(f"--resume {run_id}: the run's stored input cannot be found")
    return run_dir / stored


def reused_trials(service: RunSessionService, run_id: int, settings: ExperimentSettings) -> Reused:
    """The finished trials of run ``run_id``, which must be the same experiment."""
    run_dir = earlier_run_dir(service, run_id)
    earlier = experiment_of(service, run_id)
    if not same_experiment(earlier, settings):
        raise RunConfigError(
            f"--resume {run_id}: run {run_id} is a different experiment "
            f"({_difference(earlier, settings)}); resume it with its own input"
        )
    trials = run_dir / "output" / TRIALS_CSV
    if not trials.is_file():
        return Reused(run_id, {})
    try:
        rows = read_trials(trials, settings)
    except (OSError, ValueError) as err:
        raise InputError(f"--resume {run_id}: {err}") from None
    return Reused(run_id, rows)


def experiment_of(service: RunSessionService, run_id: int) -> ExperimentSettings:
    """The ``[experiment]`` of run ``run_id``'s stored input (``InputError`` if none)."""
    path = stored_input(service, run_id)
    try:
        table = read_toml(path).get("experiment")
        if table is None:
            raise RunConfigError(f"--resume {run_id}: run {run_id} was not an experiment")
        return parse_experiment(table, str(path))
    except GameError as err:
        raise RunConfigError(f"--resume {run_id}: {err}") from None


def same_experiment(first: ExperimentSettings, second: ExperimentSettings) -> bool:
    """Whether two settings describe the same trials (``workers`` and
    ``skip_failed_trials`` aside)."""
    return _compared(first) == _compared(second)


def _compared(settings: ExperimentSettings) -> dict[str, object]:
    table = settings.to_table()
    for key in _IGNORED_KEYS:
        table.pop(key, None)
    return table


def _difference(earlier: ExperimentSettings, settings: ExperimentSettings) -> str:
    before, now = _compared(earlier), _compared(settings)
    for key in sorted(before.keys() | now.keys()):
        if before.get(key) != now.get(key):
            return f"{key} was {before.get(key)!r}, now {now.get(key)!r}"
    return "settings differ"  # pragma: no cover - _compared differed somewhere
