"""Running figures: equity statistics, round trips and exposure, checked by hand."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

from bithumb_llm_trader.backtest.metrics import (
    DecisionTally,
    EquityCurve,
    Exposure,
    TradeTally,
    periods_per_year,
)
from bithumb_llm_trader.records import FillRecord, SignalRecord

from .helpers import T0

D = Decimal


def fill(order: str, side: str, volume: str, price: str, fee: str) -> FillRecord:
    funds = D(volume) * D(price)
    return FillRecord(client_order_id=order, trade_id=f"{order}-1", run_id="r", strategy="s",
                      market="KRW-BTC", side=side, price=D(price), volume=D(volume),
                      funds=funds, fee=D(fee), created_at=T0, dry_run=True, mode="dry")


def test_an_equity_curve_of_four_values() -> None:
    curve = EquityCurve(periods_per_year=4.0)
    for value in (100, 110, 99, 121):
        curve.mark(D(value))
    # Returns 0.1, -0.1, 2/9: mean 0.07407, sample sd 0.16158; downside sqrt(0.01 / 3).
    returns = [0.1, -0.1, 22 / 99]
    mean = sum(returns) / 3
    sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / 2)

    assert curve.total_return == D("0.21")
    assert math.isclose(curve.max_drawdown, 0.1)  # 110 -> 99
    assert curve.sharpe is not None and math.isclose(curve.sharpe, mean / sd * 2)
    assert curve.sortino is not None and math.isclose(curve.sortino,
                                                       mean / math.sqrt(0.01 / 3) * 2)


def test_a_flat_curve_has_no_ratios_and_minutes_make_a_year() -> None:
    curve = EquityCurve(periods_per_year=1.0)
    for _ in range(3):
        curve.mark(D(5))
    assert (curve.sharpe, curve.sortino, curve.max_drawdown) == (None, None, 0.0)
    assert periods_per_year(timedelta(minutes=1)) == 525_600


def test_round_trips_close_when_the_rest_cannot_be_sold() -> None:
    tally = TradeTally(min_order_krw=D(5000))
    tally.on_fill(fill("b1", "bid", "0.002", "100000000", "500"))  # cost 200,500
    tally.on_fill(fill("s1", "ask", "0.001", "110000000", "275"))  # half: +109,725 - 100,250
    assert tally.round_trips == 0  # 0.001 BTC = 110,000 KRW still held
    tally.on_fill(fill("s2", "ask", "0.00099999", "90000000", "224.99"))
    # 0.00000001 BTC (0.9 KRW) is left: the trip is over. Its result: proceeds
    # 109,725 + (89,999.1 - 224.99) = 199,499.11 less the cost of what was sold,
    # 200,500 * 0.00199999 / 0.002 = 200,498.9975: -999.8875.
    assert (tally.round_trips, tally.wins) == (1, 0)
    assert tally.realized_pnl == D("-999.8875")
    assert (tally.orders, tally.buy_orders, tally.sell_orders) == (3, 1, 2)
    assert tally.fees == D("999.99")

    tally.on_fill(fill("b2", "bid", "0.001", "100000000", "250"))
    tally.on_fill(fill("s3", "ask", "0.001", "120000000", "300"))
    assert (tally.round_trips, tally.wins) == (2, 1)
    assert tally.summary()["win_rate"] == 0.5


def test_exposure_counts_candles_holding_a_sellable_position() -> None:
    exposure = Exposure()
    exposure.mark(D(0), D(100_000), D(5000))
    exposure.mark(D(50_000), D(100_000), D(5000))
    exposure.mark(D(1), D(100_000), D(5000))  # dust
    assert exposure.summary() == {"exposure": round(1 / 3, 6),
                                  "average_exposure": round((0.5 + 0.00001) / 3, 6)}


def test_model_requests_and_cost_are_counted_for_a_language_model_only() -> None:
    def signal(cached: bool, cost: str | None, attempts: int) -> SignalRecord:
        return SignalRecord(request_id="q", run_id="r", strategy="s", created_at=T0,
                            action="hold", confidence=D(0), agent_intent="hold",
                            payload_json={}, raw_text=None, attempts=attempts,
                            cost_usd=None if cost is None else D(cost), cached=cached,
                            prompt_tokens=100)

    model = DecisionTally(model=True)
    for record in (signal(False, "0.0002", 2), signal(True, "0", 0)):
        model.on_signal(record)
    assert (model.decisions, model.model_requests, model.cached) == (2, 2, 1)
    assert model.model_cost_usd == D("0.0002")
    rules = DecisionTally()
    rules.on_signal(signal(False, None, 1))
    assert rules.model_requests == 0 and rules.summary()["actions"] == {"hold": 1}



def test_the_same_value_marked_again_counts_as_an_equal_new_one() -> None:
    # A flat wallet hands the curve the same Decimal object candle after candle.
    high, low, higher = D(110), D(99), D(121)
    values = [D(100), high, high, high, low, low, higher, higher]
    fresh, repeated = EquityCurve(periods_per_year=4.0), EquityCurve(periods_per_year=4.0)
    for minute, value in enumerate(values):
        at = T0 + timedelta(minutes=minute)
        fresh.mark(D(str(value)), at)  # a new object every time
        repeated.mark(value, at)
    fresh.end_at(at)
    repeated.end_at(at)
    assert repeated.drawdown() == fresh.drawdown()
    assert repeated.drawdown()["recovered_at"] == T0 + timedelta(minutes=6)
    assert (repeated.sharpe, repeated.sortino, repeated.total_return) == (
        fresh.sharpe, fresh.sortino, fresh.total_return)
