"""Invariants over generated books and price series (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bithumb_llm_trader.market import (
    FeatureCalculator,
    FeatureParams,
    compute_features,
    summarize_book,
)

from ._factories import book, candle

sizes = st.decimals(min_value=0, max_value=1000, places=8).map(str)


@settings(max_examples=60, deadline=None)
@given(
    ask_sizes=st.lists(sizes, min_size=1, max_size=20),
    bid_sizes=st.lists(sizes, min_size=1, max_size=20),
    levels=st.integers(min_value=1, max_value=30),
    depth=st.integers(min_value=1, max_value=2000),
)
def test_book_summary_bounds(ask_sizes: list[str], bid_sizes: list[str], levels: int,
                             depth: int) -> None:
    asks = [(str(1000 + i), size) for i, size in enumerate(ask_sizes)]
    bids = [(str(999 - i), size) for i, size in enumerate(bid_sizes)]
    orderbook = book(asks, bids)
    summary = summarize_book(orderbook, levels, Decimal(depth))
    assert Decimal(-1) <= summary.imbalance <= Decimal(1)
    assert 0 <= summary.bid_depth_krw <= sum(lv.price * lv.size for lv in orderbook.bids)
    assert 0 <= summary.ask_depth_krw <= sum(lv.price * lv.size for lv in orderbook.asks)
    assert summary.best_bid < summary.mid < summary.best_ask


steps = st.lists(st.integers(min_value=-50, max_value=50), min_size=1, max_size=120)


@settings(max_examples=60, deadline=None)
@given(moves=steps, cut=st.integers(min_value=0, max_value=119))
def test_features_depend_only_on_the_past(moves: list[int], cut: int) -> None:
    closes = [1000]
    for move in moves:
        closes.append(max(1, closes[-1] + move))
    series = [candle(i, str(c + 5), str(max(c - 5, 1)), str(c), str(1 + i % 4))
              for i, c in enumerate(closes)]
    params = FeatureParams(ema_fast=3, ema_slow=5, rsi_period=4, atr_period=4,
                           macd_signal=3)
    cut = min(cut, len(series) - 1)
    calculator = FeatureCalculator(params)
    seen = []
    for item in series:
        calculator.push(item)
        seen.append(calculator.features())
        rsi = seen[-1].rsi
        assert rsi is None or 0.0 <= rsi <= 100.0
        assert seen[-1].atr is None or seen[-1].atr >= 0.0
    assert compute_features(series[: cut + 1], params) == seen[cut]
