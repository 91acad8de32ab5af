"""What a cycle returns: its steps in order and the figures an operator reads first."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

from ..fast_init import fast_init

_AS_IS = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Turn results into JSON-ready data: Decimals as strings (exact), times in ISO."""
    kind = type(value)  # exact types first: a cycle result is mostly these (backtest speed)
    if kind in _AS_IS:
        return value
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, BaseModel):
        return jsonable(value.model_dump())
    if isinstance(value, CycleResult):  # its summaries are properties, not fields
        return value.to_dict()
    to_json = getattr(value, "__json__", None)
    if to_json is not None:
        return jsonable(to_json())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    return value


@fast_init
@dataclasses.dataclass(frozen=True, slots=True)
class StepResult:
    """One named step: ok, skipped (with why) or failed (with the error)."""

    name: str
    status: str
    duration_ms: float
    detail: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CycleResult:
    """The outcome of one trading cycle of one strategy.

    ``decision``, ``verdict``, ``allocation`` and ``execution`` are JSON-ready dicts,
    built from ``parts`` the first time they are read: a backtest runs tens of
    thousands of cycles whose results nobody prints, and converting them eagerly was
    a third of a cycle's cost.

    ``cash_krw`` and ``position_size`` are the account when the cycle took its snapshot,
    before any trade (also given as ``cash_krw_before`` / ``position_size_before``);
    ``cash_krw_after`` and ``position_size_after`` add this cycle's fills and fees.
    """

    run_id: str
    strategy: str
    market: str
    mode: str
    status: str  # ok or failed
    started_at: datetime
    finished_at: datetime
    steps: tuple[StepResult, ...]
    error: str | None = None
    trading_state: str | None = None
    equity_krw: Decimal | None = None
    reserved_pool_krw: Decimal | None = None
    cash_krw: Decimal | None = None
    position_size: Decimal | None = None
    last_price: Decimal | None = None
    cash_krw_after: Decimal | None = None
    position_size_after: Decimal | None = None
    warnings: tuple[str, ...] = ()
    parts: Mapping[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def cash_krw_before(self) -> Decimal | None:
        return self.cash_krw

    @property
    def position_size_before(self) -> Decimal | None:
        return self.position_size

    def step(self, name: str) -> StepResult | None:
        return next((s for s in self.steps if s.name == name), None)

    @functools.cached_property
    def decision(self) -> dict[str, Any] | None:
        return self._part("decision")

    @functools.cached_property
    def verdict(self) -> dict[str, Any] | None:
        return self._part("verdict")

    @functools.cached_property
    def allocation(self) -> dict[str, Any] | None:
        return self._part("allocation")

    @functools.cached_property
    def execution(self) -> dict[str, Any] | None:
        return self._part("execution")

    def _part(self, name: str) -> dict[str, Any] | None:
        value = self.parts.get(name)
        return None if value is None else dict(jsonable(value))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            f.name: jsonable(getattr(self, f.name))
            for f in dataclasses.fields(self) if f.name != "parts"
        }
        for name in _PARTS:
            data[name] = getattr(self, name)
        data["cash_krw_before"] = data["cash_krw"]
        data["position_size_before"] = data["position_size"]
        return data


_PARTS = ("decision", "verdict", "allocation", "execution")
