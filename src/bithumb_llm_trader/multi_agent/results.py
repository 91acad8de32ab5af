"""What a portfolio cycle returns: each strategy's result, and the money by strategy and in all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain import ZERO, average_price
from ..engine import CycleResult, jsonable
from .capital import Valuation
from .settlement import Settlement, share_summary


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionValue:
    """One coin held, at its average buy price and valued at the cycle's price."""

    currency: str
    size: Decimal
    avg_buy_price: Decimal
    price_krw: Decimal | None
    value_krw: Decimal | None


def plain(value: Decimal) -> Decimal:
    """``value`` without trailing fractional zeros (``0E-16`` becomes ``0``), for reading."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def positions_of(valuation: Valuation) -> tuple[PositionValue, ...]:
    return tuple(
        PositionValue(currency=h.currency, size=h.size, avg_buy_price=h.avg_buy_price,
                      price_krw=h.price_krw, value_krw=h.value_krw)
        for h in valuation.positions
    )


def total_positions(groups: Iterable[tuple[PositionValue, ...]]) -> tuple[PositionValue, ...]:
    """Positions summed by coin; the average price weighted by what each lot cost."""
    merged: dict[str, list[PositionValue]] = {}
    for group in groups:
        for position in group:
            merged.setdefault(position.currency, []).append(position)
    totals = []
    for currency, lots in sorted(merged.items()):
        size = sum((p.size for p in lots), ZERO)
        cost = sum((p.size * p.avg_buy_price for p in lots), ZERO)
        values = [p.value_krw for p in lots]
        totals.append(PositionValue(
            currency=currency, size=size, avg_buy_price=average_price(cost, size) or ZERO,
            price_krw=lots[0].price_krw,
            value_krw=None if None in values else sum((v or ZERO for v in values), ZERO),
        ))
    return tuple(totals)


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyCycleResult:
    """One strategy's cycle (the engine's result) or why it did not run, and its money.

    ``status`` is ``ok``, ``failed`` (the cycle failed, or the strategy file did not
    load) or ``skipped`` (the portfolio could not start the cycle).
    """

    strategy: str
    status: str
    weight: Decimal
    source: str | None = None
    cycle: CycleResult | None = None
    error: str | None = None
    slice_krw: Decimal | None = None
    committed_krw: Decimal = ZERO
    cash_krw: Decimal | None = None
    positions: tuple[PositionValue, ...] = ()
    equity_krw: Decimal | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True, slots=True, kw_only=True)
class NettingReport:
    """One market's netting: the internal cross, the one order sent, and who got what."""

    netting_id: str
    market: str
    cross_price: Decimal
    active_side: str
    cross_volume: Decimal
    status: str
    client_order_id: str | None
    external_amount: Decimal
    filled_volume: Decimal
    filled_funds: Decimal
    fee: Decimal
    reason: str | None = None
    error: str | None = None
    shares: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, settlement: Settlement) -> NettingReport:
        plan, external = settlement.plan, settlement.external
        return cls(
            netting_id=plan.netting_id, market=str(plan.market), cross_price=plan.price,
            active_side=plan.active_side.name.lower(), cross_volume=plan.cross_volume,
            status=settlement.status,
            client_order_id=plan.netting_id if plan.sends_order else None,
            external_amount=plan.external_amount, filled_volume=external.volume,
            filled_funds=external.funds, fee=external.fee, reason=plan.reason,
            error=settlement.error,
            shares=tuple(share_summary(share) for share in settlement.shares),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioCycleResult:
    """The outcome of one portfolio cycle.

    ``status``: ``ok`` when every strategy's cycle is ok, ``partial`` when some failed,
    ``failed`` when the portfolio itself could not run the cycle. ``equity_krw`` sums
    the ledgers; ``account_equity_krw`` is the exchange account, and the difference,
    ``unallocated_krw``, is what no strategy owns (unassigned weight, dust).
    """

    run_id: str
    portfolio: str
    mode: str
    status: str
    started_at: datetime
    finished_at: datetime
    strategies: tuple[StrategyCycleResult, ...]
    netting: tuple[NettingReport, ...] = ()
    settled_earlier: tuple[NettingReport, ...] = ()
    halted: bool = False
    halt_reasons: tuple[str, ...] = ()
    cash_krw: Decimal | None = None
    positions: tuple[PositionValue, ...] = ()
    equity_krw: Decimal | None = None
    account_equity_krw: Decimal | None = None
    unallocated_krw: Decimal | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def strategy(self, name: str) -> StrategyCycleResult | None:
        return next((s for s in self.strategies if s.strategy == name), None)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = jsonable(self)
        return result

    def summary(self) -> dict[str, Any]:
        """The result without each engine's steps: small enough for one database row."""
        data = self.to_dict()
        for strategy in data["strategies"]:
            cycle = strategy.pop("cycle", None)
            strategy["run_id"] = cycle["run_id"] if cycle else None
        return data
