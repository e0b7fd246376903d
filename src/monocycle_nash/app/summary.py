"""The short human summary the main job prints at the end of a run."""

from __future__ import annotations

from pathlib import Path

from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.text import cell_width, fit, plural

__all__ = ["MAX_LABEL_COLUMNS", "MAX_LISTED", "display_path", "format_header", "format_summary"]

MAX_LISTED = 10
MAX_LABEL_COLUMNS = 40
"""Wider labels are cut (with an ellipsis) in the summary; the JSON outputs keep them whole."""


def display_path(path: Path, cwd: Path | None = None) -> str:
    """Return ``path`` relative to ``cwd`` (default: the current folder) when inside it."""
    base = (cwd or Path.cwd()).resolve()
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(base))
    except ValueError:
        return str(resolved)


def _number(value: float, digits: int) -> str:
    # + 0.0 turns -0.0 into 0.0.
    return f"{float(value) + 0.0:.{digits}g}"


def format_header(run_id: int, game_name: str, size: int, kind: str) -> str:
    """Return the line printed before solving: run id and game."""
    return f"Run {run_id}: solving {game_name} ({plural(size, 'strategy', 'strategies')}, {kind})"


def format_summary(
    run_id: int, equilibrium: Equilibrium, run_dir: Path, *, runmeta: str = "runmeta"
) -> str:
    """Return the lines printed after solving: solver, support with probabilities, value, where.

    ``runmeta`` is how the user calls the run CLI (``uv run runmeta`` under uv).

    At most ``MAX_LISTED`` support members are listed (most probable first), then a count
    of the rest; labels wider than ``MAX_LABEL_COLUMNS`` are cut.
    """
    labels = equilibrium.labels
    weights = equilibrium.row_strategy
    support = sorted(
        (index for index, weight in enumerate(weights) if weight > 0),
        key=lambda index: (-weights[index], index),
    )
    shown = [
        (fit(labels[index], MAX_LABEL_COLUMNS, ellipsis="\u2026"), weights[index])
        for index in support[:MAX_LISTED]
    ]
    width = max((cell_width(label) for label, _ in shown), default=0)
    lines = [
        f"Solved by {equilibrium.solver}.",
        f"Equilibrium support ({len(support)} of {len(labels)}):",
        *(
            f"  {label}{' ' * (width - cell_width(label))}  {float(weight):.6f}"
            for label, weight in shown
        ),
    ]
    if len(support) > len(shown):
        lines.append(f"  ... and {len(support) - len(shown)} more")
    lines += [
        f"Value: {_number(equilibrium.value, 6)} "
        f"(exploitability {_number(equilibrium.exploitability, 3)})",
        f"Results: {display_path(run_dir)}",
        f"Details: {runmeta} show-run --run-id {run_id}",
    ]
    return "\n".join(lines)
