"""The summary of an experiment's trials (``summary.json``, RESEARCH.md section 4).

``summarise(settings, rows, failed)`` is a pure function of the rows: they are sorted by
trial first, so the summary of the rows read back from ``trials.csv`` (``parse_row``) is
the summary of the rows in memory, whatever order the trials finished in. Means use
``math.fsum``; standard deviations are population ones (divided by n). Every number is
finite or None (never NaN or infinity): a figure with no rows to compute it from is
None, and so is a correlation with fewer than two rows or a constant variable.

Every summary holds ``kind``, ``trials`` (requested), ``completed`` (rows given),
``failed`` (the failed trials the caller passes, by trial), ``settings`` (the resolved
``[experiment]`` table) and, for an experiment on a fixed game, ``fixed_game``: together
what ``rerun_trial`` needs to re-run any one trial. A *stats* object is ``{count, mean,
std, min, max}``.

Team spectrum: ``ratio2_to_1``, ``ratio3_to_1`` and ``dominant_gap`` (stats over the
rows where each is defined); ``support_size_histogram`` (``{"3": 41, "5": 7}``, keys in
increasing size); ``support_rates`` (``equal_3``, ``at_most_3``, ``above_3``: shares of
the completed trials); ``gap_support_correlation`` (``count`` of rows with a gap and
``pearson``, the correlation of ``dominant_gap`` and ``support_size``); ``gap_bins``
(``[1, 1.2) [1.2, 1.5) [1.5, 2) [2, 3) [3, inf)``, each ``{low, high, count, support_3,
rate}``, ``high`` None for infinity); ``gap_undefined`` (the same counts for the rows
with a single level, hence no gap); ``unique`` (counts of ``true``, ``false``,
``undecided``).

Approximation quality: ``method``, ``distance_name``, ``distance`` (stats of the chosen
distance over every row), ``ratio_bins`` (stats per bin of ``dominant_eigen_ratio``,
``[e_k, e_k+1)`` from the settings' edges and ``[e_last, inf)``, each with ``low`` and
``high``), ``ratio_below_first_edge`` and ``ratio_missing`` (stats of the rows whose
ratio is below the first edge, or null: a single level), ``with_warnings`` (rows whose
approximation warned).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

from monocycle_nash.experiments.settings import ExperimentSettings
from monocycle_nash.experiments.trials import fixed_game_table
from monocycle_nash.game import Game

__all__ = ["GAP_BIN_EDGES", "summarise"]

GAP_BIN_EDGES: tuple[float, ...] = (1.0, 1.2, 1.5, 2.0, 3.0)
"""Edges of the team-spectrum ``dominant_gap`` bins; the last bin is ``[3, inf)``."""


def summarise(
    settings: ExperimentSettings,
    rows: Sequence[Mapping[str, Any]],
    failed: Iterable[Mapping[str, Any]] = (),
    *,
    fixed_game: Game | None = None,
) -> dict[str, Any]:
    """The summary of ``rows`` (trial rows of ``settings.kind``, any order), JSON-ready.

    ``failed`` lists the trials that failed, e.g. ``{"trial": 4, "trial_seed": ...,
    "error": "..."}`` (kept as given, sorted by trial); ``fixed_game`` the game every
    trial analysed, if the experiment had one. Raise ``ValueError`` when two rows have
    the same trial number.
    """
    ordered = sorted(rows, key=lambda row: int(row["trial"]))
    for before, after in pairwise(ordered):
        if before["trial"] == after["trial"]:
            raise ValueError(f"trial {after['trial']} has two rows")
    summary: dict[str, Any] = {
        "kind": settings.kind,
        "trials": settings.trials,
        "completed": len(ordered),
        "failed": [dict(entry) for entry in sorted(failed, key=lambda entry: int(entry["trial"]))],
        "settings": settings.to_table(),
    }
    if fixed_game is not None:
        summary["fixed_game"] = fixed_game_table(fixed_game)
    if settings.kind == "team_spectrum":
        summary.update(_team_spectrum(ordered))
    else:
        summary.update(_approximation_quality(settings, ordered))
    return summary


def _team_spectrum(rows: Sequence[Mapping[str, Any]]) -> dict[str, object]:
    supports = [int(row["support_size"]) for row in rows]
    histogram = Counter(supports)
    with_gap = [(row["dominant_gap"], int(row["support_size"])) for row in rows]
    pairs = [(float(gap), support) for gap, support in with_gap if gap is not None]
    bins: list[list[int]] = [[] for _ in GAP_BIN_EDGES]
    for gap, support in pairs:
        # A gap is sigma_1 / sigma_2 >= 1; anything below (none) joins the first bin.
        bins[max(0, _bin_index(gap, GAP_BIN_EDGES))].append(support)
    undefined = [support for gap, support in with_gap if gap is None]
    uniques = Counter(row["unique"] for row in rows)
    return {
        "ratio2_to_1": _stats(_defined(rows, "ratio2_to_1")),
        "ratio3_to_1": _stats(_defined(rows, "ratio3_to_1")),
        "dominant_gap": _stats([gap for gap, _ in pairs]),
        "support_size_histogram": {str(size): histogram[size] for size in sorted(histogram)},
        "support_rates": {
            "equal_3": _rate(sum(1 for s in supports if s == 3), len(supports)),
            "at_most_3": _rate(sum(1 for s in supports if s <= 3), len(supports)),
            "above_3": _rate(sum(1 for s in supports if s > 3), len(supports)),
        },
        "gap_support_correlation": {
            "count": len(pairs),
            "pearson": _pearson([gap for gap, _ in pairs], [float(s) for _, s in pairs]),
        },
        "gap_bins": [
            {"low": low, "high": high, **_support_3(members)}
            for (low, high), members in zip(_bounds(GAP_BIN_EDGES), bins, strict=True)
        ],
        "gap_undefined": _support_3(undefined),
        "unique": {
            "true": uniques[True],
            "false": uniques[False],
            "undecided": uniques[None],
        },
    }


def _approximation_quality(
    settings: ExperimentSettings, rows: Sequence[Mapping[str, Any]]
) -> dict[str, object]:
    edges = settings.ratio_bin_edges
    bins: list[list[float]] = [[] for _ in edges]
    below: list[float] = []
    missing: list[float] = []
    for row in rows:
        distance = float(row["distance"])
        ratio = row["dominant_eigen_ratio"]
        if ratio is None:
            missing.append(distance)
            continue
        index = _bin_index(float(ratio), edges)
        (below if index < 0 else bins[index]).append(distance)
    return {
        "method": settings.method,
        "distance_name": settings.distance,
        "distance": _stats([float(row["distance"]) for row in rows]),
        "ratio_bins": [
            {"low": low, "high": high, **_stats(values)}
            for (low, high), values in zip(_bounds(edges), bins, strict=True)
        ],
        "ratio_below_first_edge": _stats(below),
        "ratio_missing": _stats(missing),
        "with_warnings": sum(1 for row in rows if row["warnings"]),
    }


# --- figures ------------------------------------------------------------------------------


def _defined(rows: Sequence[Mapping[str, Any]], column: str) -> list[float]:
    return [float(row[column]) for row in rows if row[column] is not None]


def _bounds(edges: Sequence[float]) -> list[tuple[float, float | None]]:
    """The bins ``[e_k, e_k+1)`` and the open-ended ``[e_last, inf)`` (high None)."""
    highs: list[float | None] = [*edges[1:], None]
    return list(zip(edges, highs, strict=True))


def _bin_index(value: float, edges: Sequence[float]) -> int:
    """The bin of ``value`` (``[e_k, e_k+1)``, the last open-ended); -1 below ``e_0``."""
    index = -1
    for k, edge in enumerate(edges):
        if value >= edge:
            index = k
    return index


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _support_3(supports: Sequence[int]) -> dict[str, object]:
    hits = sum(1 for support in supports if support == 3)
    return {"count": len(supports), "support_3": hits, "rate": _rate(hits, len(supports))}


def _mean(values: Sequence[float]) -> float:
    try:
        return math.fsum(values) / len(values)
    except OverflowError:  # a sum beyond the float range: divide first
        return math.fsum(value / len(values) for value in values)


def _deviations(values: Sequence[float]) -> tuple[list[float], float]:
    """The deviations from the mean divided by the largest of them, and that scale
    (0 for constant values): squares of scaled deviations cannot overflow."""
    mean = _mean(values)
    deviations = [value - mean for value in values]
    scale = max(map(abs, deviations), default=0.0)
    if scale == 0.0 or not math.isfinite(scale):
        return [0.0] * len(values), scale
    return [deviation / scale for deviation in deviations], scale


def _stats(values: Sequence[float]) -> dict[str, object]:
    """``{count, mean, std, min, max}`` (population std; None without values)."""
    if not values:
        return {"count": 0, "mean": None, "std": None, "min": None, "max": None}
    scaled, scale = _deviations(values)
    std = scale * math.sqrt(math.fsum(d * d for d in scaled) / len(values))
    return {
        "count": len(values),
        "mean": _mean(values),
        "std": std if math.isfinite(std) else None,
        "min": min(values),
        "max": max(values),
    }


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """The Pearson correlation of ``xs`` and ``ys``; None with fewer than 2 pairs or a
    constant variable."""
    if len(xs) < 2:
        return None
    dx, sx = _deviations(xs)
    dy, sy = _deviations(ys)
    if not (0.0 < sx < math.inf and 0.0 < sy < math.inf):
        return None
    sxx = math.fsum(a * a for a in dx)
    syy = math.fsum(b * b for b in dy)
    sxy = math.fsum(a * b for a, b in zip(dx, dy, strict=True))
    return max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))
