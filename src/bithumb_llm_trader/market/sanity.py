"""Fail closed on market data that cannot be true, before anything is computed from it.

A ticker of zero or minus sixty million, a crossed book, a ticker ten times below the
book, an empty or stale candle series: each would otherwise flow into features, equity
and sizing, and from there into an order. ``check_market_data`` looks at the raw inputs
of one snapshot and raises ``MarketDataRejected`` with a machine-readable ``reason``;
it does no I/O and reads no clock (the snapshot's ``taken_at`` is passed in).

Reasons: ``price_not_finite``, ``price_not_positive``, ``size_invalid``,
``empty_book_side``, ``book_out_of_order``, ``crossed_book``, ``ticker_off_book``,
``no_candles``, ``candles_out_of_order``, ``candles_misaligned``, ``stale_candles``,
``balance_invalid``.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import chain, pairwise

from ..domain import ZERO, Balance, Candle, CandleInterval, Orderbook, Ticker
from ..errors import MarketDataRejected

REASONS = frozenset({
    "price_not_finite", "price_not_positive", "size_invalid", "empty_book_side",
    "book_out_of_order", "crossed_book", "ticker_off_book", "no_candles",
    "candles_out_of_order", "candles_misaligned", "stale_candles", "balance_invalid",
})
"""Every ``MarketDataRejected.reason`` this module raises."""

STALE_AFTER_INTERVALS = 2
"""The newest candle may start at most this many intervals before the snapshot: one
missing candle (a quiet minute) is normal, two in a row at the end means a frozen feed."""

_MEAN_MONTH = timedelta(days=365.2425 / 12)
_MONTH_SLACK = timedelta(days=3)
"""Monthly candles are calendar months (28 to 31 days), so they are spaced by whole
months within a few days rather than by an exact duration."""

_OHLC = operator.attrgetter("open", "high", "low", "close")
_VOLUME = operator.attrgetter("volume")
_START = operator.attrgetter("start")


def check_market_data(
    *,
    taken_at: datetime,
    ticker: Ticker,
    orderbook: Orderbook,
    candles: Sequence[Candle],
    balances: Iterable[Balance],
    interval: CandleInterval,
    max_ticker_deviation: Decimal,
    prices_krw: Mapping[str, Decimal] | None = None,
) -> None:
    """Refuse a snapshot's raw inputs unless every check passes.

    Args:
        taken_at: the instant the snapshot describes; candles are judged stale against it.
        ticker, orderbook: of the traded market.
        candles: as fetched, oldest first; those opening after ``taken_at`` are allowed
            (they opened while the requests were in flight) but must keep the order.
        balances: the account's balances.
        interval: the candles' interval, for their spacing and staleness.
        max_ticker_deviation: the largest ``|last - mid| / mid`` accepted (0.02 = 2%).
        prices_krw: KRW prices of other held coins, which value the account.

    Raises:
        MarketDataRejected: the first failed check, with its ``reason``.
    """
    check_orderbook(orderbook)
    check_ticker(ticker, orderbook, max_ticker_deviation)
    check_candles(candles, interval, taken_at)
    check_balances(balances)
    for coin, price in (prices_krw or {}).items():
        _check_prices([price], f"the KRW price of {coin}")


def check_orderbook(orderbook: Orderbook) -> None:
    """Both sides present, prices finite and positive, sizes finite and not negative,
    each side sorted best first, and the best bid strictly below the best ask."""
    where = f"orderbook of {orderbook.market}"
    for name, levels in (("bids", orderbook.bids), ("asks", orderbook.asks)):
        if not levels:
            raise MarketDataRejected("empty_book_side", f"{where} has no {name}")
        prices = [level.price for level in levels]
        _check_prices(prices, f"{where} {name}")
        _check_amounts([level.size for level in levels], "size_invalid", f"{where} {name}")
        if prices != sorted(prices, reverse=name == "bids"):
            raise MarketDataRejected("book_out_of_order",
                                     f"{where}: {name} are not sorted best first")
    best_bid, best_ask = orderbook.bids[0].price, orderbook.asks[0].price
    if best_bid >= best_ask:
        raise MarketDataRejected(
            "crossed_book", f"{where}: best bid {best_bid} >= best ask {best_ask}")


def check_ticker(ticker: Ticker, orderbook: Orderbook, max_deviation: Decimal) -> None:
    """The last price is finite, positive, and within ``max_deviation`` of the book mid.

    The book is what an order trades against; a last price far from it is a stale or
    garbled ticker, and would size orders and trigger stops at a price nobody can get.
    ``orderbook`` must have passed ``check_orderbook``.
    """
    last = ticker.last_price
    _check_prices([last], f"ticker of {ticker.market}")
    mid = (orderbook.bids[0].price + orderbook.asks[0].price) / 2
    if abs(last - mid) > mid * max_deviation:
        deviation = abs(last - mid) / mid
        raise MarketDataRejected(
            "ticker_off_book",
            f"last price {last} is {deviation:.2%} from the book mid {mid}"
            f" (limit {max_deviation:.2%})")


def check_candles(candles: Sequence[Candle], interval: CandleInterval,
                  taken_at: datetime) -> None:
    """Not empty, prices finite and positive, volumes not negative, starts strictly
    increasing and spaced by whole intervals, and the newest one not stale.

    A gap of several intervals is accepted: exchanges skip candles in which nothing
    traded. A repeated, reversed or off-grid start is refused.
    """
    if not candles:
        raise MarketDataRejected("no_candles", f"no {interval.value} candles")
    # attrgetter and chain iterate in C: this runs every cycle over hundreds of candles
    prices = list(chain.from_iterable(map(_OHLC, candles)))
    _check_prices(prices, f"{interval.value} candles")
    _check_amounts(list(map(_VOLUME, candles)), "size_invalid",
                   f"{interval.value} candle volumes")
    _check_spacing(list(map(_START, candles)), interval)
    _check_fresh(candles, interval, taken_at)


def check_balances(balances: Iterable[Balance]) -> None:
    """Every free, locked and average-price amount finite and not negative."""
    for b in balances:
        _check_amounts([b.balance, b.locked, b.avg_buy_price], "balance_invalid",
                       f"balance of {b.currency}")


def _check_prices(prices: Sequence[Decimal], what: str) -> None:
    if not all(map(Decimal.is_finite, prices)):
        bad = next(p for p in prices if not p.is_finite())
        raise MarketDataRejected("price_not_finite", f"{what}: price {bad}")
    lowest = min(prices)
    if lowest <= ZERO:
        raise MarketDataRejected("price_not_positive", f"{what}: price {lowest}")


def _check_amounts(amounts: Sequence[Decimal], reason: str, what: str) -> None:
    if not all(map(Decimal.is_finite, amounts)):
        bad = next(a for a in amounts if not a.is_finite())
        raise MarketDataRejected(reason, f"{what}: {bad}")
    lowest = min(amounts)
    if lowest < ZERO:
        raise MarketDataRejected(reason, f"{what}: {lowest}")


def _check_spacing(starts: Sequence[datetime], interval: CandleInterval) -> None:
    step = interval.duration
    if set(map(operator.sub, starts[1:], starts)) <= {step}:
        return  # the common case, no gap at all: one pass in C
    for before, after in pairwise(starts):
        gap = after - before
        if gap <= timedelta(0):
            kind = "repeated" if gap == timedelta(0) else "out of order"
            raise MarketDataRejected(
                "candles_out_of_order",
                f"{interval.value} candle at {after.isoformat()} is {kind}"
                f" (after {before.isoformat()})")
        if not _whole_intervals(gap, interval, step):
            raise MarketDataRejected(
                "candles_misaligned",
                f"{interval.value} candles at {before.isoformat()} and {after.isoformat()}"
                f" are {gap} apart, not a whole number of intervals")


def _whole_intervals(gap: timedelta, interval: CandleInterval, step: timedelta) -> bool:
    if interval is not CandleInterval.MO1:
        return gap % step == timedelta(0)
    months = round(gap / _MEAN_MONTH)
    return months >= 1 and abs(gap - months * _MEAN_MONTH) <= _MONTH_SLACK


def _check_fresh(candles: Sequence[Candle], interval: CandleInterval,
                 taken_at: datetime) -> None:
    """The newest candle that opened by ``taken_at`` is at most two intervals old."""
    newest = next((c.start for c in reversed(candles) if c.start <= taken_at), None)
    if newest is None:
        raise MarketDataRejected(
            "no_candles", f"every {interval.value} candle opens after {taken_at.isoformat()}")
    age = taken_at - newest
    if age > STALE_AFTER_INTERVALS * interval.duration:
        raise MarketDataRejected(
            "stale_candles",
            f"newest {interval.value} candle opened at {newest.isoformat()},"
            f" {age} before the snapshot at {taken_at.isoformat()}")
