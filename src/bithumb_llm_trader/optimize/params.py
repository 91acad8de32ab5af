"""A strategy with a trial's values in it, and the check of a search space against it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ..config import StrategyConfig
from ..errors import ConfigError
from .space import Choice, IntRange, Scalar, apply


def configure(config: StrategyConfig, values: dict[str, Scalar]) -> StrategyConfig:
    """``config`` with each dotted field set to its value, validated like a file.

    Raises:
        ConfigError: a value the field refuses (naming the field).
    """
    data = apply(config.model_dump(), values)
    try:
        return StrategyConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"optimize.space: {where}: {first['msg']}") from exc


def check_space(config: StrategyConfig) -> None:
    """Refuse a space naming a field the strategy does not have, or a range whose ends
    the field refuses: before the first trial, not in the middle of the search.

    Raises:
        ConfigError: naming the dotted field.
    """
    space = config.optimize.space
    if not space:
        raise ConfigError("optimize.space is empty: name at least one field to search, "
                          "e.g. strategy.rules.ema_fast: {type: int, low: 5, high: 20}")
    for path in space:
        _check_path(config, path)
    for ends in _corners(space):
        configure(config, ends)


def _check_path(config: StrategyConfig, path: str) -> None:
    node: Any = config
    for part in path.split("."):
        if not isinstance(node, BaseModel) or part not in type(node).model_fields:
            raise ConfigError(f"optimize.space: {path!r} is not a field of the strategy file")
        node = getattr(node, part)
    if isinstance(node, BaseModel):
        raise ConfigError(f"optimize.space: {path!r} is a section, not a field")


def _corners(space: dict[str, Any]) -> list[dict[str, Scalar]]:
    """Every parameter at its low end, then at its high end (each choice once)."""
    low = {p: _end(spec, 0) for p, spec in space.items()}
    high = {p: _end(spec, -1) for p, spec in space.items()}
    choices = [{**low, p: value} for p, spec in space.items() if isinstance(spec, Choice)
               for value in spec.choices]
    return [low, high, *choices]


def _end(spec: Any, index: int) -> Scalar:
    if isinstance(spec, Choice):
        return spec.choices[index]
    value: Scalar = spec.low if index == 0 else spec.high
    return int(value) if isinstance(spec, IntRange) else value
