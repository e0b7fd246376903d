"""The ``[experiment]`` table of a run config: what a Monte-Carlo experiment runs.

Common keys: ``kind`` (``"team_spectrum"`` or ``"approximation_quality"``, required),
``trials`` (a whole number >= 1, required), ``seed`` (a 64-bit whole number, default 0),
``workers`` (a whole number >= 1; absent means the machine's cores, which the app
decides) and ``skip_failed_trials`` (true/false, default false).

``kind = "team_spectrum"`` (RESEARCH.md section 4): ``character_count`` (>= 2, default 6),
``team_size`` (1 to ``character_count``, default 2; at most ``teams.MAX_TEAMS`` teams),
``power_low``/``power_high`` (default 0/1), ``vector_low``/``vector_high`` (default
-1/1), ``support_threshold`` (in [0, 1), default 1e-6).

``kind = "approximation_quality"``: ``size`` (3 to ``MAX_MATRIX_SIZE``, default 6),
``low``/``high`` (default -1/1), ``method`` (one of ``approximation.METHODS``, default
``"dominant_eigenpair"``), ``distance`` (one of ``DISTANCES``, default
``"max_element"``), ``ratio_bin_edges`` (a strictly increasing list of finite numbers
>= 1, default ``[1, 1.5, 2, 3, 5]``).

Every mistake (an unknown key, a key of the other kind, a wrong type, a boolean where a
number belongs, NaN or infinity, ``low >= high``) raises ``ExperimentSettingError`` with
one line naming the source and the key. Ranges are those a roster or a matrix accepts
(``character.MAX_POWER``, ``MAX_COORDINATE``, ``MAX_PAYOFF``), so every drawn game is valid.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from monocycle_nash.approximation import METHODS, ApproximationMethod
from monocycle_nash.character import MAX_COORDINATE, MAX_PAYOFF, MAX_POWER
from monocycle_nash.errors import ExperimentSettingError, brief
from monocycle_nash.teams import MAX_TEAMS

__all__ = [
    "APPROXIMATION_KEYS",
    "COMMON_KEYS",
    "DEFAULT_RATIO_BIN_EDGES",
    "DISTANCES",
    "KINDS",
    "MAX_MATRIX_SIZE",
    "TEAM_SPECTRUM_KEYS",
    "Distance",
    "ExperimentKind",
    "ExperimentSettings",
    "parse_experiment",
]

ExperimentKind = Literal["team_spectrum", "approximation_quality"]
KINDS: tuple[ExperimentKind, ...] = get_args(ExperimentKind)
"""The values of ``[experiment] kind``."""

Distance = Literal["max_element", "equilibrium_u", "reference_exploitability", "strategy_l1"]
DISTANCES: tuple[Distance, ...] = get_args(Distance)
"""The values of ``[experiment] distance`` (RESEARCH.md section 3)."""

DEFAULT_RATIO_BIN_EDGES: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 5.0)
"""Default edges of the ``dominant_eigen_ratio`` bins (the last bin is open-ended)."""

MAX_MATRIX_SIZE = 1000
"""Largest random matrix of an approximation experiment: each trial is O(size^3)."""

COMMON_KEYS = ("kind", "trials", "seed", "workers", "skip_failed_trials")
"""Keys every experiment may have."""

TEAM_SPECTRUM_KEYS = (
    "character_count",
    "team_size",
    "power_low",
    "power_high",
    "vector_low",
    "vector_high",
    "support_threshold",
)
"""Keys of ``kind = "team_spectrum"`` only."""

APPROXIMATION_KEYS = ("size", "low", "high", "method", "distance", "ratio_bin_edges")
"""Keys of ``kind = "approximation_quality"`` only."""

_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "team_spectrum": TEAM_SPECTRUM_KEYS,
    "approximation_quality": APPROXIMATION_KEYS,
}
_INT64 = (-(2**63), 2**63 - 1)  # TOML's integers: to_table() must be writable back


@dataclass(frozen=True, slots=True)
class ExperimentSettings:
    """A checked ``[experiment]`` table (module docstring); build it with ``parse_experiment``.

    Every key of both kinds is a field; the fields of the other kind keep their
    defaults and are not used (``to_table`` leaves them out). ``workers`` None means
    "the machine's cores" (the app resolves it).
    """

    kind: ExperimentKind
    trials: int
    seed: int = 0
    workers: int | None = None
    skip_failed_trials: bool = False
    character_count: int = 6
    team_size: int = 2
    power_low: float = 0.0
    power_high: float = 1.0
    vector_low: float = -1.0
    vector_high: float = 1.0
    support_threshold: float = 1e-6
    size: int = 6
    low: float = -1.0
    high: float = 1.0
    method: ApproximationMethod = METHODS[0]
    distance: Distance = "max_element"
    ratio_bin_edges: tuple[float, ...] = DEFAULT_RATIO_BIN_EDGES

    def to_table(self) -> dict[str, object]:
        """The resolved table: every key of this kind with its value (defaults filled
        in), in the documented order, ``workers`` left out when None. TOML can hold it
        (``toml_writer.dumps``) and ``parse_experiment`` reads it back as these settings.
        """
        table: dict[str, object] = {"kind": self.kind, "trials": self.trials, "seed": self.seed}
        if self.workers is not None:
            table["workers"] = self.workers
        table["skip_failed_trials"] = self.skip_failed_trials
        for key in _KIND_KEYS[self.kind]:
            value = getattr(self, key)
            table[key] = list(value) if isinstance(value, tuple) else value
        return table

    def with_overrides(self, overrides: Mapping[str, Any], source: str) -> ExperimentSettings:
        """These settings with the keys of ``overrides`` (a sweep condition) replaced,
        checked as ``parse_experiment`` checks a table (errors name ``source``).

        An override of ``kind`` to the other kind keeps the common keys and starts the
        new kind's own keys from their defaults (then from ``overrides``).
        """
        if not isinstance(overrides, Mapping):
            raise ExperimentSettingError(
                source, f"an [experiment] override must be a table, got {brief(overrides)}"
            )
        base = self.to_table()
        if "kind" in overrides and overrides["kind"] != self.kind:
            base = {key: value for key, value in base.items() if key in COMMON_KEYS}
        return parse_experiment({**base, **overrides}, source)


def parse_experiment(table: Mapping[str, Any], source: str) -> ExperimentSettings:
    """Check a run config's ``[experiment]`` table and return its settings.

    Raise ``ExperimentSettingError`` (one line naming ``source`` and the key) for
    anything wrong (module docstring).
    """
    if not isinstance(table, Mapping):
        raise ExperimentSettingError(source, f"[experiment] must be a table, got {brief(table)}")
    for key in table:
        if not isinstance(key, str) or (
            key not in COMMON_KEYS
            and key not in TEAM_SPECTRUM_KEYS
            and key not in APPROXIMATION_KEYS
        ):
            raise ExperimentSettingError(
                source,
                f"[experiment] has unknown key {brief(key)} (expected "
                f"{', '.join(COMMON_KEYS)} and the keys of its kind)",
            )
    if "kind" not in table:
        raise ExperimentSettingError(
            source, f"[experiment] needs kind = {' or '.join(map(repr, KINDS))}"
        )
    kind = table["kind"]
    if kind not in KINDS:
        raise ExperimentSettingError(
            source,
            f"[experiment] kind must be {' or '.join(map(repr, KINDS))}, got {brief(kind)}",
        )
    for key in table:
        if key not in COMMON_KEYS and key not in _KIND_KEYS[kind]:
            other = next(name for name, keys in _KIND_KEYS.items() if key in keys)
            raise ExperimentSettingError(
                source, f"[experiment] {key} belongs to kind = {other!r}, not {kind!r}"
            )
    if "trials" not in table:
        raise ExperimentSettingError(
            source, "[experiment] needs trials = N (the number of trials, at least 1)"
        )
    reader = _Reader(table, source)
    workers = table.get("workers")
    common: dict[str, Any] = {
        "kind": kind,
        "trials": reader.whole("trials", 1),
        "seed": reader.whole("seed", _INT64[0], default=0),
        "workers": None if workers is None else reader.whole("workers", 1),
        "skip_failed_trials": reader.boolean("skip_failed_trials", default=False),
    }
    if kind == "team_spectrum":
        return ExperimentSettings(**common, **_team_spectrum(reader))
    return ExperimentSettings(**common, **_approximation_quality(reader))


def _team_spectrum(reader: _Reader) -> dict[str, Any]:
    count = reader.whole("character_count", 2, default=6)
    team_size = reader.whole("team_size", 1, default=2)
    if team_size > count:
        raise ExperimentSettingError(
            reader.source,
            f"[experiment] team_size must be at most character_count = {count}, got {team_size}",
        )
    teams = math.comb(count, team_size)
    if teams > MAX_TEAMS:
        raise ExperimentSettingError(
            reader.source,
            f"[experiment] team_size = {team_size} makes {teams:,} teams of {count} characters; "
            f"at most {MAX_TEAMS:,} are practical",
        )
    power_low, power_high = reader.interval("power", (0.0, 1.0), MAX_POWER)
    vector_low, vector_high = reader.interval("vector", (-1.0, 1.0), MAX_COORDINATE)
    threshold = reader.number("support_threshold", 1e-6)
    if not 0.0 <= threshold < 1.0:
        raise ExperimentSettingError(
            reader.source,
            f"[experiment] support_threshold must be from 0 up to (not including) 1, "
            f"got {threshold!r}",
        )
    return {
        "character_count": count,
        "team_size": team_size,
        "power_low": power_low,
        "power_high": power_high,
        "vector_low": vector_low,
        "vector_high": vector_high,
        "support_threshold": threshold,
    }


def _approximation_quality(reader: _Reader) -> dict[str, Any]:
    table, source = reader.table, reader.source
    size = reader.whole("size", 3, MAX_MATRIX_SIZE, default=6)
    low, high = reader.interval("", (-1.0, 1.0), MAX_PAYOFF)
    method = table.get("method", METHODS[0])
    if method not in METHODS:
        raise ExperimentSettingError(
            source,
            f"[experiment] method must be one of {', '.join(map(repr, METHODS))}, "
            f"got {brief(method)}",
        )
    distance = table.get("distance", DISTANCES[0])
    if distance not in DISTANCES:
        raise ExperimentSettingError(
            source,
            f"[experiment] distance must be one of {', '.join(map(repr, DISTANCES))}, "
            f"got {brief(distance)}",
        )
    return {
        "size": size,
        "low": low,
        "high": high,
        "method": method,
        "distance": distance,
        "ratio_bin_edges": _bin_edges(table.get("ratio_bin_edges"), source),
    }


def _bin_edges(raw: object, source: str) -> tuple[float, ...]:
    if raw is None:
        return DEFAULT_RATIO_BIN_EDGES
    name = "[experiment] ratio_bin_edges"
    if isinstance(raw, str) or not isinstance(raw, Sequence) or not raw:
        raise ExperimentSettingError(
            source, f"{name} must be a non-empty list of numbers, got {brief(raw)}"
        )
    edges: list[float] = []
    for index, value in enumerate(raw):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExperimentSettingError(
                source, f"{name}[{index}] must be a number, got {brief(value)}"
            )
        if not math.isfinite(value) or not 1.0 <= value <= MAX_PAYOFF:
            raise ExperimentSettingError(
                source, f"{name}[{index}] must be a finite number of at least 1, got {value!r}"
            )
        if edges and not value > edges[-1]:
            raise ExperimentSettingError(
                source,
                f"{name} must increase strictly, but [{index}] = {value!r} follows {edges[-1]!r}",
            )
        edges.append(float(value))
    return tuple(edges)


@dataclass(frozen=True, slots=True)
class _Reader:
    """Reads typed values of one ``[experiment]`` table, raising one-line errors."""

    table: Mapping[str, Any]
    source: str

    def _fail(self, key: str, message: str, value: object) -> ExperimentSettingError:
        return ExperimentSettingError(
            self.source, f"[experiment] {key} must be {message}, got {brief(value)}"
        )

    def whole(
        self, key: str, low: int, high: int = _INT64[1], *, default: int | None = None
    ) -> int:
        """A whole number from ``low`` to ``high`` (not a boolean, not a float)."""
        value = self.table.get(key, default)
        if low == _INT64[0]:
            wanted = "a whole number from -2**63 to 2**63 - 1"
        elif high < _INT64[1]:
            wanted = f"a whole number from {low} to {high}"
        else:
            wanted = f"a whole number of at least {low}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, wanted, value)
        if not low <= value <= high:
            raise self._fail(key, wanted, value)
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, "true or false", value)
        return value

    def number(self, key: str, default: float, limit: float = MAX_PAYOFF) -> float:
        """A finite number (int or float, not a boolean) of magnitude at most ``limit``."""
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number", value)
        if not math.isfinite(value):
            raise self._fail(key, "a finite number", value)
        if abs(value) > limit:
            raise self._fail(key, f"at most {limit:g} in absolute value", value)
        return float(value)

    def interval(
        self, prefix: str, default: tuple[float, float], limit: float
    ) -> tuple[float, float]:
        """``<prefix>_low`` and ``<prefix>_high`` (``low``/``high`` for an empty prefix),
        finite, within ``limit`` and ``low < high``."""
        low_key, high_key = (f"{prefix}_low", f"{prefix}_high") if prefix else ("low", "high")
        low = self.number(low_key, default[0], limit)
        high = self.number(high_key, default[1], limit)
        if not low < high:
            raise ExperimentSettingError(
                self.source,
                f"[experiment] {low_key} must be below {high_key}, got {low!r} and {high!r}",
            )
        return low, high
