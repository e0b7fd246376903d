"""The short human summary the main job prints at the end of a run.

Everything printed from the input (labels, file names, paths) goes through
:func:`~monocycle_nash.text.printable`: a label holding a terminal escape or a
right-to-left override is shown as ``\x1b`` or ``\u202e``, never obeyed.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from monocycle_nash.app.outputs import STRATEGIES_CSV
from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.text import cell_width, fit, plural, printable

__all__ = [
    "MAX_LABEL_COLUMNS",
    "MAX_LISTED",
    "details_command",
    "display_path",
    "format_game",
    "format_header",
    "format_summary",
]

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


def details_command(
    run_id: int,
    *,
    runmeta: str = "runmeta",
    db_path: Path | None = None,
    result_root: Path | None = None,
    defaults: tuple[Path, Path] | None = None,
    cwd: Path | None = None,
    db_url: str | None = None,
) -> str:
    """Return the ``runmeta show-run`` command that finds run ``run_id`` from ``cwd``.

    ``--db-path`` and ``--result-root`` are added when ``db_path`` and ``result_root``
    are not where ``runmeta`` looks by default (``defaults``, relative to ``cwd``, the
    current folder unless given), so the command never opens, or creates, another
    database. ``runmeta`` is how the user calls the run CLI (``uv run runmeta`` under uv).
    ``db_url`` (a PostgreSQL URL, already without its password) adds ``--db-url``.
    """
    words = [*runmeta.split(), "show-run", "--run-id", str(run_id)]
    base = (cwd or Path.cwd()).resolve()
    for option, path, default in (
        ("--db-path", db_path, None if defaults is None else defaults[0]),
        ("--result-root", result_root, None if defaults is None else defaults[1]),
    ):
        if path is not None and (default is None or path.resolve() != (base / default).resolve()):
            words += [option, display_path(path, base)]
    if db_url is not None:
        words += ["--db-url", db_url]
    return shlex.join(words)


def format_header(run_id: int, game_name: str) -> str:
    """Return the first line, printed as soon as the run started: its id and the game's name.

    The game is read after it (a large roster takes seconds), so the line cannot say more.
    """
    return f"Run {run_id}: solving {printable(game_name)}"


def format_game(size: int, kind: str) -> str:
    """Return the line printed once the game is read: ``Game: 3 strategies, payoff matrix``."""
    return f"Game: {plural(size, 'strategy', 'strategies')}, {kind}"


def format_summary(
    run_id: int,
    equilibrium: Equilibrium,
    run_dir: Path,
    *,
    runmeta: str = "runmeta",
    details: str | None = None,
    per_strategy: str = "json",
    analyses: tuple[str, ...] = (),
) -> str:
    """Return the lines printed after solving: solver, support with probabilities, value, where.

    ``analyses`` are the analyses' own one-line summaries (e.g. the spectrum's), shown
    after the value.

    The ``Results:`` line says where the per-strategy results went when ``per_strategy``
    (``[output] per_strategy``) is not the default ``json``.

    The last line is ``Details: <details>``, by default ``<runmeta> show-run --run-id N``
    (``runmeta`` is how the user calls the run CLI: ``uv run runmeta`` under uv; see
    :func:`details_command` for a run recorded elsewhere than the defaults).

    At most ``MAX_LISTED`` support members are listed (most probable first), then a count
    of the rest; labels wider than ``MAX_LABEL_COLUMNS`` are cut. Control and
    bidirectional characters in labels and paths are shown escaped.
    """
    labels = equilibrium.labels
    weights = equilibrium.row_strategy
    support = sorted(
        (index for index, weight in enumerate(weights) if weight > 0),
        key=lambda index: (-weights[index], index),
    )
    shown = [
        (fit(printable(labels[index]), MAX_LABEL_COLUMNS, ellipsis="\u2026"), weights[index])
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
        f"(exploitability {_number(equilibrium.exploitability, 3)}; "
        f"{'certified' if equilibrium.certified else 'NOT certified'}: "
        f"gap {_number(equilibrium.gap, 3)}, tolerance {_number(equilibrium.tolerance, 3)})",
        *(printable(line) for line in analyses),
        f"Results: {printable(display_path(run_dir))}{_per_strategy_note(per_strategy)}",
        f"Details: {printable(details or details_command(run_id, runmeta=runmeta))}",
    ]
    return "\n".join(lines)


def _per_strategy_note(per_strategy: str) -> str:
    if per_strategy == "csv":
        return f" (per-strategy results in output/{STRATEGIES_CSV})"
    if per_strategy == "none":
        return ' (per-strategy results not written: [output] per_strategy = "none")'
    return ""
