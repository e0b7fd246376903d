"""The experiment picture: one bar per bin with its count, safe, deterministic, never empty."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from monocycle_nash.experiments import parse_experiment, run_trial, summarise
from monocycle_nash.plot.experiment_chart import experiment_chart
from tests.plot.svgtools import SVG, by_class, parse, texts

TEAM = {"kind": "team_spectrum", "trials": 8, "seed": 1}
APPROXIMATION = {"kind": "approximation_quality", "trials": 8, "seed": 1}


def summary_of(table: dict[str, object], count: int | None = None) -> dict[str, Any]:
    settings = parse_experiment(table, "run.toml")
    count = settings.trials if count is None else count
    return summarise(settings, [run_trial(settings, k) for k in range(count)])


@pytest.mark.parametrize("table", [TEAM, APPROXIMATION], ids=["team", "approx"])
@pytest.mark.parametrize("count", [0, 1, 8])
def test_well_formed_and_deterministic(table, count):
    """Both kinds, with 0, 1 or 8 finished trials: well-formed XML, the same bytes twice."""
    summary = summary_of(table, count)
    text = experiment_chart(summary)
    assert text == experiment_chart(summary)
    root = parse(text)
    assert root.tag == f"{SVG}svg"
    if count == 0:
        assert any("No finished trials" in line for line in texts(root))
        assert by_class(root, "rect", "bar") == []


def test_team_bars_show_each_gap_bins_rate_and_count():
    """One bar per gap bin with trials, its height the support-3 rate; every bin's count
    written; the overall rate as a dashed line."""
    summary = summary_of(TEAM)
    root = parse(experiment_chart(summary))
    bins = summary["gap_bins"]
    bars = by_class(root, "rect", "bar")
    with_trials = [item for item in bins if item["count"]]
    assert [int(bar.get("data-count", "")) for bar in bars] == [b["count"] for b in with_trials]
    assert [float(bar.get("data-height", "")) for bar in bars] == [b["rate"] for b in with_trials]
    counts = [element.text for element in by_class(root, "text", "count")]
    assert counts == [f"n = {item['count']}" for item in bins]
    (overall,) = by_class(root, "line", "overall")
    assert float(overall.get("data-rate", "")) == summary["support_rates"]["equal_3"]
    assert bars[-1].get("data-high") == "inf" or bins[-1]["count"] == 0


def test_team_trials_without_a_gap_get_their_own_bar():
    """Trials with a single level (no gap) are drawn apart, not dropped."""
    summary = summary_of(TEAM)
    summary["gap_undefined"] = {"count": 2, "support_3": 1, "rate": 0.5}
    root = parse(experiment_chart(summary))
    extra = by_class(root, "rect", "extra")
    assert [bar.get("data-bin") for bar in extra] == ["single level"]


def test_approximation_bars_have_means_counts_and_whiskers():
    """One bar per ratio bin with trials: its mean distance, its count, a std whisker."""
    summary = summary_of(APPROXIMATION)
    root = parse(experiment_chart(summary))
    bins = [item for item in summary["ratio_bins"] if item["count"]]
    bars = by_class(root, "rect", "bar")
    assert [float(bar.get("data-height", "")) for bar in bars] == [b["mean"] for b in bins]
    assert [int(bar.get("data-count", "")) for bar in bars] == [b["count"] for b in bins]
    spread = [item for item in bins if item["std"]]
    assert len(by_class(root, "g", "whisker")) == len(spread)
    assert by_class(root, "line", "overall") == []


def test_hostile_text_is_escaped():
    """Text from a hand-edited summary.json stays text: no script element appears."""
    summary = copy.deepcopy(summary_of(APPROXIMATION, 3))
    summary["settings"]["method"] = "<script>alert(1)</script>"
    summary["distance_name"] = "A&B \"q\" 'a'"
    text = experiment_chart(summary)
    root = parse(text)
    assert all(element.tag.removeprefix(SVG) != "script" for element in root.iter())
    assert "<script>" not in text


def test_unknown_kind_is_refused():
    """A summary of no known kind is a ValueError, not a blank picture."""
    with pytest.raises(ValueError, match="kind"):
        experiment_chart({"kind": "other", "completed": 0})
