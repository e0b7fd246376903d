"""A run config's ``[sweep]``: conditions (overrides of ``[experiment]``) times seeds.

```toml
[experiment]                 # the base every condition starts from
kind = "team_spectrum"
trials = 50

[sweep]
seeds = [1, 2, 3]
conditions = [
  { name = "6 characters", character_count = 6 },
  { name = "16 characters", character_count = 16 },
]
```

Every (condition, seed) pair is one child run: the base experiment with the condition's
keys and ``seed`` replaced. ``name`` is optional (default ``condition 1``, ...); names
must differ, and a condition may not set ``seed`` (the seeds are the sweep's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monocycle_nash.app.errors import SettingsError
from monocycle_nash.errors import GameError, brief
from monocycle_nash.experiments import ExperimentSettings

__all__ = ["SweepCondition", "SweepSettings", "parse_sweep"]

_KEYS = frozenset({"seeds", "conditions"})
_MAX_CHILDREN = 10_000


@dataclass(frozen=True, slots=True)
class SweepCondition:
    """One condition: its name, the overrides as written, and the resulting settings."""

    name: str
    overrides: Mapping[str, Any]
    settings: ExperimentSettings


@dataclass(frozen=True, slots=True)
class SweepSettings:
    """The checked ``[sweep]`` table."""

    conditions: tuple[SweepCondition, ...]
    seeds: tuple[int, ...]

    def children(self) -> list[tuple[SweepCondition, int, ExperimentSettings]]:
        """Every (condition, seed, settings) in order: conditions first, then seeds."""
        return [
            (condition, seed, _seeded(condition.settings, seed))
            for condition in self.conditions
            for seed in self.seeds
        ]

    def to_table(self) -> dict[str, object]:
        """The table as the merged input stores it (every condition named)."""
        return {
            "seeds": list(self.seeds),
            "conditions": [
                {"name": condition.name, **condition.overrides} for condition in self.conditions
            ],
        }


def _seeded(settings: ExperimentSettings, seed: int) -> ExperimentSettings:
    return settings.with_overrides({"seed": seed}, "[sweep] seeds")


def parse_sweep(table: object, base: ExperimentSettings | None, source: str) -> SweepSettings:
    """Check ``[sweep]`` against the base ``[experiment]``; ``SettingsError`` (one line
    naming ``source``) for anything wrong."""
    if base is None:
        raise SettingsError(
            f"{source}: [sweep] needs an [experiment] table (the base its conditions change)"
        )
    if not isinstance(table, Mapping):
        raise SettingsError(f"{source}: [sweep] must be a table, got {brief(table)}")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise SettingsError(
            f"{source}: [sweep] has unknown key {brief(unknown[0])} (expected seeds, conditions)"
        )
    seeds = _seeds(table.get("seeds"), source)
    raw = table.get("conditions")
    if not isinstance(raw, list) or not raw:
        raise SettingsError(
            f"{source}: [sweep] conditions must be a non-empty list of tables, got {brief(raw)}"
        )
    conditions: list[SweepCondition] = []
    for number, entry in enumerate(raw, start=1):
        conditions.append(_condition(entry, number, base, source))
    names = [condition.name for condition in conditions]
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated is not None:
        raise SettingsError(f"{source}: [sweep] has two conditions named {repeated!r}")
    if len(conditions) * len(seeds) > _MAX_CHILDREN:
        raise SettingsError(
            f"{source}: [sweep] asks for {len(conditions) * len(seeds):,} child runs; "
            f"at most {_MAX_CHILDREN:,}"
        )
    return SweepSettings(tuple(conditions), seeds)


def _seeds(raw: object, source: str) -> tuple[int, ...]:
    if not isinstance(raw, list) or not raw:
        raise SettingsError(
            f"{source}: [sweep] seeds must be a non-empty list of integers, got {brief(raw)}"
        )
    for seed in raw:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise SettingsError(f"{source}: [sweep] seeds must be integers, got {brief(seed)}")
    if len(set(raw)) != len(raw):
        raise SettingsError(f"{source}: [sweep] seeds repeats a seed: {brief(raw)}")
    return tuple(raw)


def _condition(entry: object, number: int, base: ExperimentSettings, source: str) -> SweepCondition:
    where = f"[sweep] conditions[{number - 1}]"
    if not isinstance(entry, Mapping):
        raise SettingsError(f"{source}: {where} must be a table, got {brief(entry)}")
    name = entry.get("name", f"condition {number}")
    if not isinstance(name, str) or not name.strip():
        raise SettingsError(f"{source}: {where} name must be a non-empty text, got {brief(name)}")
    overrides = {key: value for key, value in entry.items() if key != "name"}
    if "seed" in overrides:
        raise SettingsError(f"{source}: {where} sets seed; the seeds of a sweep are [sweep] seeds")
    try:
        settings = base.with_overrides(overrides, f"{source} {where}")
    except GameError as err:
        raise SettingsError(str(err)) from None
    return SweepCondition(name, overrides, settings)
