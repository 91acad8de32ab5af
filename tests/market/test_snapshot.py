"""collect_snapshot against a fake exchange; snapshot_from_parts without I/O."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config.models import StrategyConfig
from bithumb_llm_trader.domain import (
    Balance,
    Candle,
    CandleInterval,
    Market,
    Orderbook,
    OrderChance,
    Ticker,
)
from bithumb_llm_trader.errors import NetworkError
from bithumb_llm_trader.market import (
    FeatureParams,
    InvalidOrderbook,
    MarketSnapshot,
    collect_snapshot,
    compute_features,
    snapshot_from_parts,
)

from ._factories import (
    KRW_BTC,
    T0,
    balance,
    book,
    candle,
    flat_candles,
    order_chance,
    ticker,
)

CONFIG = StrategyConfig.model_validate({
    "strategy": {"candle_interval": "1m", "candle_count": 40, "book_levels": 2,
                 "depth_bps": "200"},
    "allocation": {"reserved_pool_pct": "0.25"},
})
NOW = T0 + timedelta(minutes=60)
ASKS = [("100", "1"), ("101", "2")]
BIDS = [("99", "3"), ("98", "1")]
LISTED = [KRW_BTC, Market("KRW", "ETH"), Market("KRW", "XRP"), Market("BTC", "DOGE")]


@dataclass
class FakeExchange:
    """Answers after ``await clock.sleep(delay)`` and records how calls overlapped."""

    clock: ManualClock
    balances: list[Balance]
    candles_answer: list[Candle]
    delay: float = 0.05
    fail: str | None = None
    calls: list[str] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    in_flight_at_start: dict[str, int] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    tickers_asked: list[list[Market]] = field(default_factory=list)

    async def _call(self, name: str) -> None:
        self.calls.append(name)
        self.in_flight += 1
        self.in_flight_at_start[name] = self.in_flight
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self.clock.sleep(self.delay)
            if name == self.fail:
                raise NetworkError(f"{name} timed out")
            if self.fail is not None:
                await asyncio.Event().wait()  # hangs until cancelled
        except asyncio.CancelledError:
            self.cancelled.append(name)
            raise
        finally:
            self.in_flight -= 1

    async def markets(self) -> list[Market]:
        await self._call("markets")
        return list(LISTED)

    async def ticker(self, market: Market) -> Ticker:
        await self._call("ticker")
        return ticker("100", market)

    async def tickers(self, markets: Sequence[Market]) -> list[Ticker]:
        await self._call("tickers")
        self.tickers_asked.append(list(markets))
        prices = {"ETH": "4000", "XRP": "1000"}
        return [ticker(prices[m.base], m) for m in markets]

    async def orderbook(self, market: Market) -> Orderbook:
        await self._call("orderbook")
        return book(ASKS, BIDS, market)

    async def candles(self, market: Market, interval: CandleInterval, count: int,
                      to: datetime | None = None) -> list[Candle]:
        await self._call(f"candles:{interval.value}:{count}")
        return list(self.candles_answer)

    async def accounts(self) -> list[Balance]:
        await self._call("accounts")
        return list(self.balances)

    async def order_chance(self, market: Market) -> OrderChance:
        await self._call("order_chance")
        return order_chance(market)


FIRST_ROUND = {"markets", "ticker", "orderbook", "candles:1m:40", "accounts", "order_chance"}


def collect(exchange: FakeExchange) -> MarketSnapshot:
    return asyncio.run(collect_snapshot(exchange, CONFIG, exchange.clock))


def test_first_round_is_concurrent_and_no_second_round_without_other_coins() -> None:
    clock = ManualClock(NOW)
    exchange = FakeExchange(clock, [balance("KRW", "1000"), balance("BTC", "2", avg="90")],
                            flat_candles(50, start=NOW - timedelta(minutes=49)))
    snapshot = collect(exchange)
    assert set(exchange.calls) == FIRST_ROUND and len(exchange.calls) == 6
    assert exchange.max_in_flight == 6  # all six were waiting at the same time
    assert exchange.in_flight_at_start == {name: i + 1 for i, name in
                                           enumerate(exchange.calls)}
    assert clock.sleeps == [0.05] * 6
    assert snapshot.taken_at == NOW  # read before the I/O moved the clock
    assert snapshot.market == KRW_BTC
    assert snapshot.account.equity_krw == Decimal(1200)  # 1,000 + 2 x 100
    assert snapshot.account.reserved_pool_krw == Decimal(300)
    assert snapshot.position.size == 2


def test_second_round_prices_other_held_coins_with_a_krw_market() -> None:
    clock = ManualClock(NOW)
    balances = [balance("KRW", "1000"), balance("BTC", "1"), balance("XRP", "2"),
                balance("ETH", "0.5", locked="0.5"), balance("DOGE", "100"),
                balance("SOL", "0")]
    exchange = FakeExchange(clock, balances, flat_candles(10, start=NOW - timedelta(minutes=9)))
    snapshot = collect(exchange)
    assert len(exchange.calls) == 7 and exchange.calls[-1] == "tickers"
    assert exchange.in_flight_at_start["tickers"] == 1  # after the first round ended
    # one call, for the held coins listed against KRW; DOGE only trades against BTC
    assert exchange.tickers_asked == [[Market("KRW", "ETH"), Market("KRW", "XRP")]]
    # 1,000 + BTC 1 x 100 + ETH 1 x 4,000 + XRP 2 x 1,000
    assert snapshot.account.equity_krw == Decimal(7100)
    assert snapshot.account.unpriced == ("DOGE",)


def test_held_coins_without_krw_market_need_no_second_round() -> None:
    clock = ManualClock(NOW)
    exchange = FakeExchange(clock, [balance("KRW", "1000"), balance("DOGE", "100")],
                            flat_candles(10, start=NOW - timedelta(minutes=9)))
    snapshot = collect(exchange)
    assert "tickers" not in exchange.calls
    assert snapshot.account.unpriced == ("DOGE",)


def test_candles_after_taken_at_are_dropped() -> None:
    clock = ManualClock(NOW)
    past = [candle(i, "101", "99", str(100 + i % 3)) for i in range(60)]  # up to NOW - 1m
    current = candle(60, "105", "95", "103")  # starts exactly at NOW: kept
    future = [candle(61, "200", "1", "150"), candle(62, "200", "1", "160")]
    # oldest first, as every MarketData source returns them (the client sorts the wire's
    # newest-first pages); a reversed series is refused by the sanity check
    answer = [*past, current, *future]
    exchange = FakeExchange(clock, [balance("KRW", "1000")], answer)
    snapshot = collect(exchange)
    kept = (*past, current)
    assert snapshot.candles == kept
    assert snapshot.features == compute_features(kept, FeatureParams.from_config(CONFIG.strategy))
    assert snapshot.features.close == 103.0


def test_a_failed_call_cancels_the_others_and_propagates() -> None:
    clock = ManualClock(NOW)
    exchange = FakeExchange(clock, [balance("KRW", "1000")], [], fail="orderbook")

    async def run() -> set[asyncio.Task[object]]:
        with pytest.raises(NetworkError, match="orderbook timed out"):
            await collect_snapshot(exchange, CONFIG, clock)
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    assert asyncio.run(run()) == set()  # nothing left running
    assert sorted(exchange.cancelled) == sorted(FIRST_ROUND - {"orderbook"})
    assert exchange.in_flight == 0


def parts(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "taken_at": NOW,
        "ticker": ticker("100"),
        "orderbook": book(ASKS, BIDS),
        "candles": flat_candles(5, start=NOW - timedelta(minutes=4)),
        "balances": [balance("KRW", "1000"), balance("BTC", "1")],
        "order_chance": order_chance(),
    }
    values.update(overrides)
    return values


def test_snapshot_from_parts_prices_the_traded_coin_at_the_ticker() -> None:
    snapshot = snapshot_from_parts(CONFIG, **parts(), prices_krw={"BTC": Decimal(1)})  # type: ignore[arg-type]
    assert snapshot.account.equity_krw == Decimal(1100)  # the ticker's 100 wins
    assert snapshot.last_price == Decimal(100)
    assert snapshot.book.mid == Decimal("99.5") and snapshot.book.levels == 2
    assert snapshot.book.depth_bps == Decimal(200)
    assert snapshot.features.count == 5


def test_snapshot_from_parts_uses_given_features_unchanged() -> None:
    given = compute_features(flat_candles(100), FeatureParams())
    snapshot = snapshot_from_parts(CONFIG, **parts(), features=given)  # type: ignore[arg-type]
    assert snapshot.features is given


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"taken_at": NOW.replace(tzinfo=None)}, "timezone-aware"),
        ({"ticker": ticker("100", Market("KRW", "ETH"))}, "ticker is for KRW-ETH"),
        ({"orderbook": book(ASKS, BIDS, Market("KRW", "ETH"))}, "orderbook is for"),
        ({"order_chance": order_chance(Market("KRW", "ETH"))}, "order_chance is for"),
    ],
)
def test_snapshot_from_parts_refuses_mismatched_parts(override: dict[str, object],
                                                      message: str) -> None:
    with pytest.raises(ValueError, match=message):
        snapshot_from_parts(CONFIG, **parts(**override))  # type: ignore[arg-type]


def test_snapshot_from_parts_refuses_a_crossed_book() -> None:
    with pytest.raises(InvalidOrderbook):
        snapshot_from_parts(CONFIG, **parts(orderbook=book([("98", "1")], BIDS)))  # type: ignore[arg-type]
