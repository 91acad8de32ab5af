"""A decision at time t sees nothing after t: rewriting the future changes nothing at t."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bithumb_llm_trader.decision import DecisionOutcome, RuleBasedDecider
from bithumb_llm_trader.market import MarketSnapshot
from bithumb_llm_trader.prompts import Prompt

from .helpers import T0, Prices, candle_rows, config, run_backtest, walk_prices, write_csv

CUT = T0 + timedelta(minutes=40)  # the decision at this close is compared


@dataclass
class RecordingRules:
    """The rule decider, remembering every snapshot it was given and what it answered."""

    inner: RuleBasedDecider
    name: str = "rules"
    needs_prompt: bool = True  # so the prompt text is compared too
    seen: list[tuple[object, ...]] = field(default_factory=list)

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        outcome = await self.inner.decide(prompt, snapshot)
        candles = tuple((c.start, c.open, c.high, c.low, c.close, c.volume)
                        for c in snapshot.candles)
        self.seen.append((snapshot.taken_at, snapshot.last_price, candles,
                          snapshot.features.as_dict(), snapshot.account.equity_krw,
                          snapshot.position.size, prompt.user, outcome.decision))
        return outcome


def replay(tmp_path: Path, name: str, prices: Prices) -> RecordingRules:
    cfg = config(strategy={"candle_interval": "5m", "rules": {
        "ema_fast": 2, "ema_slow": 3, "rsi_period": 2, "atr_period": 2,
        "rsi_buy_below": 100, "rsi_sell_above": 100}})
    decider = RecordingRules(RuleBasedDecider(cfg.strategy.rules))
    data = write_csv(tmp_path / f"{name}.csv", candle_rows(prices))
    run_backtest(cfg, data, decider, decide_every=timedelta(minutes=5))
    return decider


def test_changing_every_candle_after_t_leaves_the_decision_at_t_unchanged(
    tmp_path: Path,
) -> None:
    prices = walk_prices(90)
    future = 40  # candles 40.. start at or after CUT: all of them change
    rewritten = prices[:future] + [
        (o + 3000, h + 5000, lo + 1000, c + 4000) for o, h, lo, c in prices[future:]
    ]

    original = replay(tmp_path, "original", prices)
    changed = replay(tmp_path, "changed", rewritten)

    up_to_cut = [seen for seen in original.seen if seen[0] <= CUT]
    assert up_to_cut and up_to_cut[-1][0] == CUT
    assert changed.seen[: len(up_to_cut)] == up_to_cut
    # Later decisions did see the new prices: the test can tell a difference.
    assert changed.seen[len(up_to_cut)] != original.seen[len(up_to_cut)]


def test_the_candles_of_a_decision_all_closed_by_then(tmp_path: Path) -> None:
    decider = replay(tmp_path, "walk", walk_prices(60))

    assert len(decider.seen) == 11  # closes 00:05 .. 00:55; the last candle has no next
    for taken_at, _, candles, features, *_ in decider.seen:
        assert candles and all(start + timedelta(minutes=5) <= taken_at
                               for start, *_ in candles)
        assert features["count"] == (taken_at - T0) // timedelta(minutes=5)
