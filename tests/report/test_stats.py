"""The report's arithmetic on plain Decimals: percentiles, means, drawdown, FIFO."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bithumb_llm_trader.report.stats import (
    FifoBook,
    TradeFill,
    equity_summary,
    mean,
    nearest_rank,
    ratio,
    signed_slippage_bps,
    slippage_stats,
)

D = Decimal


def test_nearest_rank_picks_an_observed_value() -> None:
    values = [D(v) for v in range(1, 21)]  # 1..20
    assert nearest_rank(values, 50) == D(10)  # rank ceil(10) = 10
    assert nearest_rank(values, 95) == D(19)  # rank ceil(19) = 19
    assert nearest_rank(values, 100) == D(20)
    assert nearest_rank([D(7)], 95) == D(7)
    assert nearest_rank([D(1), D(2), D(3)], 50) == D(2)  # ceil(1.5) = 2
    with pytest.raises(ValueError):
        nearest_rank([], 50)


def test_slippage_stats() -> None:
    stats = slippage_stats([D("3.5"), D("-1"), D("0.25"), D("12")])
    # sorted -1, 0.25, 3.5, 12; mean 14.75 / 4 = 3.6875 -> 3.69 (half-even)
    assert stats.count == 4
    assert stats.mean_bps == D("3.69")
    assert stats.p50_bps == D("0.25")  # rank 2
    assert stats.p95_bps == D(12)  # rank ceil(3.8) = 4
    assert stats.worst_bps == D(12)
    empty = slippage_stats([])
    assert (empty.count, empty.mean_bps, empty.p50_bps, empty.worst_bps) == (0, None, None, None)


def test_signed_slippage_is_a_cost_for_both_sides() -> None:
    assert signed_slippage_bps("bid", D(101), D(100)) == D(100)  # paid 1% more
    assert signed_slippage_bps("ask", D(99), D(100)) == D(100)  # received 1% less
    assert signed_slippage_bps("ask", D(101), D(100)) == D(-100)  # a better sell
    assert signed_slippage_bps("bid", D("100.0001"), D(100)) == D("0.01")
    assert signed_slippage_bps("bid", None, D(100)) is None
    assert signed_slippage_bps("bid", D(1), D(0)) is None
    assert signed_slippage_bps(None, D(1), D(1)) is None


def test_mean_and_ratio_of_nothing_are_none() -> None:
    assert mean(D(0), 0, D("0.1")) is None
    assert mean(10, 4, D("0.1")) == D("2.5")
    assert mean(5, 2, D(1)) == D(2)  # 2.5 -> 2, half-even
    assert ratio(0, 0) is None
    assert ratio(2, 3) == D("0.666667")


def test_equity_drawdown() -> None:
    # peak 110, falls to 88 (22, 20%); a later peak 120 falls to 100 (20, 16.67%)
    points = [D(v) for v in (100, 110, 99, 88, 105, 120, 100, 118)]
    summary = equity_summary(points)
    assert summary.samples == 8
    assert (summary.start_krw, summary.end_krw, summary.change_krw) == (D(100), D(118), D(18))
    assert summary.max_drawdown_krw == D(22)
    assert summary.max_drawdown_pct == D("0.2")


def test_drawdown_in_krw_and_percent_can_come_from_different_peaks() -> None:
    # 10 -> 5 is 50% (5 KRW); 1000 -> 900 is 10% (100 KRW)
    summary = equity_summary([D(10), D(5), D(1000), D(900)])
    assert summary.max_drawdown_krw == D(100)
    assert summary.max_drawdown_pct == D("0.5")


def test_rising_and_empty_equity() -> None:
    rising = equity_summary([D(1), D(2), D(3)])
    assert rising.max_drawdown_krw == 0 and rising.max_drawdown_pct == 0
    empty = equity_summary([])
    assert empty.samples == 0 and empty.start_krw is None and empty.max_drawdown_pct is None


def buy(volume: str, funds: str) -> TradeFill:
    return TradeFill("bid", D(volume), D(funds))


def sell(volume: str, funds: str) -> TradeFill:
    return TradeFill("ask", D(volume), D(funds))


def test_fifo_matches_oldest_lots_first() -> None:
    book = FifoBook()
    book.add(buy("1", "100"), counted=True)
    book.add(buy("1", "200"), counted=True)
    book.add(sell("1.5", "450"), counted=True)  # 1 @ 100 and 0.5 of the 200 lot = 200
    assert book.realised == D(250)
    assert book.open_volume == D("0.5")
    assert book.unrealised(D(300)) == D(50)  # 0.5 * 300 - 100
    assert book.unrealised(None) == 0


def test_fifo_sells_before_the_period_consume_lots_without_counting() -> None:
    book = FifoBook()
    book.add(buy("2", "200"), counted=False)
    book.add(sell("1", "150"), counted=False)  # before the period: not realised
    book.add(sell("1", "90"), counted=True)
    assert book.realised == D(-10)
    assert book.open_volume == 0


def test_fifo_sells_without_a_buy_are_reported_not_invented() -> None:
    book = FifoBook()
    book.add(buy("1", "100"), counted=True)
    book.add(sell("3", "330"), counted=True)  # 1 matched: 110 - 100; 2 unmatched
    assert book.realised == D(10)
    assert book.unmatched == D(2)


def test_fifo_partial_lot_keeps_its_exact_remaining_cost() -> None:
    book = FifoBook()
    book.add(buy("3", "100"), counted=True)  # 33.333... per unit
    book.add(sell("1", "40"), counted=True)
    book.add(sell("1", "40"), counted=True)
    book.add(sell("1", "40"), counted=True)  # the last sell takes what cost is left
    assert book.open_volume == 0
    assert book.realised == D(20)  # exactly: 120 - 100, no residue of the thirds


@given(st.lists(st.tuples(st.integers(1, 10**6), st.integers(1, 10**9)), min_size=1,
                max_size=30))
def test_fifo_selling_everything_realises_proceeds_minus_cost(lots: list[tuple[int, int]]) -> None:
    book = FifoBook()
    volume = cost = D(0)
    for units, price in lots:
        fill_volume, fill_funds = D(units) / 1000, D(units) * price / 1000
        book.add(buy(str(fill_volume), str(fill_funds)), counted=True)
        volume, cost = volume + fill_volume, cost + fill_funds
    book.add(TradeFill("ask", volume, volume * 777), counted=True)
    assert book.open_volume == 0
    assert book.realised.quantize(D("0.01")) == (volume * 777 - cost).quantize(D("0.01"))
