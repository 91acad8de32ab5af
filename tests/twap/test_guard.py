"""The price guard: where it sits, and how it shrinks or skips a slice."""

from __future__ import annotations

from decimal import Decimal

from bithumb_llm_trader.domain import Level, Side
from bithumb_llm_trader.twap import SizeUnit, guard_price, size_slice

D = Decimal
ASKS = (Level(D(100_000_000), D("0.0005")), Level(D(100_200_000), D("0.001")),
        Level(D(100_500_000), D(1)))
BIDS = (Level(D(99_990_000), D("0.0005")), Level(D(99_800_000), D(1)))


def test_guard_is_the_band_edge_or_the_tighter_limit_on_the_safe_tick() -> None:
    assert guard_price(D(100_000_000), Side.BUY, D(30)) == D(100_300_000)
    assert guard_price(D(99_990_000), Side.SELL, D(30)) == D(99_691_000)  # 99,690,030 up
    assert guard_price(D(100_000_000), Side.BUY, D(30), D(100_100_000)) == D(100_100_000)
    assert guard_price(D(100_000_000), Side.BUY, D(30), D(200_000_000)) == D(100_300_000)
    assert guard_price(D(99_990_000), Side.SELL, D(30), D(99_900_000)) == D(99_900_000)
    # Rounding onto the 1,000 KRW tick never loosens the guard.
    assert guard_price(D(100_000_000), Side.BUY, D(30), D(100_100_999)) == D(100_100_000)
    assert guard_price(D(99_990_000), Side.SELL, D(30), D(99_900_001)) == D(99_901_000)


def test_a_slice_that_fits_is_sent_whole() -> None:
    sizing = size_slice(ASKS, Side.BUY, unit=SizeUnit.NOTIONAL, target=D(50_000),
                        guard=D(100_300_000), min_order_krw=D(5000))
    assert sizing.send and not sizing.shrunk
    assert sizing.volume == D("0.0005") and sizing.expected_funds == D(50_000)


def test_a_slice_is_shrunk_to_what_lies_inside_the_guard() -> None:
    sizing = size_slice(ASKS, Side.BUY, unit=SizeUnit.NOTIONAL, target=D(1_000_000),
                        guard=D(100_300_000), min_order_krw=D(5000))
    assert sizing.send and sizing.shrunk
    assert sizing.volume == D("0.0015")
    assert sizing.expected_funds == D(50_000) + D(100_200)
    sell = size_slice(BIDS, Side.SELL, unit=SizeUnit.VOLUME, target=D("0.01"),
                      guard=D(99_900_000), min_order_krw=D(5000))
    assert sell.shrunk and sell.volume == D("0.0005")


def test_a_slice_is_skipped_when_nothing_or_too_little_fits() -> None:
    beyond = size_slice(ASKS[2:], Side.BUY, unit=SizeUnit.NOTIONAL, target=D(100_000),
                        guard=D(100_300_000), min_order_krw=D(5000))
    assert not beyond.send and "best ask 100500000 is beyond the guard" in (
        beyond.skip_reason or "")
    crumbs = (Level(D(100_000_000), D("0.00001")), Level(D(101_000_000), D(1)))
    tiny = size_slice(crumbs, Side.BUY, unit=SizeUnit.NOTIONAL, target=D(100_000),
                      guard=D(100_300_000), min_order_krw=D(5000))
    assert not tiny.send and "under the minimum order" in (tiny.skip_reason or "")
    empty = size_slice((), Side.SELL, unit=SizeUnit.VOLUME, target=D("0.1"),
                       guard=D(99_000_000), min_order_krw=D(5000))
    assert empty.skip_reason == "the book has no bids"
    nothing = size_slice(ASKS, Side.BUY, unit=SizeUnit.NOTIONAL, target=D(0),
                         guard=D(100_300_000), min_order_krw=D(5000))
    assert nothing.skip_reason == "nothing left to trade"


def test_a_sell_is_valued_at_its_guard_price_for_the_minimum() -> None:
    # 0.00005 BTC fills at 99,990,000 (4,999.5 KRW): under the minimum either way.
    bids = (Level(D(99_990_000), D("0.0000501")), Level(D(90_000_000), D(1)))
    sizing = size_slice(bids, Side.SELL, unit=SizeUnit.VOLUME, target=D("0.0000501"),
                        guard=D(99_690_000), min_order_krw=D(5000))
    # Worth 5,009.5 KRW at the bid, but the exchange values it at 4,994.47 at the guard.
    assert not sizing.send and "under the minimum order" in (sizing.skip_reason or "")
