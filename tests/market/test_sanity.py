"""The market-data sanity checks, without I/O; and that ``collect_snapshot`` applies them."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config.models import StrategyConfig
from bithumb_llm_trader.domain import KST, Balance, Candle, CandleInterval
from bithumb_llm_trader.errors import MarketDataRejected, RejectedError
from bithumb_llm_trader.market import collect_snapshot
from bithumb_llm_trader.market.sanity import (
    REASONS,
    check_candles,
    check_market_data,
    check_orderbook,
    check_ticker,
)

from ._factories import T0, balance, book, flat_candles, ticker
from .test_snapshot import FakeExchange

D = Decimal
M1 = CandleInterval.M1
NOW = T0 + timedelta(hours=1)
ASKS = [("100", "1"), ("101", "2")]
BIDS = [("99", "3"), ("98", "1")]  # mid 99.5
TWO_PCT = D("0.02")


def fresh(count: int = 30, interval: CandleInterval = M1, end: datetime = NOW,
          price: str = "100") -> list[Candle]:
    """``count`` flat candles, the last one opening at ``end``."""
    step, value = interval.duration, D(price)
    return [Candle(start=end - (count - 1 - i) * step, open=value, high=value, low=value,
                   close=value, volume=D(1)) for i in range(count)]


def check(**overrides: Any) -> None:
    parts: dict[str, Any] = {
        "taken_at": NOW, "ticker": ticker("100"), "orderbook": book(ASKS, BIDS),
        "candles": fresh(), "balances": [balance("KRW", "1000"), balance("BTC", "1")],
        "interval": M1, "max_ticker_deviation": TWO_PCT,
    }
    parts.update(overrides)
    check_market_data(**parts)


def reason_of(**overrides: Any) -> str:
    with pytest.raises(MarketDataRejected) as caught:
        check(**overrides)
    error = caught.value
    assert str(error).startswith(f"{error.reason}: ") and error.detail in str(error)
    assert error.reason in REASONS
    return error.reason


def shifted(candles: list[Candle], index: int, by: timedelta) -> list[Candle]:
    moved = list(candles)
    c = moved[index]
    moved[index] = Candle(start=c.start + by, open=c.open, high=c.high, low=c.low,
                          close=c.close, volume=c.volume)
    return moved


def test_sane_data_passes() -> None:
    check()
    check(prices_krw={"ETH": D(4000)})


def test_the_error_is_a_refusal_not_a_retry() -> None:
    error = MarketDataRejected("stale_candles", "newest 1m candle is an hour old")
    assert isinstance(error, RejectedError) and not error.retryable
    assert not error.safe_to_retry
    assert str(error) == "stale_candles: newest 1m candle is an hour old"


# -- prices and sizes ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("price", "reason"),
    [("-64000000", "price_not_positive"), ("0", "price_not_positive"),
     ("-0", "price_not_positive"), ("NaN", "price_not_finite"),
     ("sNaN", "price_not_finite"), ("Infinity", "price_not_finite")],
)
def test_a_ticker_that_is_not_a_price_is_refused(price: str, reason: str) -> None:
    assert reason_of(ticker=ticker(price)) == reason


@pytest.mark.parametrize(
    ("asks", "bids", "reason"),
    [
        (ASKS, [("99", "3"), ("0", "1")], "price_not_positive"),
        (ASKS, [("99", "3"), ("-5", "1")], "price_not_positive"),
        ([("100", "1"), ("NaN", "1")], BIDS, "price_not_finite"),
        ([("100", "1"), ("Infinity", "1")], BIDS, "price_not_finite"),
        ([("100", "-1")], BIDS, "size_invalid"),
        (ASKS, [("99", "NaN")], "size_invalid"),
        (ASKS, [("99", "Infinity")], "size_invalid"),
        ([], BIDS, "empty_book_side"),
        (ASKS, [], "empty_book_side"),
        (ASKS, [("101", "1"), ("98", "1")], "crossed_book"),
        (ASKS, [("100", "1"), ("98", "1")], "crossed_book"),  # locked
        ([("101", "1"), ("100", "1")], BIDS, "book_out_of_order"),
        (ASKS, [("98", "1"), ("99", "1")], "book_out_of_order"),
    ],
)
def test_an_impossible_book_is_refused(asks: list[tuple[str, str]],
                                       bids: list[tuple[str, str]], reason: str) -> None:
    assert reason_of(orderbook=book(asks, bids)) == reason


def test_a_zero_size_level_is_allowed() -> None:
    check(orderbook=book([("100", "0"), ("101", "2")], BIDS))


@pytest.mark.parametrize(
    ("balances", "reason"),
    [
        ([balance("KRW", "-1")], "balance_invalid"),
        ([balance("KRW", "1000", locked="-0.5")], "balance_invalid"),
        ([balance("KRW", "NaN")], "balance_invalid"),
        ([balance("BTC", "1", avg="Infinity")], "balance_invalid"),
        ([balance("BTC", "1", avg="-100")], "balance_invalid"),
    ],
)
def test_an_impossible_balance_is_refused(balances: list[Balance], reason: str) -> None:
    assert reason_of(balances=balances) == reason


def test_zero_balances_are_allowed() -> None:
    check(balances=[balance("KRW", "0"), balance("BTC", "0")])
    check(balances=[])


@pytest.mark.parametrize(("price", "reason"), [("0", "price_not_positive"),
                                               ("-4000", "price_not_positive"),
                                               ("NaN", "price_not_finite")])
def test_an_impossible_price_of_another_held_coin_is_refused(price: str, reason: str) -> None:
    assert reason_of(prices_krw={"ETH": D(price)}) == reason


# -- ticker against the book -------------------------------------------------------

@pytest.mark.parametrize(("last", "inside"),  # mid 99.5, 2% of it is 1.99
                         [("99.5", True), ("101.49", True), ("97.51", True),
                          ("101.5", False), ("97.5", False), ("9.95", False),
                          ("995", False)])
def test_the_ticker_band_around_the_mid(last: str, inside: bool) -> None:
    if inside:
        check(ticker=ticker(last))
    else:
        assert reason_of(ticker=ticker(last)) == "ticker_off_book"


def test_a_ticker_ten_times_below_the_book_is_refused() -> None:
    with pytest.raises(MarketDataRejected, match=r"^ticker_off_book: last price 9\.95 is "
                       r"90\.00% from the book mid 99\.5 \(limit 2\.00%\)"):
        check(ticker=ticker("9.95"))


def test_the_band_is_configurable() -> None:
    assert reason_of(ticker=ticker("103")) == "ticker_off_book"  # 3.5% off
    check(ticker=ticker("103"), max_ticker_deviation=D("0.05"))


@given(
    bid=st.decimals(min_value=D("0.0001"), max_value=D(10) ** 12, places=4),
    spread=st.decimals(min_value=D("0.0001"), max_value=D(10) ** 6, places=4),
    last=st.decimals(min_value=D("0.0001"), max_value=D(10) ** 13, places=4),
    limit=st.decimals(min_value=D("0.001"), max_value=D("0.5"), places=3),
)
def test_the_ticker_is_refused_exactly_when_outside_the_band(
        bid: Decimal, spread: Decimal, last: Decimal, limit: Decimal) -> None:
    orderbook = book([(str(bid + spread), "1")], [(str(bid), "1")])
    mid = (2 * bid + spread) / 2
    outside = abs(last - mid) > mid * limit
    try:
        check_ticker(ticker(str(last)), orderbook, limit)
    except MarketDataRejected as error:
        assert outside and error.reason == "ticker_off_book"
    else:
        assert not outside


@given(bids=st.lists(st.integers(1, 10**9), min_size=1, max_size=20, unique=True),
       asks=st.lists(st.integers(1, 10**9), min_size=1, max_size=20, unique=True),
       size=st.integers(0, 10**6))
def test_any_sorted_uncrossed_book_passes(bids: list[int], asks: list[int],
                                          size: int) -> None:
    top = max(bids)  # every ask is above the best bid
    check_orderbook(book([(str(top + a), str(size)) for a in sorted(asks)],
                         [(str(b), str(size)) for b in sorted(bids, reverse=True)]))


# -- candles -------------------------------------------------------------------------

def test_no_candles_are_refused() -> None:
    assert reason_of(candles=[]) == "no_candles"


def test_candles_all_after_the_snapshot_are_refused() -> None:
    assert reason_of(candles=fresh(end=NOW + timedelta(minutes=30))) == "no_candles"


def test_candles_opening_while_the_requests_were_in_flight_are_allowed() -> None:
    check(candles=fresh(end=NOW + timedelta(minutes=1)))


@pytest.mark.parametrize(
    ("candles", "reason"),
    [
        (list(reversed(fresh())), "candles_out_of_order"),  # newest first
        ([*fresh()[:-1], fresh()[-2]], "candles_out_of_order"),  # a repeated start
        (shifted(fresh(), 10, timedelta(minutes=-2)), "candles_out_of_order"),
        (shifted(fresh(), 10, timedelta(seconds=30)), "candles_misaligned"),
        (shifted(fresh(), -1, timedelta(seconds=-1)), "candles_misaligned"),
    ],
)
def test_disordered_candles_are_refused(candles: list[Candle], reason: str) -> None:
    assert reason_of(candles=candles) == reason


def test_gaps_of_whole_intervals_are_allowed() -> None:
    series = fresh(40)
    quiet = series[:10] + series[13:20] + series[21:]  # minutes with no trade are absent
    check(candles=quiet)


def test_a_candle_price_that_is_not_a_price_is_refused() -> None:
    candles = fresh()
    c = candles[5]
    candles[5] = Candle(start=c.start, open=c.open, high=c.high, low=D(0), close=c.close,
                        volume=c.volume)
    assert reason_of(candles=candles) == "price_not_positive"
    candles[5] = Candle(start=c.start, open=c.open, high=c.high, low=c.low,
                        close=D("NaN"), volume=c.volume)
    assert reason_of(candles=candles) == "price_not_finite"
    candles[5] = Candle(start=c.start, open=c.open, high=c.high, low=c.low, close=c.close,
                        volume=D(-1))
    assert reason_of(candles=candles) == "size_invalid"


@pytest.mark.parametrize(("interval", "age_in_intervals", "stale"),
                         [(M1, 0, False), (M1, 2, False), (M1, 3, True),
                          (CandleInterval.M15, 2, False), (CandleInterval.M15, 4, True),
                          (CandleInterval.D1, 1, False), (CandleInterval.D1, 3, True)])
def test_stale_candles_are_refused(interval: CandleInterval, age_in_intervals: int,
                                   stale: bool) -> None:
    candles = fresh(30, interval, end=NOW - age_in_intervals * interval.duration)
    if stale:
        assert reason_of(candles=candles, interval=interval) == "stale_candles"
    else:
        check(candles=candles, interval=interval)


def test_staleness_is_judged_within_the_interval_not_by_whole_intervals() -> None:
    candles = fresh(30, end=NOW - timedelta(minutes=2))
    check(candles=candles, taken_at=NOW)  # exactly two intervals
    assert reason_of(candles=candles, taken_at=NOW + timedelta(seconds=1)) == "stale_candles"


def test_monthly_candles_are_calendar_months() -> None:
    # Bithumb opens a month at 00:00 KST on the 1st: 15:00 UTC on varying days
    starts = [datetime(2025, month, 1, tzinfo=KST) for month in range(1, 13)]
    candles = [Candle(start=s, open=D(1), high=D(1), low=D(1), close=D(1), volume=D(1))
               for s in starts]
    taken_at = datetime(2025, 12, 20, tzinfo=KST)
    check_candles(candles, CandleInterval.MO1, taken_at)
    check_candles(candles[:3] + candles[5:], CandleInterval.MO1, taken_at)  # two missing
    odd = [*candles[:-1], Candle(start=datetime(2025, 12, 16, tzinfo=KST), open=D(1),
                                 high=D(1), low=D(1), close=D(1), volume=D(1))]
    with pytest.raises(MarketDataRejected, match=r"^candles_misaligned"):
        check_candles(odd, CandleInterval.MO1, taken_at)


@given(gaps=st.lists(st.integers(1, 5), min_size=0, max_size=60),
       interval=st.sampled_from([CandleInterval.M1, CandleInterval.M5, CandleInterval.H1,
                                 CandleInterval.W1]))
def test_any_series_of_whole_interval_gaps_ending_now_passes(
        gaps: list[int], interval: CandleInterval) -> None:
    step, offsets = interval.duration, [0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    end = offsets[-1]
    candles = [Candle(start=NOW - (end - o) * step, open=D(1), high=D(1), low=D(1),
                      close=D(1), volume=D(0)) for o in offsets]
    check_candles(candles, interval, NOW)


@given(count=st.integers(2, 50), at=st.integers(1, 49),
       seconds=st.integers(1, 59))
def test_any_off_grid_start_is_refused(count: int, at: int, seconds: int) -> None:
    candles = fresh(count)
    index = at % count
    with pytest.raises(MarketDataRejected) as caught:
        check_candles(shifted(candles, index, timedelta(seconds=seconds)), M1, NOW)
    assert caught.value.reason == "candles_misaligned"


# -- configuration -----------------------------------------------------------------

def test_the_band_setting_and_its_bounds() -> None:
    assert StrategyConfig().strategy.max_ticker_deviation_pct == D("0.02")
    for bad in ("0", "-0.01", "0.51"):
        with pytest.raises(ValidationError):
            StrategyConfig.model_validate({"strategy": {"max_ticker_deviation_pct": bad}})
    config = StrategyConfig.model_validate({"strategy": {"max_ticker_deviation_pct": "0.5"}})
    assert config.strategy.max_ticker_deviation_pct == D("0.5")


# -- collect_snapshot applies the checks ---------------------------------------------

CONFIG = StrategyConfig.model_validate(
    {"strategy": {"candle_interval": "1m", "candle_count": 40}})


def collect(exchange: FakeExchange, config: StrategyConfig = CONFIG) -> Any:
    return asyncio.run(collect_snapshot(exchange, config, exchange.clock))


def test_collect_snapshot_refuses_newest_first_candles() -> None:
    exchange = FakeExchange(ManualClock(NOW), [balance("KRW", "1000")],
                            list(reversed(flat_candles(10, start=NOW - timedelta(minutes=9)))))
    with pytest.raises(MarketDataRejected, match=r"^candles_out_of_order"):
        collect(exchange)


def test_collect_snapshot_judges_staleness_by_the_clock_before_the_requests() -> None:
    clock = ManualClock(NOW)
    exchange = FakeExchange(clock, [balance("KRW", "1000")],  # the last opened at NOW - 2m
                            flat_candles(10, start=NOW - timedelta(minutes=11)))
    assert collect(exchange).taken_at == NOW
    assert clock.now() > NOW  # the requests took time: now, the series would be stale
    exchange = FakeExchange(ManualClock(NOW), [balance("KRW", "1000")],
                            flat_candles(10, start=NOW - timedelta(minutes=12)))
    with pytest.raises(MarketDataRejected, match=r"^stale_candles"):
        collect(exchange)


def test_collect_snapshot_refuses_an_off_book_ticker_per_the_config() -> None:
    class Skewed(FakeExchange):
        async def ticker(self, market: Any) -> Any:
            await super().ticker(market)
            return ticker("103", market)  # 3.5% above the mid of 99.5

    def exchange() -> Skewed:
        return Skewed(ManualClock(NOW), [balance("KRW", "1000")],
                      flat_candles(10, start=NOW - timedelta(minutes=9)))

    with pytest.raises(MarketDataRejected, match=r"^ticker_off_book"):
        collect(exchange())
    wide = CONFIG.model_copy(update={"strategy": CONFIG.strategy.model_copy(
        update={"max_ticker_deviation_pct": D("0.05")})})
    assert collect(exchange(), wide).last_price == D(103)
