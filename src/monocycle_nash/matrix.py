"""The payoff matrix of a zero-sum game, validated on construction."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monocycle_nash.character import MAX_PAYOFF, Character
from monocycle_nash.errors import GameNumberError, LabelError, MatrixShapeError, brief
from monocycle_nash.text import plural

__all__ = [
    "PayoffMatrix",
    "check_labels",
    "check_rows",
    "default_labels",
    "finite_number",
    "payoffs_against",
]

_SOURCE = "payoff matrix"


def payoffs_against(
    rows: Sequence[Sequence[float]], column_strategy: Sequence[float]
) -> tuple[float, ...]:
    """Return ``(A y)_i`` for every row i of ``rows``: its payoff against the strategy y."""
    return tuple(
        math.fsum(a * y for a, y in zip(row, column_strategy, strict=True)) for row in rows
    )


def default_labels(size: int) -> tuple[str, ...]:
    """Return the labels used when a matrix file gives none: ``s0, s1, ...``."""
    return tuple(f"s{index}" for index in range(size))


def check_labels(
    labels: Iterable[object], source: str, entry: str = "labels", field: str = ""
) -> tuple[str, ...]:
    """Return ``labels`` as a tuple of str, refusing non-strings, blank and duplicate labels
    and labels holding control characters (a newline would break every listing of them).

    Messages name label i as ``{entry}[i]{field}`` (``labels[2]``, ``characters[2].label``).
    """
    result: list[str] = []
    seen: dict[str, int] = {}
    for index, label in enumerate(labels):
        name = f"{entry}[{index}]{field}"
        if not isinstance(label, str):
            raise LabelError(source, f"{name} must be a string, got {brief(label)}")
        if not label.strip():
            raise LabelError(source, f"{name} is an empty label")
        # isprintable() is False for every control character: the scan runs only then.
        control = (
            None
            if label.isprintable()
            else next((char for char in label if unicodedata.category(char) == "Cc"), None)
        )
        if control is not None:
            raise LabelError(
                source, f"{name} holds the control character {control!r}: {brief(label)}"
            )
        if label in seen:
            raise LabelError(
                source, f"{name} repeats the label {brief(label)} of {entry}[{seen[label]}]{field}"
            )
        seen[label] = index
        result.append(label)
    return tuple(result)


def finite_number(value: object, source: str, entry: str, *, limit: float = MAX_PAYOFF) -> float:
    """Return ``value`` as a float if it is a finite int or float (not a bool), else raise.

    Numbers beyond ``limit`` in absolute value are refused too: the payoffs computed
    from them would overflow to infinity.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise GameNumberError(source, f"{entry} must be a number, got {brief(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise GameNumberError(source, f"{entry} must be finite, got {value!r}")
    if abs(value) > limit:
        raise GameNumberError(
            source,
            f"{entry} is too large ({value!r}); at most {limit:g} in absolute value, "
            "so that payoffs stay finite",
        )
    return float(value)


def check_rows(rows: object, source: str, entry: str = "matrix") -> tuple[tuple[float, ...], ...]:
    """Return ``rows`` as a non-empty square tuple of tuples of finite floats, else raise."""
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence):
        raise MatrixShapeError(source, f"{entry} must be a list of rows, got {brief(rows)}")
    size = len(rows)
    if size == 0:
        raise MatrixShapeError(source, f"{entry} is empty")
    checked: list[tuple[float, ...]] = []
    for i, row in enumerate(rows):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence):
            raise MatrixShapeError(
                source, f"{entry}[{i}] must be a list of numbers, got {brief(row)}"
            )
        if len(row) != size:
            raise MatrixShapeError(
                source,
                f"{entry}[{i}] has {plural(len(row), 'entry', 'entries')}, expected {size} "
                "(the matrix must be square)",
            )
        checked.append(
            tuple(finite_number(value, source, f"{entry}[{i}][{j}]") for j, value in enumerate(row))
        )
    return tuple(checked)


@dataclass(frozen=True, slots=True)
class PayoffMatrix:
    """A square payoff matrix: ``rows[i][j]`` is the row player's payoff for i against j.

    Construction validates everything: at least one strategy, square, finite numbers of
    at most ``MAX_PAYOFF`` in absolute value, one unique label per strategy (see
    ``check_labels``). Violations raise ``GameError`` subclasses.
    """

    labels: tuple[str, ...]
    rows: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        rows = check_rows(self.rows, _SOURCE, "rows")
        labels = check_labels(self.labels, _SOURCE)
        if len(labels) != len(rows):
            raise MatrixShapeError(
                _SOURCE, f"{len(labels)} labels given for a {len(rows)}x{len(rows)} matrix"
            )
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "labels", labels)

    @property
    def size(self) -> int:
        """Number of strategies (rows, equal to columns)."""
        return len(self.rows)

    @classmethod
    def from_rows(
        cls, rows: Sequence[Sequence[float]], labels: Sequence[str] | None = None
    ) -> PayoffMatrix:
        """Build a matrix from any sequences; labels default to ``s0, s1, ...``."""
        label_tuple = default_labels(len(rows)) if labels is None else tuple(labels)
        return cls(label_tuple, tuple(tuple(row) for row in rows))

    @classmethod
    def from_characters(cls, characters: Sequence[Character]) -> PayoffMatrix:
        """Build A[i][j] = p_i - p_j + (x_i*y_j - y_i*x_j) for a monocycle roster (O(n^2))."""
        rows = tuple(
            tuple(
                ci.power - cj.power + ci.vector[0] * cj.vector[1] - ci.vector[1] * cj.vector[0]
                for cj in characters
            )
            for ci in characters
        )
        return cls(tuple(c.label for c in characters), rows)
