"""The synthetic book: its defaults are the fit of the real one, and it is a valid book."""

from __future__ import annotations

import json
import pickle
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bithumb_llm_trader.backtest import BookModel, fit_book_model
from bithumb_llm_trader.backtest.book_model import LazyBook, ModelSide
from bithumb_llm_trader.backtest.market import ReplayMarket
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config.models import BacktestConfig
from bithumb_llm_trader.domain import Level, Market, Orderbook, round_volume, tick_size
from bithumb_llm_trader.market import summarize_book

from .helpers import ORDERBOOK_FILE, T0, shared

D = Decimal
BTC = Market("KRW", "BTC")


def real_book() -> Orderbook:
    payload = json.loads(shared(ORDERBOOK_FILE).read_text(encoding="utf-8"),
                         parse_float=Decimal)[0]
    units = payload["orderbook_units"]
    return Orderbook(
        market=BTC, timestamp=T0,
        asks=tuple(Level(u["ask_price"], u["ask_size"]) for u in units),
        bids=tuple(Level(u["bid_price"], u["bid_size"]) for u in units),
    )


def test_the_configured_defaults_are_the_fit_of_the_real_book() -> None:
    fitted = fit_book_model(real_book())

    assert fitted == BookModel.from_config(BacktestConfig())
    assert (fitted.spread_bps, fitted.level_spacing_bps) == (D("1.55"), D("0.47"))
    assert (fitted.level_notional_krw, fitted.levels) == (D(5_836_175), 15)


def test_a_fit_is_spread_mean_gap_and_mean_value_per_level() -> None:
    book = Orderbook(market=BTC, timestamp=T0,
                     asks=(Level(D(1010), D(2)), Level(D(1030), D(1))),
                     bids=(Level(D(990), D(1)), Level(D(980), D(3))))
    fitted = fit_book_model(book)

    assert fitted.spread_bps == D("200.00")  # 20 / 1000 mid
    assert fitted.level_spacing_bps == D("150.00")  # gaps 20 and 10 over 1000
    assert fitted.level_notional_krw == D(1745)  # (2020 + 1030 + 990 + 2940) / 4
    assert fitted.levels == 2


def test_the_default_book_around_a_btc_price_is_on_tick_and_as_deep_as_fitted() -> None:
    model = BookModel.from_config(BacktestConfig())
    book = model.book_around(BTC, D(150_000_000), T0)

    # Half of 1.55 bps is 11,625 KRW: the ask rounds up, the bid down, to 1,000 KRW.
    assert (book.best_ask, book.best_bid) == (D(150_012_000), D(149_988_000))
    assert len(book.asks) == len(book.bids) == 15
    gap = D(7_000)  # 0.47 bps of 150 M is 7,050 KRW: seven ticks
    assert [level.price for level in book.asks[:3]] == [
        D(150_012_000), D(150_012_000) + gap, D(150_012_000) + 2 * gap]
    assert book.bids[1].price == D(149_988_000) - gap
    assert book.asks[0].size == round_volume(D(5_836_175) / D(150_012_000))
    assert all(level.price % tick_size(level.price) == 0 for level in book.asks + book.bids)


def test_a_cheap_coin_keeps_a_tick_between_bid_and_ask_and_between_levels() -> None:
    model = BookModel(spread_bps=D("0.1"), level_spacing_bps=D("0.1"),
                      level_notional_krw=D(1_000_000), levels=3)
    book = model.book_around(Market("KRW", "XRP"), D(50), T0)

    # 0.1 bps of 50 KRW is 0.0005 KRW; the tick is 0.01 KRW.
    assert (book.best_ask, book.best_bid) == (D("50.01"), D("49.99"))
    assert [level.price for level in book.bids] == [D("49.99"), D("49.98"), D("49.97")]


def test_bids_stop_before_the_price_would_reach_zero() -> None:
    # A gap of 4,000 bps around 0.0010 KRW is four 0.0001 ticks: bids at 0.0009,
    # 0.0005, 0.0001, and none at -0.0003.
    model = BookModel(spread_bps=D("0.01"), level_spacing_bps=D(4000),
                      level_notional_krw=D(1_000_000), levels=6)
    dust = Market("KRW", "DUST")
    book = model.book_around(dust, D("0.0010"), T0)

    assert [level.price for level in book.bids] == [D("0.0009"), D("0.0005"), D("0.0001")]
    assert len(book.asks) == 6
    assert model.sides_around(dust, D("0.0010")).summary(dust, 5, D(1000)) == summarize_book(
        book, 5, D(1000))


