"""Write a run's results into its ``output/`` folder as JSON files.

Every file is written whole through runmeta's ``write_file_atomically`` (a temporary
file in the same folder, then ``os.replace``) and carries a ``schema_version``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.runmeta import write_file_atomically

__all__ = [
    "DIVERGENCE_FILE",
    "EQUILIBRIUM_FILE",
    "PURE_STRATEGY_FILE",
    "SCHEMA_VERSION",
    "write_divergence",
    "write_equilibrium",
    "write_json",
    "write_pure_strategy",
]

SCHEMA_VERSION = 1
EQUILIBRIUM_FILE = "equilibrium.json"
PURE_STRATEGY_FILE = "pure_strategy.json"
DIVERGENCE_FILE = "divergence.json"


def write_json(path: Path, payload: object) -> None:
    """Write ``payload`` as indented JSON (no NaN or infinity) to ``path`` whole."""
    write_file_atomically(
        path, json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    )


def write_equilibrium(output_dir: Path, equilibrium: Equilibrium) -> Path:
    """Write ``equilibrium.json``: strategies, value, exploitability, certificate, solver."""
    translation = equilibrium.translation
    payload = {
        "schema_version": SCHEMA_VERSION,
        "labels": list(equilibrium.labels),
        "row_strategy": [float(weight) for weight in equilibrium.row_strategy],
        "column_strategy": [float(weight) for weight in equilibrium.column_strategy],
        "value": float(equilibrium.value),
        "exploitability": float(equilibrium.exploitability),
        "gap": float(equilibrium.gap),
        "tolerance": float(equilibrium.tolerance),
        "certified": equilibrium.certified,
        "support": list(equilibrium.support),
        "solver": equilibrium.solver,
        "translation": None if translation is None else [float(x) for x in translation],
    }
    path = output_dir / EQUILIBRIUM_FILE
    write_json(path, payload)
    return path


def write_pure_strategy(output_dir: Path, labels: Sequence[str], payoffs: Sequence[float]) -> Path:
    """Write ``pure_strategy.json``: each strategy's payoff (A y)_i against the equilibrium."""
    return _write_per_strategy(
        output_dir / PURE_STRATEGY_FILE,
        "payoff of each pure strategy against the opponent's equilibrium strategy, (A y)_i",
        "payoff",
        labels,
        payoffs,
    )


def write_divergence(output_dir: Path, labels: Sequence[str], divergences: Sequence[float]) -> Path:
    """Write ``divergence.json``: each strategy's gap to the best pure payoff (0 on the support)."""
    return _write_per_strategy(
        output_dir / DIVERGENCE_FILE,
        "best pure-strategy payoff minus each strategy's payoff (0 = a best response)",
        "divergence",
        labels,
        divergences,
    )


def _write_per_strategy(
    path: Path, description: str, key: str, labels: Sequence[str], values: Sequence[float]
) -> Path:
    """Write ``{"strategies": [{"label": ..., key: value}, ...]}`` with a description.

    The text is what ``write_json`` writes for that payload, byte for byte, but put
    together here: ``json.dumps`` with ``indent`` runs its pure-Python encoder, about
    5 s per file at 10^6 strategies, several times the solve.
    """
    quote = json.encoder.encode_basestring  # json.dumps's str, with ensure_ascii=False
    entries = ",\n".join(
        f'    {{\n      "label": {quote(label)},\n      {quote(key)}: {_finite(value)}\n    }}'
        for label, value in zip(labels, values, strict=True)
    )
    strategies = f"[\n{entries}\n  ]" if entries else "[]"
    write_file_atomically(
        path,
        f'{{\n  "schema_version": {SCHEMA_VERSION},\n  "description": {quote(description)},\n'
        f'  "strategies": {strategies}\n}}\n',
    )
    return path


def _finite(value: float) -> str:
    """Return ``value`` as ``json.dumps`` writes a float, refusing NaN and infinity as it does."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"Out of range float values are not JSON compliant: {number!r}")
    return repr(number)
