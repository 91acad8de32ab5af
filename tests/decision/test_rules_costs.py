"""The rules weigh costs (issue 22): no entry whose target does not pay the round trip
with a margin, a minimum holding time before a signal sells, a cooldown after an exit."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from bithumb_llm_trader.config import RuleParams
from bithumb_llm_trader.decision import Action, RuleBasedDecider
from bithumb_llm_trader.market.model import CandleFeatures
from bithumb_llm_trader.prompts import Prompt
from tests.prompts.snapshots import TAKEN_AT, snapshot

D = Decimal
# stop 2 x ATR / close = 0.02, target 0.04 (reward/risk 2)
UPTREND = CandleFeatures(count=200, close=100_000_000.0, ema_fast=99_500_000.0,
                         ema_slow=99_000_000.0, rsi=55.0, atr=1_000_000.0)
DOWNTREND = replace(UPTREND, ema_fast=98_000_000.0)
PROMPT = Prompt("s", "u", "v")
HOUR = timedelta(hours=1)


def test_the_defaults_weigh_costs() -> None:
    params = RuleParams()
    assert params.cost_filter and params.edge_margin == 1
    assert params.min_hold == params.reentry_cooldown == 2 * HOUR


def test_an_entry_whose_target_does_not_clear_the_costs_with_the_margin_holds() -> None:
    decider = RuleBasedDecider(RuleParams(edge_margin=D(1)))
    # Target 0.04 against 2 x 0.0205 = 0.041: held.
    held = decider.evaluate(UPTREND, D(0), round_trip_cost=D("0.0205"), now=TAKEN_AT)
    assert held.decision.action is Action.HOLD and held.hold_reason == "cost"
    # 2 x 0.02 = 0.04: the target pays the costs twice, it goes.
    assert decider.evaluate(UPTREND, D(0), round_trip_cost=D("0.02"),
                            now=TAKEN_AT).decision.action is Action.BUY
    # Opted out, the costs are not weighed.
    off = RuleBasedDecider(RuleParams(cost_filter=False))
    assert off.evaluate(UPTREND, D(0), round_trip_cost=D("0.5"),
                        now=TAKEN_AT).decision.action is Action.BUY


def test_without_costs_and_time_evaluate_is_the_plain_rules() -> None:
    assert RuleBasedDecider(RuleParams()).evaluate(UPTREND, D(0)).decision.action is Action.BUY


def test_decide_takes_the_cost_from_the_snapshot_fees_and_spread() -> None:
    snap = snapshot(position_size=D(0))  # fees 0.0025 + 0.0025, spread ~0.07 bps
    cheap = replace(snap, features=UPTREND)
    assert asyncio.run(RuleBasedDecider(RuleParams(edge_margin=D(6))).decide(
        PROMPT, cheap)).decision.action is Action.BUY  # 0.04 >= 7 x ~0.005
    outcome = asyncio.run(RuleBasedDecider(RuleParams(edge_margin=D(7))).decide(
        PROMPT, cheap))  # 0.04 < 8 x ~0.005
    assert outcome.hold_reason == "cost"


def test_a_signal_sells_only_after_the_minimum_holding_time() -> None:
    decider = RuleBasedDecider(RuleParams(cost_filter=False, min_hold=2 * HOUR))
    flat = replace(snapshot(position_size=D(0)), features=UPTREND)
    asyncio.run(decider.decide(PROMPT, flat))
    bought = replace(snapshot(), features=DOWNTREND, taken_at=TAKEN_AT + HOUR)
    early = asyncio.run(decider.decide(PROMPT, bought))
    assert early.decision.action is Action.HOLD and early.hold_reason == "min_hold"
    later = replace(bought, taken_at=TAKEN_AT + 3 * HOUR)
    assert asyncio.run(decider.decide(PROMPT, later)).decision.action is Action.SELL


def test_after_an_exit_entries_wait_for_the_cooldown() -> None:
    decider = RuleBasedDecider(RuleParams(cost_filter=False, min_hold=timedelta(0),
                                          reentry_cooldown=2 * HOUR))
    asyncio.run(decider.decide(PROMPT, replace(snapshot(), features=UPTREND)))
    exited = replace(snapshot(position_size=D(0)), features=UPTREND,
                     taken_at=TAKEN_AT + HOUR)
    waiting = asyncio.run(decider.decide(PROMPT, exited))
    assert waiting.decision.action is Action.HOLD and waiting.hold_reason == "cooldown"
    later = replace(exited, taken_at=TAKEN_AT + 4 * HOUR)
    assert asyncio.run(decider.decide(PROMPT, later)).decision.action is Action.BUY


def test_a_position_held_before_the_first_decision_may_be_sold_at_once() -> None:
    decider = RuleBasedDecider(RuleParams(min_hold=2 * HOUR))
    held = replace(snapshot(), features=DOWNTREND)
    assert asyncio.run(decider.decide(PROMPT, held)).decision.action is Action.SELL


def test_a_held_entry_says_which_target_missed_which_cost() -> None:
    held = RuleBasedDecider(RuleParams(edge_margin=D(1))).evaluate(
        UPTREND, D(0), round_trip_cost=D("0.0205"), now=TAKEN_AT)
    assert held.decision.rationale == (
        "target 0.0400 does not clear the round-trip cost 0.020500 x 2")
    assert (held.decision.agent_intent.value, held.errors) == ("hold", ())
