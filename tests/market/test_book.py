"""Orderbook summary on small hand-built books and on real captured ones."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bithumb_llm_trader.errors import RetryableError
from bithumb_llm_trader.market import InvalidOrderbook, summarize_book

from ._factories import FIXTURES, UPBIT_BOOK, book, parse_orderbook

ASKS = [("100", "1"), ("101", "2"), ("103", "5")]
BIDS = [("99", "3"), ("98", "1"), ("95", "10")]


def test_hand_built_book() -> None:
    summary = summarize_book(book(ASKS, BIDS), levels=2, depth_bps=Decimal(200))
    assert (summary.best_bid, summary.best_ask) == (Decimal(99), Decimal(100))
    assert summary.mid == Decimal("99.5")
    assert summary.spread_bps == Decimal("100.50")  # 1 / 99.5 * 10000 = 100.5025...
    # top 2 levels: bids 3 + 1 = 4, asks 1 + 2 = 3 -> (4 - 3) / 7 = 0.142857...
    assert summary.imbalance == Decimal("0.142857")
    # band 99.5 * 200 / 10000 = 1.99: bids >= 97.51 -> 99*3 + 98*1 = 395;
    # asks <= 101.49 -> 100*1 + 101*2 = 302
    assert summary.bid_depth_krw == Decimal(395)
    assert summary.ask_depth_krw == Decimal(302)
    assert (summary.levels, summary.depth_bps) == (2, Decimal(200))
    assert all(isinstance(v, Decimal) for v in (summary.mid, summary.imbalance,
                                                summary.bid_depth_krw))


def test_levels_beyond_the_book_use_every_level() -> None:
    summary = summarize_book(book(ASKS, BIDS), levels=30, depth_bps=Decimal(10_000))
    # bids 3 + 1 + 10 = 14, asks 1 + 2 + 5 = 8 -> 6 / 22 = 0.272727...
    assert summary.imbalance == Decimal("0.272727")
    assert summary.bid_depth_krw == Decimal(99 * 3 + 98 + 95 * 10)
    assert summary.ask_depth_krw == Decimal(100 + 101 * 2 + 103 * 5)


def test_depth_band_edges_are_inclusive() -> None:
    # mid 100, 100 bps -> band 1: bid at 99 and ask at 101 are exactly on the edge
    summary = summarize_book(book([("100.5", "1"), ("101", "1"), ("101.5", "1")],
                                  [("99.5", "1"), ("99", "1"), ("98.5", "1")]),
                             levels=1, depth_bps=Decimal(100))
    assert summary.bid_depth_krw == Decimal("198.5")
    assert summary.ask_depth_krw == Decimal("201.5")


@pytest.mark.parametrize(
    ("asks", "bids", "expected"),
    [
        ([("100", "0")], [("99", "5")], Decimal(1)),
        ([("100", "5")], [("99", "0")], Decimal(-1)),
        ([("100", "0")], [("99", "0")], Decimal(0)),
    ],
)
def test_imbalance_bounds(asks: list[tuple[str, str]], bids: list[tuple[str, str]],
                          expected: Decimal) -> None:
    assert summarize_book(book(asks, bids), 5, Decimal(50)).imbalance == expected


@pytest.mark.parametrize(
    ("asks", "bids", "message"),
    [
        ([], BIDS, "no asks"),
        (ASKS, [], "no bids"),
        ([], [], "no bids"),
        ([("100", "1")], [("100", "1")], "crossed"),  # locked counts as crossed
        ([("99", "1")], [("100", "1")], "crossed"),
        ([("101", "1"), ("100", "1")], BIDS, "asks are not in ascending"),
        (ASKS, [("95", "1"), ("99", "1")], "bids are not in descending"),
    ],
)
def test_unusable_books_raise_a_retryable_value_error(
    asks: list[tuple[str, str]], bids: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(InvalidOrderbook, match=message) as caught:
        summarize_book(book(asks, bids), 5, Decimal(50))
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, RetryableError) and caught.value.safe_to_retry
    assert "KRW-BTC" in str(caught.value)


def test_bad_arguments_are_plain_value_errors() -> None:
    with pytest.raises(ValueError, match="levels"):
        summarize_book(book(ASKS, BIDS), 0, Decimal(50))
    with pytest.raises(ValueError, match="depth_bps"):
        summarize_book(book(ASKS, BIDS), 5, Decimal(0))


def test_bithumb_fixture_book() -> None:
    orderbook = parse_orderbook(FIXTURES / "v1_orderbook.json")
    summary = summarize_book(orderbook, 10, Decimal(50))
    # one level: ask 45,831,000 x 0.123, bid 45,830,000 x 0.234
    assert summary.mid == Decimal("45830500")
    assert summary.imbalance == Decimal("0.310924")  # 0.111 / 0.357 = 0.3109243...
    assert summary.bid_depth_krw == Decimal("45830000") * Decimal("0.234")
    assert summary.ask_depth_krw == Decimal("45831000") * Decimal("0.123")


def test_real_upbit_book() -> None:
    if not UPBIT_BOOK.is_file():
        pytest.skip(f"shared data absent: {UPBIT_BOOK}")
    orderbook = parse_orderbook(UPBIT_BOOK)
    wide = summarize_book(orderbook, 15, Decimal(1000))
    narrow = summarize_book(orderbook, 3, Decimal(1))
    assert Decimal(-1) <= wide.imbalance <= Decimal(1)
    assert wide.bid_depth_krw == sum(lv.price * lv.size for lv in orderbook.bids)
    assert wide.ask_depth_krw == sum(lv.price * lv.size for lv in orderbook.asks)
    assert Decimal(0) < narrow.bid_depth_krw < wide.bid_depth_krw
    assert wide.spread_bps == Decimal("1.55")  # 9,000 / 58,024,500 * 10,000
