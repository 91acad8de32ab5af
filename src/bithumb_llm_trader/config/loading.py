"""Reading a strategy file: JSON, YAML or TOML, then the environment on top.

Precedence, lowest first: the file, then a ``.env`` file in the working directory, then
the process environment. ``BITHUMB_API_KEY``, ``BITHUMB_API_SECRET`` and
``OPENAI_API_KEY`` set the secrets; ``BITHUMB_TRADER__SECTION__FIELD`` sets any field
(``RESERVED_POOL_PCT`` and ``MAX_SINGLE_ORDER_PCT``, the operator document's names, set
the two allocation shares, under their ``BITHUMB_TRADER__`` names if both are set);
``${VAR}`` inside a string value is replaced from the same merged environment.

Strategy files are untrusted input. YAML anchors and aliases are refused (nested aliases
expand without limit: the "billion laughs" file), the top level must be a non-empty
mapping, and the environment's strings become booleans only where the field is one and
the text is ``true`` or ``false``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from .models import StrategyConfig, is_placeholder

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

log = logging.getLogger(__name__)

OVERRIDE_PREFIX = "BITHUMB_TRADER__"
SECRET_VARIABLES = {
    "BITHUMB_API_KEY": ("api", "api_key"),
    "BITHUMB_API_SECRET": ("api", "api_secret"),
    "OPENAI_API_KEY": ("llm", "api_key"),
}
ALIAS_VARIABLES = {
    "RESERVED_POOL_PCT": ("allocation", "reserved_pool_pct"),
    "MAX_SINGLE_ORDER_PCT": ("allocation", "max_single_order_pct"),
}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_WORDS = ("key", "secret", "password", "token", "url")
SUFFIXES = (".json", ".yaml", ".yml", ".toml")


def load_config(
    path: str | Path,
    *,
    environ: Mapping[str, str] | None = None,
    dotenv: str | Path | None = ".env",
) -> StrategyConfig:
    """Load and validate one strategy file.

    Args:
        path: the file; its suffix picks the parser.
        environ: the environment to read (defaults to ``os.environ``).
        dotenv: a ``.env`` file to read under the environment; ``None`` to skip.

    Raises:
        ConfigError: naming the file, the field path and what was expected.
    """
    source = Path(path)
    data = read_mapping(source)
    env = merged_environment(environ, dotenv)
    return config_from_mapping(data, source=source, environ=env)


def merged_environment(
    environ: Mapping[str, str] | None = None, dotenv: str | Path | None = ".env"
) -> dict[str, str]:
    """The ``.env`` file's variables overlaid by the real environment."""
    merged = read_dotenv(Path(dotenv)) if dotenv is not None else {}
    merged.update(os.environ if environ is None else environ)
    return merged


def config_from_mapping(
    data: Mapping[str, Any], *, source: Path, environ: Mapping[str, str]
) -> StrategyConfig:
    """Validate already-parsed file contents with the environment applied."""
    where: dict[tuple[str, ...], str] = {}
    tree = _substitute(dict(data), environ, source, ())
    _apply_overrides(tree, environ, where)
    _note_placeholders(tree, where)
    try:
        config = StrategyConfig.model_validate(tree)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source, where)) from None
    return _with_instructions(config, source)


def read_mapping(source: Path) -> dict[str, Any]:
    """Parse a JSON, YAML or TOML file into a dict, with exact decimals."""
    suffix = source.suffix.lower()
    if suffix not in SUFFIXES:
        raise ConfigError(
            f"{source}: unknown file type {suffix or '(none)'!r}; use .json, .yaml, .yml or .toml"
        )
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    try:
        data = _floats_to_decimals(_parse(text, suffix))
    except _AliasRefused as exc:
        raise ConfigError(
            f"{source}: YAML aliases (&anchor / *alias) are not allowed (line {exc.line})"
        ) from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply") from None
    except (yaml.YAMLError, ValueError) as exc:
        # ValueError covers JSON and TOML syntax errors and integers over 4300 digits.
        raise ConfigError(f"{source}: syntax error: {_one_line(exc)}") from None
    return _top_level_mapping(data, source)


def _top_level_mapping(data: object, source: Path) -> dict[str, Any]:
    # An empty file would otherwise validate as the all-defaults strategy.
    if data is None or data == {}:
        raise ConfigError(
            f"{source}: the file is empty; expected a mapping of sections at the top level"
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping of sections at the top level,"
            f" got {_kind(data)}"
        )
    return data


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, Decimal)):
        return "a number"
    return type(value).__name__


class _AliasRefused(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


_YAML_BOOL = "tag:yaml.org,2002:bool"


def _yaml12_booleans(
    resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]],
) -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    # YAML 1.1 also reads yes/no/on/off (and y/n) as booleans; YAML 1.2 and JSON only
    # true and false, so "dry_run: off" stays a string and is refused as one.
    words = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
    table = {
        first: [(tag, regexp) for tag, regexp in entries if tag != _YAML_BOOL]
        for first, entries in resolvers.items()
    }
    for first in "tTfF":
        table[first] = [*table.get(first, []), (_YAML_BOOL, words)]
    return table


class _NoAliasLoader(yaml.SafeLoader):
    """YAML's safe loader without anchors and aliases, with YAML 1.2 booleans.

    Refused at the first ``&anchor`` or ``*alias`` event, before anything is expanded,
    so a file of nested aliases fails at once instead of filling memory.
    """

    yaml_implicit_resolvers = _yaml12_booleans(yaml.SafeLoader.yaml_implicit_resolvers)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AliasRefused(event.start_mark.line + 1)
        return super().compose_node(parent, index)


