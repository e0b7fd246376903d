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
from typing import Any

from monocycle_nash.app.errors import InputError, RunConfigError
from monocycle_nash.app.experiments import TRIALS_CSV, Reused, read_trials
from monocycle_nash.app.run_config import GameInput, read_toml
from monocycle_nash.errors import GameError
from monocycle_nash.experiments import ExperimentSettings, parse_experiment
from monocycle_nash.runmeta import RunMetaError, RunNotFoundError, RunSessionService

__all__ = [
    "check_sweep",
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
    return _stored_input_in(earlier_run_dir(service, run_id), run_id)


def _stored_input_in(run_dir: Path, run_id: int) -> Path:
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


def reused_trials(
    service: RunSessionService,
    run_id: int,
    settings: ExperimentSettings,
    game: GameInput | None,
) -> Reused:
    """The finished trials of run ``run_id``, which must be the same experiment: the same
    ``[experiment]`` (``workers`` and ``skip_failed_trials`` aside) and the same fixed
    game (the same file by SHA-256, or the same inline table), or none in both."""
    run_dir = earlier_run_dir(service, run_id)
    config = read_toml(_stored_input_in(run_dir, run_id))
    if "sweep" in config:
        raise RunConfigError(
            f"--resume {run_id}: run {run_id} was a sweep and this input is an experiment; "
            "resume a sweep with its own input"
        )
    earlier = _experiment_in(config, run_id)
    if not same_experiment(earlier, settings):
        raise RunConfigError(
            f"--resume {run_id}: run {run_id} is a different experiment "
            f"({_difference(earlier, settings)}); resume it with its own input"
        )
    if _stored_game(config) != _game_of(game):
        raise RunConfigError(
            f"--resume {run_id}: run {run_id} analysed another fixed game (or none); its "
            "trials are not this experiment's"
        )
    trials = run_dir / "output" / TRIALS_CSV
    if not trials.is_file():
        return Reused(run_id, {})
    try:
        rows = read_trials(trials, settings)
    except (OSError, ValueError) as err:
        raise InputError(f"--resume {run_id}: {err}") from None
    return Reused(run_id, rows)


def check_sweep(service: RunSessionService, run_id: int) -> None:
    """Refuse (``RunConfigError``) to resume run ``run_id`` as a sweep when it was not one."""
    if "sweep" not in _stored_config(service, run_id):
        raise RunConfigError(
            f"--resume {run_id}: run {run_id} was not a sweep and this input is one; "
            "resume it with its own input"
        )


def experiment_of(service: RunSessionService, run_id: int) -> ExperimentSettings:
    """The ``[experiment]`` of run ``run_id``'s stored input (``InputError`` if none)."""
    return _experiment_in(_stored_config(service, run_id), run_id)


def _stored_config(service: RunSessionService, run_id: int) -> dict[str, Any]:
    return read_toml(stored_input(service, run_id))


def _experiment_in(config: dict[str, Any], run_id: int) -> ExperimentSettings:
    table = config.get("experiment")
    if table is None:
        raise RunConfigError(f"--resume {run_id}: run {run_id} was not an experiment")
    try:
        return parse_experiment(table, f"run {run_id}'s stored input")
    except GameError as err:
        raise RunConfigError(f"--resume {run_id}: {err}") from None


def _stored_game(config: dict[str, Any]) -> tuple[str, str] | None:
    """What identifies the fixed game of a stored run config: its file's SHA-256 or
    its inline table (as canonical JSON); ``None`` without a game."""
    game = config.get("game")
    if game is None:
        return None
    if isinstance(game, dict):
        return ("table", json.dumps(game, sort_keys=True, default=str))
    return ("file", str(config.get("game_sha256")))


def _game_of(game: GameInput | None) -> tuple[str, str] | None:
    if game is None:
        return None
    if game.table is not None:
        return ("table", json.dumps(dict(game.table), sort_keys=True, default=str))
    return ("file", str(game.sha256))


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
