"""The best parameters, written as a new strategy file in the input's format.

The input file is read as it is on disk (no environment, no defaults filled in), the
searched fields are set in it, and it is written with the same suffix: every other
setting, comment-free, stays what the user wrote. Secrets that came from the
environment are never in it. The result is loaded back before this returns, so a file
``validate`` would refuse is never left behind.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ..config import load_config
from ..config.loading import read_mapping
from ..errors import ConfigError
from .space import Scalar, apply


def write_strategy(source: Path, target: Path, values: dict[str, Scalar]) -> None:
    """Write ``source`` with ``values`` set to ``target`` (same format as ``source``).

    Raises:
        ConfigError: the written file does not load (it is removed).
    """
    data = apply(read_mapping(source), values)
    suffix = source.suffix.lower()
    if suffix == ".json":
        text = json.dumps(_plain(data), indent=2, ensure_ascii=False) + "\n"
    elif suffix in (".yaml", ".yml"):
        text = yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True)
    else:
        text = toml_text(_plain(data))
    target.write_text(text, encoding="utf-8")
    try:
        load_config(target, environ={}, dotenv=None)
    except ConfigError:
        target.unlink(missing_ok=True)
        raise


def _plain(value: Any) -> Any:
    """Decimals (TOML and JSON files are read with exact decimals) as numbers again."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    return value


def toml_text(data: dict[str, Any]) -> str:
    """A TOML document for a mapping of scalars, lists and nested mappings."""
    lines: list[str] = []
    _table(data, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(data: dict[str, Any], path: list[str], lines: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if path and (scalars or not tables):
        lines += ["", "[" + ".".join(_key(part) for part in path) + "]"]
    lines += [f"{_key(key)} = {_value(value)}" for key, value in scalars.items()]
    for key, value in tables.items():
        _table(value, [*path, key], lines)


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        raise ConfigError("a TOML strategy file cannot hold an empty (null) value")
    return json.dumps(str(value), ensure_ascii=False)