def _parse(text: str, suffix: str) -> object:
    if suffix == ".json":
        return json.loads(text, parse_float=Decimal)
    if suffix == ".toml":
        return tomllib.loads(text, parse_float=Decimal)
    return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass


def _floats_to_decimals(value: object) -> object:
    # YAML has no decimal hook; repr() is the shortest string that round-trips the float,
    # so 0.1 in the file becomes Decimal("0.1"), not 0.1000000000000000055...
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {key: _floats_to_decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_floats_to_decimals(item) for item in value]
    return value


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file; comments, blanks and ``export`` allowed."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    values: dict[str, str] = {}
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or "=" not in stripped:
            continue
        key, _, value = stripped.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _substitute(
    value: Any, environ: Mapping[str, str], source: Path, path: tuple[str, ...]
) -> Any:
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in environ:
                field = ".".join(path) or "(top)"
                raise ConfigError(f"{source}: {field}: environment variable {name} is not set")
            return environ[name]

        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, dict):
        return {k: _substitute(v, environ, source, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, environ, source, (*path, str(i))) for i, v in enumerate(value)]
    return value


def _apply_overrides(
    tree: dict[str, Any], environ: Mapping[str, str], where: dict[tuple[str, ...], str]
) -> None:
    # Secrets and aliases first, so a BITHUMB_TRADER__ name for the same field wins.
    for variable, named in (*SECRET_VARIABLES.items(), *ALIAS_VARIABLES.items()):
        if environ.get(variable):
            _set_path(tree, named, environ[variable])
            where[named] = variable
    for variable, raw in sorted(environ.items()):
        if not variable.startswith(OVERRIDE_PREFIX):
            continue
        field_path = tuple(p.lower() for p in variable[len(OVERRIDE_PREFIX):].split("__") if p)
        if not field_path:
            continue
        _set_path(tree, field_path, _override_value(raw, field_path))
        where[field_path] = variable


def _note_placeholders(tree: Mapping[str, Any], where: dict[tuple[str, ...], str]) -> None:
    # The schema reads a placeholder key as no key; say so, since the file names one.
    # The value is not shown: it matched a placeholder pattern, but stay conservative.
    for path in SECRET_VARIABLES.values():
        section = tree.get(path[0])
        value = section.get(path[1]) if isinstance(section, Mapping) else None
        if isinstance(value, str) and value.strip() and is_placeholder(value):
            origin = f" (from {where[path]})" if path in where else ""
            log.warning("%s%s is a placeholder, not a key: ignored, as if not set",
                        ".".join(path), origin)


def _override_value(raw: str, field_path: tuple[str, ...]) -> Any:
    text = raw.strip()
    if text.lower() in ("true", "false") and _is_bool_field(field_path):
        # The environment only has strings; booleans in the config are strict, so only
        # these two words become one, and anything else is refused by validation.
        return text.lower() == "true"
    if text[:1] in "[{":
        try:
            return _floats_to_decimals(json.loads(text, parse_float=Decimal))
        except json.JSONDecodeError:
            return raw
    return raw


def _set_path(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


def _describe(exc: ValidationError, source: Path, where: dict[tuple[str, ...], str]) -> str:
    errors = exc.errors(include_url=False)
    lines = [_describe_one(err, source, where) for err in errors[:3]]
    if len(errors) > 3:
        lines.append(f"(and {len(errors) - 3} more)")
    return "\n".join(lines)


def _describe_one(err: Any, source: Path, where: dict[tuple[str, ...], str]) -> str:
    loc = tuple(str(part) for part in err["loc"])
    field = ".".join(loc) or "(top)"
    origin = next((f" (from {var})" for path, var in where.items() if loc[: len(path)] == path), "")
    if err["type"] == "extra_forbidden":
        allowed = _allowed_fields(loc[:-1])
        hint = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        return f"{source}: {field}{origin}: unknown field{hint}"
    message = str(err["msg"])
    if err["type"] == "bool_type":
        message += "; write true or false, unquoted"
    secret = any(word in part.lower() for part in loc for word in _SECRET_WORDS)
    shown = "" if secret or err["type"] == "missing" else f" (got {_short(err.get('input'))})"
    return f"{source}: {field}{origin}: {message}{shown}"


def _allowed_fields(parent: tuple[str, ...]) -> list[str]:
    model = _model_at(parent)
    return sorted(model.model_fields) if model is not None else []


def _is_bool_field(path: tuple[str, ...]) -> bool:
    model = _model_at(path[:-1])
    field = model.model_fields.get(path[-1]) if model is not None else None
    return field is not None and field.annotation is bool


def _model_at(parent: tuple[str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = StrategyConfig
    for part in parent:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _short(value: object) -> str:
    text = repr(value) if not isinstance(value, Decimal) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _with_instructions(config: StrategyConfig, source: Path) -> StrategyConfig:
    file_name = config.strategy.instructions_file
    if not file_name:
        return config
    file_path = Path(file_name)
    if not file_path.is_absolute():
        file_path = source.parent / file_path
    try:
        extra = file_path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"{source}: strategy.instructions_file: cannot read {file_path}: {exc.strerror}"
        ) from None
    combined = "\n\n".join(part for part in (config.strategy.instructions, extra) if part)
    if len(combined) > 4000:
        raise ConfigError(
            f"{source}: strategy.instructions_file: instructions are {len(combined)} characters;"
            " keep them under 4000"
        )
    strategy = config.strategy.model_copy(update={"instructions": combined})
    return config.model_copy(update={"strategy": strategy})
