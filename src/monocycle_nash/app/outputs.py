"""Write a run's results into its ``output/`` folder: JSON files, or per-strategy CSV.

Every file is written whole through runmeta's ``write_file_atomically`` (a temporary
file in the same folder, then ``os.replace``); JSON files carry a ``schema_version``.

The per-strategy results (each strategy's probability, payoff and divergence) grow with
the game: at 10^6 characters they are 70 MB per file. They are streamed a block of
strategies at a time, each block put together by the C string and float encoders, so
no file is ever held whole; the JSON bytes are exactly those of
``json.dumps(payload, indent=2, ensure_ascii=False)`` (whose pure-Python indenting
encoder took seconds per file). ``[output] per_strategy`` chooses how they are written:
``json`` (the default: in ``equilibrium.json``, ``pure_strategy.json`` and
``divergence.json``), ``csv`` (one ``strategies.csv``) or ``none``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from monocycle_nash.equilibrium import Equilibrium
from monocycle_nash.runmeta import write_file_atomically

__all__ = [
    "DIVERGENCE_FILE",
    "EQUILIBRIUM_FILE",
    "PER_STRATEGY_MODES",
    "PURE_STRATEGY_FILE",
    "SCHEMA_VERSION",
    "STRATEGIES_CSV",
    "PerStrategy",
    "write_divergence",
    "write_equilibrium",
    "write_json",
    "write_pure_strategy",
    "write_results",
    "write_strategies_csv",
]

SCHEMA_VERSION = 1
EQUILIBRIUM_FILE = "equilibrium.json"
PURE_STRATEGY_FILE = "pure_strategy.json"
DIVERGENCE_FILE = "divergence.json"
STRATEGIES_CSV = "strategies.csv"

PerStrategy = Literal["json", "csv", "none"]
PER_STRATEGY_MODES: Final[tuple[PerStrategy, ...]] = ("json", "csv", "none")
"""The values of ``[output] per_strategy``; the first is the default."""

_BLOCK: Final = 8192
"""Strategies encoded per block: large enough for C loops, small enough to stay unseen."""

_quote: Final = json.encoder.encode_basestring  # json.dumps's str, with ensure_ascii=False


def write_json(path: Path, payload: object, *, indent: bool = True) -> None:
    """Write ``payload`` as JSON (no NaN or infinity) to ``path`` whole.

    Indented by 2 unless ``indent`` is false (compact: the C encoder, for long lists).
    """
    text = json.dumps(payload, indent=2 if indent else None, ensure_ascii=False, allow_nan=False)
    write_file_atomically(path, text + "\n")


def write_results(
    output_dir: Path,
    equilibrium: Equilibrium,
    payoffs: Sequence[float],
    divergences: Sequence[float],
    per_strategy: PerStrategy = "json",
) -> list[Path]:
    """Write the run's results as ``per_strategy`` says; return the files written.

    ``equilibrium.json`` always; with ``json`` it holds the labels and both strategies,
    and ``pure_strategy.json`` and ``divergence.json`` follow; with ``csv`` those lists
    are in ``strategies.csv`` instead; with ``none`` they are not written.
    """
    written = [write_equilibrium(output_dir, equilibrium, per_strategy=per_strategy)]
    labels = equilibrium.labels
    if per_strategy == "json":
        written.append(write_pure_strategy(output_dir, labels, payoffs))
        written.append(write_divergence(output_dir, labels, divergences))
    elif per_strategy == "csv":
        written.append(write_strategies_csv(output_dir, equilibrium, payoffs, divergences))
    return written


def write_equilibrium(
    output_dir: Path, equilibrium: Equilibrium, *, per_strategy: PerStrategy = "json"
) -> Path:
    """Write ``equilibrium.json``: strategies, value, exploitability, certificate, solver.

    ``labels``, ``row_strategy`` and ``column_strategy`` (one entry per strategy) are
    left out unless ``per_strategy`` is ``json``; ``per_strategy`` says which it was.
    """
    translation = equilibrium.translation
    fields: list[tuple[str, object]] = [("schema_version", SCHEMA_VERSION)]
    if per_strategy == "json":
        fields += [
            ("labels", _Column(equilibrium.labels, _strings)),
            ("row_strategy", _Column(equilibrium.row_strategy, _floats)),
            ("column_strategy", _Column(equilibrium.column_strategy, _floats)),
        ]
    fields += [
        ("value", float(equilibrium.value)),
        ("exploitability", float(equilibrium.exploitability)),
        ("gap", float(equilibrium.gap)),
        ("tolerance", float(equilibrium.tolerance)),
        ("certified", equilibrium.certified),
        ("support", _Column(equilibrium.support, _strings)),
        ("solver", equilibrium.solver),
        ("translation", None if translation is None else _Column(translation, _floats)),
        ("per_strategy", per_strategy),
    ]
    path = output_dir / EQUILIBRIUM_FILE
    write_file_atomically(path, _encoded(_json_object(fields)))
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


def write_strategies_csv(
    output_dir: Path,
    equilibrium: Equilibrium,
    payoffs: Sequence[float],
    divergences: Sequence[float],
) -> Path:
    """Write ``strategies.csv``: ``label,row_strategy,column_strategy,payoff,divergence``.

    One row per strategy, numbers as Python writes floats (``repr``), quoting as the
    ``csv`` module's default dialect, lines ending in ``\\n``.
    """
    columns = (
        equilibrium.labels,
        equilibrium.row_strategy,
        equilibrium.column_strategy,
        payoffs,
        divergences,
    )
    size = len(equilibrium.labels)
    if any(len(column) != size for column in columns):
        raise ValueError("every per-strategy column needs one entry per strategy")

    def blocks() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(("label", "row_strategy", "column_strategy", "payoff", "divergence"))
        for start in range(0, size, _BLOCK):
            stop = start + _BLOCK
            writer.writerows(zip(*(column[start:stop] for column in columns), strict=True))
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue().encode()  # the header of an empty game

    path = output_dir / STRATEGIES_CSV
    write_file_atomically(path, blocks())
    return path


def _write_per_strategy(
    path: Path, description: str, key: str, labels: Sequence[str], values: Sequence[float]
) -> Path:
    """Write ``{"strategies": [{"label": ..., key: value}, ...]}`` with a description.

    An entry is ``OPEN label MIDDLE value CLOSE``: a block of entries is two C joins,
    with no formatting per entry (the floats' ``repr`` is most of the time left).
    """
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels for {len(values)} values")
    opening = '    {\n      "label": '
    middle = ",\n      " + _quote(key) + ": "
    closing = "\n    }"
    between = closing + ",\n" + opening

    def entries() -> Iterator[str]:
        yield "["
        for start in range(0, len(labels), _BLOCK):
            stop = start + _BLOCK
            pairs = zip(_strings(labels[start:stop]), _floats(values[start:stop]), strict=True)
            lead = "\n" if start == 0 else ",\n"
            yield lead + opening + between.join(map(middle.join, pairs)) + closing
        yield "\n  ]" if labels else "]"

    fields = [
        ("schema_version", SCHEMA_VERSION),
        ("description", description),
        ("strategies", _Pieces(entries)),
    ]
    write_file_atomically(path, _encoded(_json_object(fields)))
    return path


# -- the streaming JSON encoder --------------------


@dataclass(frozen=True, slots=True)
class _Column:
    """A flat list of scalars, encoded a block at a time by ``encode``."""

    values: Sequence[object]
    encode: Callable[[Sequence[object]], Iterable[str]]


@dataclass(frozen=True, slots=True)
class _Pieces:
    """A value already encoded (at the nesting of a top-level entry), piece by piece."""

    pieces: Callable[[], Iterator[str]]


def _strings(values: Sequence[object]) -> Iterable[str]:
    return map(_quote, values)  # type: ignore[arg-type]


def _floats(values: Sequence[object]) -> Iterable[str]:
    """``json.dumps``'s text of each float; NaN and infinity refused as it refuses them."""
    numbers = list(map(float, values))  # type: ignore[arg-type]
    if not all(map(math.isfinite, numbers)):
        bad = next(number for number in numbers if not math.isfinite(number))
        raise ValueError(f"Out of range float values are not JSON compliant: {bad!r}")
    return map(float.__repr__, numbers)


def _json_object(fields: Sequence[tuple[str, object]]) -> Iterator[str]:
    """``json.dumps(dict(fields), indent=2, ensure_ascii=False)`` + newline, piece by piece.

    Values are scalars, ``_Column``s (flat lists, one item per line) or ``_Pieces``.
    """
    yield "{"
    for position, (key, value) in enumerate(fields):
        yield ("\n  " if position == 0 else ",\n  ") + _quote(key) + ": "
        if isinstance(value, _Column):
            yield from _json_list(value)
        elif isinstance(value, _Pieces):
            yield from value.pieces()
        else:
            yield json.dumps(value, ensure_ascii=False, allow_nan=False)
    yield "\n}\n" if fields else "}\n"


def _json_list(column: _Column) -> Iterator[str]:
    values = column.values
    if not values:
        yield "[]"
        return
    for start in range(0, len(values), _BLOCK):
        items = ",\n    ".join(column.encode(values[start : start + _BLOCK]))
        yield ("[\n    " if start == 0 else ",\n    ") + items
    yield "\n  ]"


def _encoded(pieces: Iterator[str]) -> Iterator[bytes]:
    """The pieces as UTF-8."""
    for piece in pieces:
        yield piece.encode()