def test_a_range_book_spans_the_candle() -> None:
    model = BookModel(spread_bps=D(1), level_spacing_bps=D(1),
                      level_notional_krw=D(1_000_000), levels=2)
    book = model.range_book(BTC, D(99_000_000), D(101_000_000), T0)

    assert book.asks[0].price == D(99_000_000) and book.bids[0].price == D(101_000_000)
    assert book.asks[1].price > book.asks[0].price and book.bids[1].price < book.bids[0].price


@settings(max_examples=300)
@given(
    mid=st.decimals(min_value=D("0.0001"), max_value=D("5000000000"), places=4),
    spread=st.decimals(min_value=D("0.01"), max_value=D("50"), places=2),
    spacing=st.decimals(min_value=D("0.01"), max_value=D("400"), places=2),
    notional=st.decimals(min_value=D(1), max_value=D("100000000"), places=0),
    book_levels=st.integers(min_value=1, max_value=40),
    levels=st.integers(min_value=1, max_value=30),
    depth=st.decimals(min_value=D("0.01"), max_value=D(1000), places=2),
)
def test_the_closed_form_summary_is_the_summary_of_the_built_book(
        mid: D, spread: D, spacing: D, notional: D, book_levels: int, levels: int,
        depth: D) -> None:
    model = BookModel(spread_bps=spread, level_spacing_bps=spacing,
                      level_notional_krw=notional, levels=book_levels)
    try:
        built = summarize_book(model.book_around(BTC, mid, T0), levels, depth)
    except (ArithmeticError, ValueError) as exc:  # a book that cannot exist at this price
        with pytest.raises(type(exc)):
            model.sides_around(BTC, mid).summary(BTC, levels, depth)
        return
    closed = model.sides_around(BTC, mid).summary(BTC, levels, depth)
    assert repr(closed) == repr(built)  # equal, and written with the same digits


def test_a_lazy_book_builds_its_levels_once_when_first_read() -> None:
    sides = BookModel.from_config(BacktestConfig()).sides_around(BTC, D(150_000_000))
    calls = []

    def levels() -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        calls.append(1)
        return sides.asks.levels(), sides.bids.levels()

    lazy = LazyBook(BTC, T0, levels)
    assert (lazy.market, lazy.timestamp) == (BTC, T0)
    assert not calls  # nothing read yet

    plain = sides.book(BTC, T0)
    assert lazy.bids == plain.bids and lazy.asks == plain.asks
    assert lazy.best_ask == plain.best_ask and lazy.mid == plain.mid
    assert len(calls) == 1
    with pytest.raises(AttributeError):
        lazy.depth  # noqa: B018  # only the two sides are built on demand


def test_a_lazy_book_compares_hashes_and_pickles_as_the_plain_book() -> None:
    sides = BookModel.from_config(BacktestConfig()).sides_around(BTC, D(150_000_000))
    plain = sides.book(BTC, T0)

    def lazy() -> LazyBook:
        return LazyBook(BTC, T0, lambda: (sides.asks.levels(), sides.bids.levels()))

    assert lazy() == plain and plain == lazy() and hash(lazy()) == hash(plain)
    assert lazy() != Orderbook(market=BTC, timestamp=T0, asks=plain.asks, bids=())
    assert {plain: 1}[lazy()] == 1
    assert repr(lazy()) == repr(plain).replace("Orderbook(", "LazyBook(", 1)
    copied = pickle.loads(pickle.dumps(lazy()))
    assert copied == plain and copied.asks == plain.asks


def test_the_replay_market_builds_no_level_for_a_summary() -> None:
    model = BookModel.from_config(BacktestConfig())
    expected = model.book_around(BTC, D(150_000_000), T0)
    market = ReplayMarket(BTC, model, ManualClock(T0))
    market.quote_at(D(150_000_000))
    built = []
    original = ModelSide.levels

    def counted(side: ModelSide) -> tuple[Level, ...]:
        built.append(side)
        return original(side)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ModelSide, "levels", counted)
        summary = market.summary(10, D(50))
        book = market.book()
        assert not built
        assert summary == summarize_book(expected, 10, D(50))
        assert book == expected
        assert len(built) == 2  # asks and bids, once
        market.quote_at(D(150_000_000))  # the same price again: its levels are reused
        assert market.book().asks == book.asks and len(built) == 2
