"""Profit and loss and the equity curve: the two figures that need rows in time order.

FIFO matching runs over every fill of a strategy up to the end of the period, because a
sell inside the period may close a lot bought before it; only the period's sells count
towards realised PnL. Paper and live fills are matched in separate books (a paper sell
never closes a real purchase), and so are markets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain import ZERO, Side
from .model import EquitySummary, PnlSummary
from .stats import KRW_STEP, FifoBook, equity_summary, quantize

BUY = Side.BUY.value
PricePoint = tuple[Decimal, datetime]
"""A last snapshot price and when it was taken."""


@dataclass(frozen=True, slots=True)
class StrategyPnl:
    """One strategy's PnL before fees, already rounded to 0.01 KRW."""

    realised: Decimal
    unrealised: Decimal
    open_volume: Mapping[str, Decimal]
    unmatched: Decimal


def fifo_pnl(
    fills: Iterable[Sequence[Any]],
    last_prices: Mapping[tuple[str, str], PricePoint],
) -> dict[str, StrategyPnl]:
    """Realised and unrealised PnL per strategy.

    Args:
        fills: rows of ``queries.fills_scan_stmt`` (strategy, market, dry_run, side,
            volume, funds, fee, in_period, via_twap) with amounts as Decimal, in time
            order within each strategy and market, up to the period's end.
        last_prices: the last snapshot price per (strategy, market).
    """
    books: dict[str, dict[tuple[str, bool], FifoBook]] = {}
    for strategy, market, dry_run, side, volume, funds, _, in_period, _ in fills:
        by_market = books.get(strategy) or books.setdefault(strategy, {})
        key = (market, bool(dry_run))
        book = by_market.get(key) or by_market.setdefault(key, FifoBook())
        if side == BUY:
            book.buy(volume, funds)
        else:
            book.sell(volume, funds, counted=bool(in_period))
    return {
        strategy: _strategy_pnl(strategy, by_market, last_prices)
        for strategy, by_market in books.items()
    }


def _strategy_pnl(
    strategy: str,
    books: Mapping[tuple[str, bool], FifoBook],
    last_prices: Mapping[tuple[str, str], PricePoint],
) -> StrategyPnl:
    realised = unrealised = unmatched = ZERO
    open_volume: dict[str, Decimal] = {}
    for (market, _), book in books.items():
        point = last_prices.get((strategy, market))
        realised += book.realised
        unrealised += book.unrealised(point[0] if point else None)
        unmatched += book.unmatched
        if book.open_volume > 0:
            open_volume[market] = open_volume.get(market, ZERO) + book.open_volume
    return StrategyPnl(
        realised=quantize(realised, KRW_STEP),
        unrealised=quantize(unrealised, KRW_STEP),
        open_volume=dict(sorted(open_volume.items())),
        unmatched=unmatched,
    )


def pnl_summary(
    parts: Iterable[StrategyPnl],
    fees_krw: Decimal,
    last_prices: Mapping[str, Decimal],
) -> PnlSummary:
    """Add up strategies' PnL (rounded figures, so the total is their visible sum)."""
    realised = unrealised = unmatched = ZERO
    open_volume: dict[str, Decimal] = {}
    for part in parts:
        realised += part.realised
        unrealised += part.unrealised
        unmatched += part.unmatched
        for market, volume in part.open_volume.items():
            open_volume[market] = open_volume.get(market, ZERO) + volume
    return PnlSummary(
        realised_krw=realised,
        unrealised_krw=unrealised,
        fees_krw=fees_krw,
        net_krw=realised + unrealised - fees_krw,
        open_volume=dict(sorted(open_volume.items())),
        last_price=dict(sorted(last_prices.items())),
        unmatched_sell_volume=unmatched,
    )


def latest_prices(
    points: Mapping[tuple[str, str], PricePoint], strategies: Iterable[str]
) -> dict[str, Decimal]:
    """Per market, the most recent snapshot price among ``strategies``."""
    wanted = set(strategies)
    best: dict[str, PricePoint] = {}
    for (strategy, market), point in points.items():
        if strategy in wanted and (market not in best or point[1] > best[market][1]):
            best[market] = point
    return {market: point[0] for market, point in best.items()}


def equity_curves(
    rows: Iterable[Sequence[Any]],
) -> dict[str, dict[str, tuple[tuple[datetime, Decimal], ...]]]:
    """Rows: mode, strategy, started_at, equity (in time order) as one curve per mode and
    strategy: a dry and a live run of one strategy are two accounts, never one line."""
    curves: dict[str, dict[str, list[tuple[datetime, Decimal]]]] = {}
    for mode, strategy, started_at, equity in rows:
        curves.setdefault(mode, {}).setdefault(strategy, []).append((started_at, equity))
    return {mode: {strategy: tuple(points) for strategy, points in by_strategy.items()}
            for mode, by_strategy in curves.items()}


def total_equity(summaries: Sequence[EquitySummary]) -> EquitySummary:
    """One strategy's summary as it is; for several, summed ends and no drawdown."""
    present = [s for s in summaries if s.samples]
    if len(summaries) == 1 or not present:
        return summaries[0] if summaries else equity_summary([])
    start = sum((s.start_krw or ZERO for s in present), ZERO)
    end = sum((s.end_krw or ZERO for s in present), ZERO)
    return EquitySummary(
        samples=sum(s.samples for s in present), start_krw=start, end_krw=end,
        change_krw=end - start, max_drawdown_krw=None, max_drawdown_pct=None,
    )
