"""The strategy file's ``optimize`` section: what to search, and how to score it.

``space`` maps a dotted field of the strategy file to a range::

    optimize:
      objective: sharpe          # sharpe, sortino, calmar or return, after fees
      folds: 3                   # walk-forward folds
      space:
        strategy.rules.ema_fast: {type: int, low: 5, high: 20}
        strategy.rules.atr_stop_multiple: {type: float, low: 1, high: 4, step: 0.25}
        risk.max_risk_pct: {type: log, low: 0.002, high: 0.02}
        strategy.candle_interval: {type: choice, choices: [15m, 30m, 1h]}

The section is closed like the rest of the file. Whether a path names a real field, and
whether its values suit it, is checked against the strategy when the search starts
(``check_space``), before any trial runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from ..domain import parse_duration

OBJECTIVES = ("sharpe", "sortino", "calmar", "return")
FORBIDDEN_ROOTS = ("api", "database", "logging", "optimize", "name", "dry_run")
"""Sections a search may not touch: secrets, where records go, and the search itself."""
MAX_PARAMETERS = 50
Scalar = str | int | float | bool


def _duration(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) else value


class _Closed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class IntRange(_Closed):
    type: Literal["int"]
    low: int
    high: int
    step: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> IntRange:
        if self.low > self.high:
            raise ValueError("low must not be above high")
        return self


class FloatRange(_Closed):
    type: Literal["float"]
    low: float = Field(allow_inf_nan=False)
    high: float = Field(allow_inf_nan=False)
    step: float | None = Field(None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> FloatRange:
        if self.low > self.high:
            raise ValueError("low must not be above high")
        return self


class LogRange(_Closed):
    """A float searched on a log scale (both ends above zero)."""

    type: Literal["log"]
    low: float = Field(gt=0, allow_inf_nan=False)
    high: float = Field(gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> LogRange:
        if self.low > self.high:
            raise ValueError("low must not be above high")
        return self


class Choice(_Closed):
    type: Literal["choice"]
    choices: list[Scalar] = Field(min_length=1, max_length=100)


Parameter = Annotated[IntRange | FloatRange | LogRange | Choice, Field(discriminator="type")]


class OptimizeSection(_Closed):
    """How ``bithumb-trader optimize`` searches this strategy (defaults of its options)."""

    objective: Literal["sharpe", "sortino", "calmar", "return"] = "sharpe"
    space: dict[str, Parameter] = Field(default_factory=dict, max_length=MAX_PARAMETERS)
    trials: int = Field(50, ge=1, le=100_000, description="trials per fold")
    folds: int = Field(3, ge=1, le=50, description="walk-forward folds")
    in_sample_ratio: float = Field(0.75, gt=0, lt=1, allow_inf_nan=False, description=(
        "share of each fold's window its parameters are chosen on; the rest scores them"))
    decide_every: Annotated[timedelta | None, BeforeValidator(_duration)] = Field(
        None, description="the backtests' decision cadence, e.g. 15m")

    @model_validator(mode="after")
    def _paths(self) -> OptimizeSection:
        for path in self.space:
            parts = path.split(".")
            if not all(part.isidentifier() for part in parts):
                raise ValueError(f"space: {path!r} is not a dotted field name")
            if parts[0] in FORBIDDEN_ROOTS:
                raise ValueError(f"space: {path!r}: the {parts[0]} section is not searched")
        return self


class Suggester(Protocol):
    """The part of an Optuna trial a search space uses."""

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int: ...

    def suggest_float(self, name: str, low: float, high: float, *,
                      step: float | None = None, log: bool = False) -> float: ...

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


def suggest(space: dict[str, Parameter], trial: Suggester) -> dict[str, Scalar]:
    """One value per dotted field, drawn by ``trial``; floats kept to 6 significant
    digits, so the file written later holds what was tested."""
    values: dict[str, Scalar] = {}
    for path, parameter in space.items():
        if isinstance(parameter, IntRange):
            values[path] = trial.suggest_int(path, parameter.low, parameter.high,
                                             step=parameter.step)
        elif isinstance(parameter, FloatRange):
            drawn = trial.suggest_float(path, parameter.low, parameter.high,
                                        step=parameter.step)
            values[path] = float(f"{drawn:.6g}")
        elif isinstance(parameter, LogRange):
            drawn = trial.suggest_float(path, parameter.low, parameter.high, log=True)
            values[path] = float(f"{drawn:.6g}")
        else:
            values[path] = trial.suggest_categorical(path, parameter.choices)
    return values


def apply(data: dict[str, Any], values: dict[str, Scalar]) -> dict[str, Any]:
    """A copy of the mapping ``data`` with each dotted field set (sections created as
    needed); the rest of the mapping is untouched."""
    result = _copy(data)
    for path, value in values.items():
        *sections, leaf = path.split(".")
        node = result
        for section in sections:
            child = node.get(section)
            if not isinstance(child, dict):
                child = node[section] = {}
            node = child
        node[leaf] = value
    return result


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return {key: _copy(value) if isinstance(value, dict) else value
            for key, value in data.items()}
