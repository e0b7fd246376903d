"""Render the example pictures in this folder (linked from the README).

Run from the repository root:

    uv run python document/images/make_examples.py

It writes ``characters_example.svg``, ``equilibrium_example.svg`` and
``payoff_graph_example.svg`` beside this script, and the experiment pictures of
``document/experiments.md``: ``experiment_summary.svg`` (2,000 six-character
team-spectrum trials, seed 7) and ``sweep_summary.svg`` (6 and 16 characters, seeds 1
and 2, 50 trials each), computed in this process with the same functions as a run.

The roster is a small rock-paper-scissors like game with Japanese and Latin names (one
long enough to be shortened); its equilibrium comes from the package's own solver.
"""

from __future__ import annotations

from pathlib import Path

from monocycle_nash import Character, PayoffMatrix, solve
from monocycle_nash.experiments import ExperimentSettings, parse_experiment, run_trial, summarise
from monocycle_nash.plot import characters_svg, equilibrium_svg, payoff_graph_svg
from monocycle_nash.plot.experiment_chart import experiment_chart, sweep_chart

HERE = Path(__file__).resolve().parent

ROSTER = (
    Character("剣士", -0.62, (2.8, 0.6)),
    Character("Archer", 2.14, (-0.1, 2.3)),
    Character("忍者", -0.38, (-0.3, -1.1)),
    Character("Knight", 0.31, (1.4, 1.2)),
    Character("魔法使い", -1.94, (2.2, -0.8)),
    Character("The Wandering Lancer of the North", 0.54, (0.4, 0.8)),
)


def main() -> None:
    """Write the example SVGs beside this script."""
    equilibrium = solve(ROSTER)
    labels = [character.label for character in ROSTER]
    rows = PayoffMatrix.from_characters(ROSTER).rows
    pictures = {
        "characters_example.svg": characters_svg(ROSTER, equilibrium),
        "equilibrium_example.svg": equilibrium_svg(equilibrium),
        "payoff_graph_example.svg": payoff_graph_svg(labels, rows),
    }
    base = {"kind": "team_spectrum", "trials": 2000, "seed": 7, "character_count": 6}
    pictures["experiment_summary.svg"] = experiment_chart(_summary(parse_experiment(base, "")))
    children = []
    for name, count in (("6 characters", 6), ("16 characters", 16)):
        for seed in (1, 2):
            table = {**base, "trials": 50, "seed": seed, "character_count": count}
            summary = _summary(parse_experiment(table, ""))
            headline = {"support_3_rate": summary["support_rates"]["equal_3"]}
            children.append(
                {"condition": name, "seed": seed, "status": "success", "headline": headline}
            )
    pictures["sweep_summary.svg"] = sweep_chart(children)
    for name, text in pictures.items():
        (HERE / name).write_text(text, encoding="utf-8")


def _summary(settings: ExperimentSettings) -> dict[str, object]:
    rows = [run_trial(settings, index) for index in range(settings.trials)]
    return summarise(settings, rows)


if __name__ == "__main__":
    main()
