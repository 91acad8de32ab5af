from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bithumb_llm_trader.domain import Side
from bithumb_llm_trader.liquidity import notional_within, volume_within, walk_book

from .books import btc_book

D = Decimal


def test_walk_by_notional_fills_level_by_level() -> None:
    book = btc_book()
    walk = walk_book(book.asks, Side.BUY, notional=D(200_000))
    # 0.001 @ 100,000,000 = 100,000; then 0.00099990 @ 100,010,000 = 99,999.9999
    assert [f.volume for f in walk.fills] == [D("0.001"), D("0.00099990")]
    assert walk.funds == D("100000") + D("0.00099990") * D("100010000")
    assert walk.funds <= D(200_000)
    assert walk.complete


def test_walk_by_volume_reports_partial_when_book_runs_out() -> None:
    book = btc_book()
    walk = walk_book(book.bids, Side.SELL, volume=D(5))
    assert walk.volume == D("1.013")
    assert not walk.complete


def test_limit_price_stops_the_walk() -> None:
    book = btc_book()
    walk = walk_book(book.asks, Side.BUY, volume=D(1), limit_price=D("100010000"))
    assert walk.volume == D("0.003")
    assert not walk.complete


def test_slippage_is_signed_against_arrival() -> None:
    book = btc_book()
    buy = walk_book(book.asks, Side.BUY, volume=D("0.003"))
    # avg = (100,000 + 200,020) / 0.003 = 100,006,666.67
    assert buy.slippage_bps(Side.BUY, D(100_000_000)) == D("0.67")
    sell = walk_book(book.bids, Side.SELL, volume=D("0.003"))
    assert sell.slippage_bps(Side.SELL, D(99_990_000)) == D("0.67")


def test_band_depth() -> None:
    book = btc_book()
    # 10 bps above 100,000,000 is 100,100,000: the first three ask levels.
    assert volume_within(book.asks, Side.BUY, D(10)) == D("0.013")
    assert notional_within(book.asks, Side.BUY, D(10)) == (
        D("100000") + D("200020") + D("1000500")
    )
    assert notional_within((), Side.BUY, D(10)) == 0


def test_exactly_one_size_is_required() -> None:
    with pytest.raises(ValueError):
        walk_book(btc_book().asks, Side.BUY)


@given(st.decimals(min_value=D(1), max_value=D(500_000_000), places=0))
def test_walk_never_overspends(notional: Decimal) -> None:
    walk = walk_book(btc_book().asks, Side.BUY, notional=notional)
    assert walk.funds <= notional
    assert all(f.volume > 0 for f in walk.fills)
