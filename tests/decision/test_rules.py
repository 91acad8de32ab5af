"""The rule-based decider on hand-built features."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest

from bithumb_llm_trader.config import RuleParams
from bithumb_llm_trader.decision import Action, AgentIntent, RuleBasedDecider
from bithumb_llm_trader.market.model import CandleFeatures
from bithumb_llm_trader.prompts import Prompt
from tests.prompts.snapshots import snapshot

PARAMS = RuleParams()  # ema 12/26, RSI buy below 70, sell above 80, ATR x2, reward/risk 2
UPTREND = CandleFeatures(
    count=200, close=100_000_000.0, ema_fast=99_500_000.0, ema_slow=99_000_000.0,
    rsi=55.0, atr=1_000_000.0,
)
FLAT = Decimal(0)
HELD = Decimal("0.01")


def evaluate(features: CandleFeatures, size: Decimal = FLAT, **params: object):  # type: ignore[no-untyped-def]
    decider = RuleBasedDecider(PARAMS.model_copy(update=params))
    return decider.evaluate(features, size)


def test_uptrend_with_moderate_rsi_enters_long_with_atr_stops() -> None:
    outcome = evaluate(UPTREND)
    decision = outcome.decision
    assert decision.action is Action.BUY
    assert decision.agent_intent is AgentIntent.ENTER_LONG
    # stop = 2 * 1,000,000 / 100,000,000 = 0.02; take profit = 2 * 0.02
    assert decision.stop_loss_pct == Decimal("0.0200")
    assert decision.take_profit_pct == Decimal("0.0400")
    assert decision.risk_pct == PARAMS.risk_pct
    assert decision.confidence == PARAMS.confidence
    assert outcome.decider == "rules"
    assert outcome.hold_reason is None


def test_buying_while_holding_adds() -> None:
    assert evaluate(UPTREND, HELD).decision.agent_intent is AgentIntent.ADD


def test_stop_rounds_up_to_a_basis_point_and_is_clamped() -> None:
    tiny = evaluate(replace(UPTREND, atr=1.0)).decision  # 2e-8: below one bp
    assert tiny.stop_loss_pct == Decimal("0.0001")
    odd = evaluate(replace(UPTREND, atr=1_234_567.0)).decision  # 0.02469134
    assert odd.stop_loss_pct == Decimal("0.0247")
    assert odd.take_profit_pct == Decimal("0.0494")
    huge = evaluate(replace(UPTREND, atr=40_000_000.0)).decision  # 0.8 -> 0.5
    assert huge.stop_loss_pct == Decimal("0.5")
    assert huge.take_profit_pct == Decimal(1)  # 2 * 0.5, clamped to 1


def test_zero_atr_uses_the_default_stops() -> None:
    decider = RuleBasedDecider(
        PARAMS, stop_loss_pct=Decimal("0.03"), take_profit_pct=Decimal("0.05")
    )
    decision = decider.evaluate(replace(UPTREND, atr=0.0), FLAT).decision
    assert (decision.stop_loss_pct, decision.take_profit_pct) == (Decimal("0.03"), Decimal("0.05"))


def test_trend_down_with_a_position_exits() -> None:
    down = replace(UPTREND, ema_fast=98_000_000.0)
    decision = evaluate(down, HELD).decision
    assert decision.action is Action.SELL
    assert decision.agent_intent is AgentIntent.EXIT
    assert "trend" in decision.rationale


def test_overbought_with_a_position_exits_even_in_an_uptrend() -> None:
    decision = evaluate(replace(UPTREND, rsi=85.0), HELD).decision
    assert decision.action is Action.SELL
    assert "RSI 85.0" in decision.rationale


@pytest.mark.parametrize(
    ("features", "size"),
    [
        (replace(UPTREND, ema_fast=98_000_000.0), FLAT),  # trend down, nothing to sell
        (replace(UPTREND, rsi=75.0), FLAT),  # too high to buy, too low to sell
        (replace(UPTREND, rsi=75.0), HELD),
        (replace(UPTREND, close=98_000_000.0), FLAT),  # close below ema_slow
        (replace(UPTREND, rsi=85.0), FLAT),  # overbought, flat: never a short
    ],
)
def test_no_signal_holds(features: CandleFeatures, size: Decimal) -> None:
    outcome = evaluate(features, size)
    assert outcome.decision.action is Action.HOLD
    assert outcome.decision.agent_intent is AgentIntent.HOLD
    assert outcome.hold_reason is None


def test_warm_up_holds_with_the_missing_features_named() -> None:
    outcome = evaluate(CandleFeatures(count=10, close=1.0, ema_fast=1.0, rsi=50.0), HELD)
    assert outcome.decision.action is Action.HOLD
    assert outcome.hold_reason == "warmup"
    assert "ema_slow, atr" in outcome.decision.rationale
    assert "10 candles" in outcome.errors[0]


def test_non_finite_features_hold() -> None:
    outcome = evaluate(replace(UPTREND, rsi=float("nan")))
    assert outcome.decision.action is Action.HOLD
    assert outcome.hold_reason == "bad_features"


def test_decide_reads_the_snapshot_and_is_deterministic() -> None:
    snap = snapshot()  # uptrend features, RSI 56.8, holding 0.0123 BTC
    decider = RuleBasedDecider(PARAMS)
    prompt = Prompt("s", "u", "v")
    first = asyncio.run(decider.decide(prompt, snap))
    second = asyncio.run(decider.decide(prompt, snap))
    assert first == second
    assert first.decision.action is Action.BUY
    assert first.decision.agent_intent is AgentIntent.ADD
    assert RuleBasedDecider.name == "rules"


def test_a_hold_is_shared_by_the_decisions_that_give_the_same_reason() -> None:
    decider = RuleBasedDecider(PARAMS)
    no_trend = replace(UPTREND, ema_fast=98_000_000.0)
    first = decider.evaluate(no_trend, FLAT)
    assert first.decision.rationale == "no signal: trend not up, RSI 55.0"
    assert decider.evaluate(no_trend, FLAT) is first  # outcomes are frozen: one will do
    other = decider.evaluate(replace(no_trend, rsi=56.0), FLAT)
    assert other is not first and other.decision.rationale.endswith("RSI 56.0")
    warming = decider.evaluate(replace(no_trend, rsi=None), FLAT)
    assert warming.hold_reason == "warmup" and warming.errors == (warming.decision.rationale,)
