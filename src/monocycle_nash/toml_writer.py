"""Write TOML documents: the subset that ``tomllib`` reads back as the same values.

Only what the project writes (a merged input, an approximated roster): tables of
strings, booleans, integers, floats (including ``inf`` and ``nan``), dates and times,
arrays and nested tables. Arrays of tables are written inline, one element per line.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence

__all__ = ["dumps"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}
_INT64 = (-(2**63), 2**63 - 1)


def dumps(document: Mapping[str, object]) -> str:
    """Return ``document`` as TOML text; ``tomllib.loads`` of it gives the same values.

    Raises ``TypeError`` for a value TOML cannot hold (e.g. ``None``) and ``ValueError``
    for an integer outside 64 bits.
    """
    lines: list[str] = []
    _write_table(document, (), lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _write_table(table: Mapping[str, object], path: tuple[str, ...], lines: list[str]) -> None:
    scalars = [(key, value) for key, value in table.items() if not isinstance(value, Mapping)]
    tables = [(key, value) for key, value in table.items() if isinstance(value, Mapping)]
    if path and (scalars or not tables):
        if lines:
            lines.append("")
        lines.append(f"[{'.'.join(_key(part) for part in path)}]")
    for key, value in scalars:
        lines.append(f"{_key(key)} = {_value(value, multiline=True)}")
    for key, value in tables:
        _write_table(value, (*path, key), lines)


def _key(key: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"TOML keys are strings, not {type(key).__name__}")
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _float(number: float) -> str:
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return repr(number)


def _value(value: object, *, multiline: bool = False) -> str:  # noqa: PLR0911 - one per type
    # bool before int: bool is a subclass of int.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError(f"integer {value} does not fit TOML's 64 bits")
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        raise TypeError("TOML cannot hold bytes")
    if isinstance(value, Mapping):
        items = ", ".join(f"{_key(key)} = {_value(item)}" for key, item in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, Sequence):
        items_text = [_value(item) for item in value]
        nested = any(isinstance(item, Mapping | list | tuple) for item in value)
        if multiline and nested and items_text:
            return "[\n" + "".join(f"  {item},\n" for item in items_text) + "]"
        return "[" + ", ".join(items_text) + "]"
    raise TypeError(f"TOML cannot hold a value of type {type(value).__name__}")
