"""The portfolio's capital at the start of a cycle: prices, equity, slices, commitments.

Pure functions and one price read. A strategy's SLICE is its weight times the
account's equity; it may hold coins and cash up to that, so its free cash is capped at
the slice minus its coins. A new strategy's ledger is seeded with its slice in KRW out
of the cash no ledger owns yet. TWAP commitments are the unsent part of running buy
TWAPs, which every other strategy counts as spent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..config import RiskConfig
from ..domain import ZERO, Balance, Market, Side, round_krw
from ..market import Holding, estimate_total_krw
from ..market.sanity import check_orderbook, check_ticker
from ..records import TwapRunRecord, TwapSliceRecord
from ..risk import RiskState, assess_state
from .config import PortfolioConfig
from .market_cache import SharedMarketData

KRW = "KRW"
ACTIVE_TWAP_STATES = frozenset({"planned", "running"})
UNSENT_SLICE_STATES = frozenset({"planned"})


@dataclass(frozen=True, slots=True)
class Valuation:
    """Balances valued in KRW: cash, each coin, and the total."""

    cash_krw: Decimal
    coins_krw: Decimal
    equity_krw: Decimal
    holdings: tuple[Holding, ...]
    unpriced: tuple[str, ...] = ()

    @property
    def positions(self) -> tuple[Holding, ...]:
        return tuple(h for h in self.holdings if h.currency != KRW)


def value(balances: Iterable[Balance], prices: Mapping[str, Decimal]) -> Valuation:
    """Cash (free and locked KRW), coins at ``prices``, and their sum."""
    estimate = estimate_total_krw(balances, prices)
    cash = sum((h.size for h in estimate.holdings if h.currency == KRW), ZERO)
    return Valuation(cash_krw=cash, coins_krw=estimate.equity_krw - cash,
                     equity_krw=estimate.equity_krw, holdings=estimate.holdings,
                     unpriced=estimate.unpriced)


async def read_prices(data: SharedMarketData, currencies: Iterable[str],
                      max_deviation: Callable[[str], Decimal]) -> dict[str, Decimal]:
    """KRW prices of ``currencies`` in one ticker request, remembered for the cycle,
    each checked against its coin's book before it values anything.

    The prices size every strategy's slice, so one bad print must not pass: each
    ticker is held against its book (fetched through the cycle's cache, where the
    strategies' snapshots find it again), within ``max_deviation(coin)`` of the mid,
    as a strategy's own snapshot is.

    Raises:
        MarketDataRejected: a book that cannot be true, or a price too far from it
            (the portfolio cycle does not start: nothing trades on it).
    """
    listed = {market.base for market in await data.markets() if market.quote == KRW}
    wanted = sorted({c for c in currencies if c != KRW and c in listed})
    if not wanted:
        return {}
    markets = [Market(KRW, coin) for coin in wanted]
    # Together: the books cost no round trip more than the tickers alone.
    asked_books = asyncio.gather(*(data.orderbook(market) for market in markets))
    answered, books = await asyncio.gather(data.tickers(markets), asked_books)
    by_market = {ticker.market: ticker for ticker in answered}
    for market, book in zip(markets, books, strict=True):
        ticker = by_market.get(market)
        if ticker is not None:
            check_orderbook(book)
            check_ticker(ticker, book, max_deviation(market.base))
    data.prime_tickers(answered)
    return {ticker.market.base: ticker.last_price for ticker in answered
            if ticker.market.quote == KRW}


def slice_krw(weight: Decimal, account_equity: Decimal) -> Decimal:
    return round_krw(weight * max(account_equity, ZERO))


def over_slice(slice_value: Decimal, ledger: Valuation, free_krw: Decimal) -> Decimal:
    """Free KRW of a ledger beyond what its slice leaves after its coins.

    The strategy counts it as committed elsewhere, so it sizes within its slice while
    its equity (and so its PnL and its daily loss) stays its ledger's own.
    """
    room = max(slice_value - ledger.coins_krw, ZERO)
    return max(free_krw - room, ZERO)


def seed_amounts(
    new_members: Sequence[tuple[str, Decimal]],
    *,
    account_equity: Decimal,
    unowned_krw: Decimal,
) -> dict[str, Decimal]:
    """KRW for each new ledger: its slice, while cash no ledger owns lasts (in order)."""
    left = max(unowned_krw, ZERO)
    seeds = {}
    for name, weight in new_members:
        amount = min(slice_krw(weight, account_equity), round_krw(left))
        seeds[name] = amount
        left -= amount
    return seeds


def twap_remainders(
    runs: Iterable[TwapRunRecord],
    slices_of: Callable[[str], list[TwapSliceRecord]],
    *,
    dry_run: bool,
) -> dict[str, Decimal]:
    """Unsent KRW of active buy TWAPs of the same mode, by the strategy running each."""
    remainders: dict[str, Decimal] = {}
    for run in runs:
        if run.side != Side.BUY.value or run.dry_run != dry_run:
            continue
        if run.status not in ACTIVE_TWAP_STATES:
            continue
        amount = _unsent_krw(run, slices_of(run.twap_run_id))
        remainders[run.strategy] = remainders.get(run.strategy, ZERO) + amount
    return remainders


def _unsent_krw(run: TwapRunRecord, slices: Sequence[TwapSliceRecord]) -> Decimal:
    price = run.limit_price or run.arrival_price or run.avg_price or ZERO
    if slices:
        unsent = ZERO
        for planned in slices:
            if planned.status not in UNSENT_SLICE_STATES:
                continue
            if planned.planned_notional is not None:
                unsent += planned.planned_notional
            elif planned.planned_volume is not None:
                unsent += planned.planned_volume * price
        return unsent
    if run.total_notional is not None:
        return max(run.total_notional - run.filled_funds, ZERO)
    if run.total_volume is not None:
        return max(run.total_volume - run.filled_volume, ZERO) * price
    return ZERO


def committed_for(strategy: str, remainders: Mapping[str, Decimal]) -> Decimal:
    """What the OTHER strategies' TWAPs have yet to spend."""
    return sum((amount for owner, amount in remainders.items() if owner != strategy), ZERO)


def assess_halt(
    config: PortfolioConfig,
    *,
    equity_krw: Decimal,
    day_start_equity: Decimal | None,
    kill_switch: bool,
    now: datetime,
) -> RiskState:
    """The portfolio's own trading state: its kill switch and its daily loss limit."""
    limits = RiskConfig(daily_loss_limit_pct=config.daily_loss_limit_pct,
                        daily_loss_limit_krw=config.daily_loss_limit_krw,
                        kill_switch_file=None)
    return assess_state(limits, equity_krw=equity_krw, day_start_equity=day_start_equity,
                        kill_switch=kill_switch, last_trade_at=None, now=now)


def exposure_scale(
    buys_krw: Decimal, sells_krw: Decimal, *, headroom_krw: Decimal
) -> Decimal:
    """The factor (at most 1) that keeps coins held within the gross exposure limit.

    ``headroom_krw`` is the limit minus the coins held at the cycle's start; sells this
    cycle free room for buys.
    """
    if buys_krw <= 0:
        return Decimal(1)
    room = max(headroom_krw + sells_krw, ZERO)
    return min(room / buys_krw, Decimal(1))
