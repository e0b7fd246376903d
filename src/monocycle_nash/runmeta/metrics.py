"""Run metrics: the headline figures a run reports, their checks, and conditions on them.

A run may report a few figures (``RunContext.metrics``: the value of a game, the size
of a support, the solver used...). Each has a **key**, 1 to 64 ASCII letters, digits,
``_``, ``.`` or ``-``, and a **value**: an integer, a finite float, a text, a boolean
or ``None``. They are stored with the run's end (``run_metrics``, schema version 5)
and in meta.json's ``"metrics"``, and ``runmeta list-runs --where`` selects runs by
them. This module checks figures (:func:`metric_problem`, :func:`checked_metrics`) and
reads the ``--where`` grammar (:func:`parse_where`) into :class:`MetricCondition`
values; the SQL that stores and searches them is in ``repositories.py``.

``--where`` grammar: one or more conditions joined by ``,`` or `` and ``, each
``KEY OP VALUE``:

* ``OP`` is ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` or ``~`` (text contains);
* ``VALUE`` is a number (``3``, ``-0.5``, ``1e-9``: compared numerically with the
  figures stored as numbers, booleans counting as 0 and 1), a word (``lp``, ``true``:
  compared as text), or a text in quotes (``"a, b"``, ``'007'``: always text);
* text takes ``=``, ``!=`` and ``~`` (case-insensitive for ASCII letters); ``<``,
  ``<=``, ``>``, ``>=`` take numbers only;
* a condition matches a run that holds the figure with a value of the compared kind:
  ``support_size!=3`` keeps runs whose ``support_size`` is a number other than 3, and
  never a run without that figure.

``runmeta list-runs --where`` and ``--columns`` load this module (a plain listing does
not: its regular expressions cost 0.5 ms): standard library only, no ``typing``.
"""

from __future__ import annotations

import math
import re
from collections import namedtuple
from collections.abc import Mapping

TYPE_CHECKING = False  # not typing's: ``runmeta list-runs`` start-up is measured
if TYPE_CHECKING:
    from typing import Any, Final, NamedTuple

    from monocycle_nash.runmeta.models import MetricValue

    class _ConditionRow(NamedTuple):
        key: str
        op: str
        value: int | float | str

else:
    _ConditionRow = namedtuple("MetricCondition", "key op value")

__all__ = [
    "MAX_KEY_LENGTH",
    "NUMBER_OPERATORS",
    "TEXT_OPERATORS",
    "MetricCondition",
    "checked_metrics",
    "is_metric_key",
    "metric_problem",
    "parse_where",
]

MAX_KEY_LENGTH: Final = 64
"""The longest key of a figure."""
_KEY: Final = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_SQLITE_INTEGERS: Final = range(-(2**63), 2**63)
"""What SQLite stores as an integer; an ``int`` beyond it is refused."""

NUMBER_OPERATORS: Final = ("=", "!=", "<", "<=", ">", ">=")
"""Operators that compare a figure with a number."""
_ORDER_OPERATORS: Final = frozenset({"<", "<=", ">", ">="})
TEXT_OPERATORS: Final = ("=", "!=", "~")
"""Operators that compare a figure with a text (``~``: contains)."""


class MetricCondition(_ConditionRow):
    """One ``KEY OP VALUE`` condition of ``--where``.

    ``value`` is an ``int`` or ``float`` (compared with figures stored as numbers) or a
    ``str`` (compared with figures stored as text); ``op`` is one of
    :data:`NUMBER_OPERATORS` or :data:`TEXT_OPERATORS` accordingly.
    """

    __slots__ = ()

    @property
    def numeric(self) -> bool:
        """Whether the condition compares numbers (else text)."""
        return not isinstance(self.value, str)


def is_metric_key(key: object) -> bool:
    """Tell whether ``key`` is a valid figure key (1-64 of ``A-Za-z0-9_.-``)."""
    return isinstance(key, str) and _KEY.fullmatch(key) is not None


def metric_problem(key: object, value: object) -> str | None:
    """Say why ``key: value`` cannot be stored as a figure, or return ``None``.

    The message is one line naming the key, e.g. ``metric 'value': nan is not a
    finite number``.
    """
    if not is_metric_key(key):
        return f"metric key {key!r} is not 1-{MAX_KEY_LENGTH} letters, digits, '_', '.' or '-'"
    if value is None or isinstance(value, bool | str):
        return None
    if isinstance(value, int):
        if value not in _SQLITE_INTEGERS:
            return f"metric {key!r}: {value} is beyond SQLite's 64-bit integers"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"metric {key!r}: {value} is not a finite number"
    return f"metric {key!r}: a {type(value).__name__} is not a number, a text, a boolean or None"


