"""The synthetic book: its defaults are the fit of the real one, and it is a valid book."""

from __future__ import annotations

import json
from decimal import Decimal

from bithumb_llm_trader.backtest import BookModel, fit_book_model
from bithumb_llm_trader.config.models import BacktestConfig
from bithumb_llm_trader.domain import Level, Market, Orderbook, round_volume, tick_size

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


def test_a_range_book_spans_the_candle() -> None:
    model = BookModel(spread_bps=D(1), level_spacing_bps=D(1),
                      level_notional_krw=D(1_000_000), levels=2)
    book = model.range_book(BTC, D(99_000_000), D(101_000_000), T0)

    assert book.asks[0].price == D(99_000_000) and book.bids[0].price == D(101_000_000)
    assert book.asks[1].price > book.asks[0].price and book.bids[1].price < book.bids[0].price
