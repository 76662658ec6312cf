"""An instrument mapping written as TOML in the layout of instruments/*.toml.

The standard library reads TOML (tomllib) but does not write it; the instrument format uses a
small part of TOML (strings, integers, arrays of those, inline tables of strings, tables and
arrays of tables), and this writer covers exactly that part.  The result is read back with
tomllib by the tests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping) and any(isinstance(v, Mapping) for v in value.values())


def _table(name: str, table: Mapping[str, Any], lines: list[str]) -> None:
    plain = {k: v for k, v in table.items() if not _is_table(v)}
    lines.append(f"\n[{name}]")
    lines.extend(f"{k} = {_value(v)}" for k, v in plain.items())
    for key, value in table.items():
        if _is_table(value):
            _table(f"{name}.{key}", value, lines)


def dumps(data: Mapping[str, Any], comments: Sequence[str] = ()) -> str:
    lines = [f"# {c}" if c else "#" for c in comments]
    if lines:
        lines.append("")
    arrays = {k: v for k, v in data.items()
              if isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v)}
    tables = {k: v for k, v in data.items() if k not in arrays and _is_table(v)}
    lines.extend(f"{k} = {_value(v)}" for k, v in data.items()
                 if k not in arrays and k not in tables)
    for key, value in tables.items():
        for sub, inner in value.items():
            if isinstance(inner, Mapping):
                _table(f"{key}.{sub}", inner, lines)
            else:
                raise TypeError(f"{key}.{sub}: mixed table")
    for key, entries in arrays.items():
        for entry in entries:
            lines.append(f"\n[[{key}]]")
            lines.extend(f"{k} = {_value(v)}" for k, v in entry.items())
    return "\n".join(lines) + "\n"