def checked_metrics(metrics: Mapping[Any, object]) -> tuple[dict[str, MetricValue], list[str]]:
    """Split ``metrics`` into the figures that can be stored and one line per refused one.

    Integer subclasses other than ``bool`` (an ``IntEnum``) and float subclasses are
    stored as plain ``int`` and ``float``.
    """
    kept: dict[str, MetricValue] = {}
    problems: list[str] = []
    for key, value in metrics.items():
        problem = metric_problem(key, value)
        if problem is not None:
            problems.append(problem)
            continue
        assert isinstance(key, str)
        if isinstance(value, bool) or value is None:
            kept[key] = value
        elif isinstance(value, int):
            kept[key] = int(value)
        elif isinstance(value, float):
            kept[key] = float(value)
        else:
            kept[key] = str(value)
    return kept, problems


# --- the --where grammar ----------------------------------------------------------------

_OPERATOR: Final = re.compile(r"\s*(<=|>=|!=|=|<|>|~)\s*")
_SEPARATOR: Final = re.compile(r"\s*,\s*|\s+and\s+", re.IGNORECASE)
_NUMBER: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER: Final = re.compile(r"[+-]?\d+")


def parse_where(text: str) -> list[MetricCondition]:
    """Read ``--where`` text (see the module docstring) into its conditions.

    Raises ``ValueError`` with a one-line message naming the part that is wrong.
    """
    conditions: list[MetricCondition] = []
    position = 0
    source = text.strip()
    if not source:
        raise ValueError("an empty condition; give KEY OP VALUE, e.g. support_size=3")
    while True:
        condition, position = _condition(source, position)
        conditions.append(condition)
        if position == len(source):
            return conditions
        separator = _SEPARATOR.match(source, position)
        if separator is None:  # pragma: no cover - _condition stops only at a separator
            raise ValueError(f"{source[position:]!r}: expected ',' or 'and'")
        position = separator.end()


def _condition(source: str, start: int) -> tuple[MetricCondition, int]:
    """Read one ``KEY OP VALUE`` from ``source[start:]``; return it and where it ends."""
    key_match = _KEY.match(source, start)
    rest = source[start:]
    if not rest.strip():
        raise ValueError("nothing after the last ',' or 'and'")
    if key_match is None:
        raise ValueError(
            f"{_shown(rest)}: a condition starts with a key of letters, digits, '_', '.' or '-'"
        )
    key = key_match.group()
    operator = _OPERATOR.match(source, key_match.end())
    if operator is None:
        after = source[key_match.end() :]
        if _KEY.match(after):
            too_long = _shown(key + after)
            raise ValueError(f"key {too_long} is longer than {MAX_KEY_LENGTH} characters")
        raise ValueError(f"{_shown(rest)}: expected one of = != < <= > >= ~ after {key!r}")
    op = operator.group(1)
    value, quoted, end = _value(source, operator.end())
    shown = _shown(source[start:end])
    if value == "" and not quoted:
        raise ValueError(f'{shown}: no value after {op!r} (write "" for an empty text)')
    if not quoted and value[0] in "=<>!~":
        raise ValueError(f"{shown}: one operator only (= != < <= > >= ~); quote a text value")
    number = None if quoted or op == "~" else _as_number(value, shown)
    if op in _ORDER_OPERATORS and number is None:
        raise ValueError(f"{shown}: {op} compares numbers, and {value!r} is not one")
    if number is not None:
        return MetricCondition(key, op, number), end
    return MetricCondition(key, op, value), end


def _value(source: str, start: int) -> tuple[str, bool, int]:
    """The value at ``start``: (text, whether it was quoted, where it ends)."""
    if start < len(source) and source[start] in "\"'":
        quote = source[start]
        close = source.find(quote, start + 1)
        if close < 0:
            raise ValueError(f"{_shown(source[start:])}: the quote {quote} is not closed")
        end = close + 1
        if end < len(source) and _SEPARATOR.match(source, end) is None:
            raise ValueError(
                f"{_shown(source[start:])}: expected ',' or 'and' after the quoted value"
            )
        return source[start + 1 : close], True, end
    separator = _SEPARATOR.search(source, start)
    end = len(source) if separator is None else separator.start()
    return source[start:end].strip(), False, end


def _as_number(value: str, shown: str) -> int | float | None:
    """``value`` as a number when it is written as one, else ``None`` (a word)."""
    if _NUMBER.fullmatch(value) is None:
        return None
    if _INTEGER.fullmatch(value) is not None:
        integer = int(value)
        return integer if integer in _SQLITE_INTEGERS else float(integer)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{shown}: {value} is not a finite number")
    return number


def _shown(text: str) -> str:
    """A part of the condition, quoted for a message (long ones shortened)."""
    return repr(text if len(text) <= 60 else text[:57] + "...")
