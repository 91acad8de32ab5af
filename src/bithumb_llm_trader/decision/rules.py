"""A rule-based decider: the strategy that runs without a language model.

It needs no key and no network, is pure and deterministic, and so serves dry runs
without an OpenAI key, backtests, and as the baseline an LLM strategy has to beat.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import ROUND_UP, Decimal

from ..config import RuleParams
from ..market.model import CandleFeatures, MarketSnapshot
from ..prompts.model import Prompt
from .model import Action, AgentIntent, DecisionOutcome, TradeDecision

STOP_STEP = Decimal("0.0001")
"""Stops are quoted to one basis point, rounded away from entry."""
MAX_STOP = Decimal("0.5")
MAX_TAKE_PROFIT = Decimal(1)
_NEEDED = ("close", "ema_fast", "ema_slow", "rsi", "atr")
_BPS = Decimal(10_000)


class RuleBasedDecider:
    """EMA trend filter, RSI bounds and ATR stops.

    Rules, checked in this order on the snapshot's features:

    1. Warm-up: when close, ema_fast, ema_slow, rsi or atr is not yet available (too few
       candles), hold with ``hold_reason="warmup"``.
    2. Exit: with a position, when the trend turns down (``ema_fast < ema_slow``) or RSI
       is above ``rsi_sell_above`` (overbought), sell everything (intent ``exit``).
       Exits come first so conflicting settings can never keep a losing position.
    3. Entry: when the trend is up (``ema_fast > ema_slow`` and ``close > ema_slow``)
       and RSI is below ``rsi_buy_below`` (not overbought), buy: ``enter_long`` when
       flat, ``add`` otherwise, risking ``risk_pct`` of equity. The stop sits
       ``atr_stop_multiple * ATR / close`` below entry, rounded up to a basis point and
       clamped to the decision's bounds (0, 0.5]; the take profit is ``reward_risk``
       times the stop, at most 1. With no usable ATR (zero), the configured default
       stop and take profit are used.
    4. Otherwise hold.

    Costs (``cost_filter``, ``min_hold``, ``reentry_cooldown``), applied after the rules
    above when the decider is given the round trip's cost and the time (``decide`` gives
    both from the snapshot; ``evaluate`` alone applies none of them):

    5. A buy is held (``hold_reason="cost"``) unless its take profit, the move it
       expects, is at least ``(1 + edge_margin)`` times the round-trip cost: the buy and
       sell fees plus the spread.
    6. A signal's sell is held (``"min_hold"``) until the position has been held
       ``min_hold``; an add waits as long after the last buy. Stops and targets are the
       guard's and still fire at any time.
    7. After the position is closed, entries wait ``reentry_cooldown`` (``"cooldown"``).

    Entry and exit times are what this decider observed (the position appearing,
    growing or going flat between two decisions), so they hold for one process: a
    ``run`` started afresh has no memory of the previous one's entry.

    The risk manager still checks every decision; these rules never size a trade.
    """

    name = "rules"
    needs_prompt = False  # decides from features alone; building a prompt is waste

    def __init__(
        self,
        params: RuleParams,
        *,
        stop_loss_pct: Decimal = Decimal("0.02"),
        take_profit_pct: Decimal = Decimal("0.04"),
    ) -> None:
        self.params = params
        self.stop_loss_pct = stop_loss_pct
        self.take_profit_pct = take_profit_pct
        self._last_size: Decimal | None = None
        self._bought_at: datetime | None = None
        self._exited_at: datetime | None = None

    def __repr__(self) -> str:
        return f"RuleBasedDecider({self.params!r})"

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        """Decide from ``snapshot``'s features, position, fees and spread (the prompt is
        not read)."""
        size, now = snapshot.position.size, snapshot.taken_at
        last = self._last_size
        if last is not None and size > last:
            self._bought_at = now
        elif last is not None and size <= 0 < last:
            self._exited_at = now
        self._last_size = size  # a position held before the first decision has no time
        chance = snapshot.order_chance
        cost = chance.bid_fee + chance.ask_fee + snapshot.book.spread_bps / _BPS
        return self.evaluate(snapshot.features, size, round_trip_cost=cost, now=now)

    def evaluate(self, features: CandleFeatures, position_size: Decimal, *,
                 round_trip_cost: Decimal | None = None,
                 now: datetime | None = None) -> DecisionOutcome:
        """The decision for these features and this holding of the traded coin; with
        ``round_trip_cost`` (a fraction) and ``now``, the cost rules 5-7 apply too."""
        missing = [name for name in _NEEDED if getattr(features, name) is None]
        if missing:
            return self._hold(
                f"warm-up: {', '.join(missing)} not available yet after {features.count} "
                "candles",
                reason="warmup",
            )
        values = {name: float(getattr(features, name)) for name in _NEEDED}
        if not all(math.isfinite(value) for value in values.values()):
            return self._hold("features are not finite numbers", reason="bad_features")
        holding = position_size > 0
        decision = self._rule_decision(values, holding=holding)
        held = self._cost_rules(decision, holding, round_trip_cost, now)
        if held is not None:
            return self._outcome(TradeDecision.hold(held[1]), hold_reason=held[0])
        return self._outcome(decision)

    def _cost_rules(self, decision: TradeDecision, holding: bool, cost: Decimal | None,
                    now: datetime | None) -> tuple[str, str] | None:
        """Why ``decision`` must wait (reason, rationale), or None when it may go."""
        params = self.params
        if decision.action is Action.SELL:
            return self._too_soon(now, self._bought_at, params.min_hold, "min_hold",
                                  "held") if holding else None
        if decision.action is not Action.BUY:
            return None
        target = decision.take_profit_pct
        if params.cost_filter and cost is not None and target is not None:
            needed = (1 + params.edge_margin) * cost
            if target < needed:
                return "cost", (f"target {target} does not clear the round-trip cost {cost:.6f}"
                                f" x {1 + params.edge_margin}")
        if holding:
            return self._too_soon(now, self._bought_at, params.min_hold, "min_hold",
                                  "last buy")
        return self._too_soon(now, self._exited_at, params.reentry_cooldown, "cooldown",
                              "exit")

    @staticmethod
    def _too_soon(now: datetime | None, since: datetime | None, wait: timedelta,
                  reason: str, what: str) -> tuple[str, str] | None:
        if now is None or since is None or not wait or now - since >= wait:
            return None
        return reason, f"{reason}: {now - since} since the {what}, waiting {wait}"

    def _rule_decision(self, f: dict[str, float], *, holding: bool) -> TradeDecision:
        params = self.params
        trend_down = f["ema_fast"] < f["ema_slow"]
        overbought = f["rsi"] > float(params.rsi_sell_above)
        if holding and (trend_down or overbought):
            why = "trend turned down (ema_fast < ema_slow)" if trend_down else (
                f"RSI {f['rsi']:.1f} above {params.rsi_sell_above}"
            )
            return TradeDecision(
                action=Action.SELL,
                confidence=params.confidence,
                agent_intent=AgentIntent.EXIT,
                rationale=f"exit: {why}",
            )
        trend_up = f["ema_fast"] > f["ema_slow"] and f["close"] > f["ema_slow"]
        if trend_up and f["rsi"] < float(params.rsi_buy_below):
            return self._buy(f, holding=holding)
        return TradeDecision.hold(
            f"no signal: trend {'up' if trend_up else 'not up'}, RSI {f['rsi']:.1f}"
        )

    def _buy(self, f: dict[str, float], *, holding: bool) -> TradeDecision:
        stop, take_profit = self._stops(f["atr"], f["close"])
        return TradeDecision(
            action=Action.BUY,
            confidence=self.params.confidence,
            risk_pct=self.params.risk_pct,
            stop_loss_pct=stop,
            take_profit_pct=take_profit,
            agent_intent=AgentIntent.ADD if holding else AgentIntent.ENTER_LONG,
            rationale=(
                f"uptrend (ema_fast > ema_slow, close above ema_slow) and RSI {f['rsi']:.1f} "
                f"below {self.params.rsi_buy_below}; stop {stop} from ATR"
            ),
        )

    def _stops(self, atr: float, close: float) -> tuple[Decimal, Decimal]:
        """Stop and take-profit fractions from ATR, within the decision's bounds."""
        if atr <= 0 or close <= 0:
            return self.stop_loss_pct, self.take_profit_pct
        distance = self.params.atr_stop_multiple * Decimal(repr(atr)) / Decimal(repr(close))
        stop = min(max(distance.quantize(STOP_STEP, rounding=ROUND_UP), STOP_STEP), MAX_STOP)
        take_profit = min(self.params.reward_risk * stop, MAX_TAKE_PROFIT)
        return stop, take_profit

    def _hold(self, rationale: str, *, reason: str) -> DecisionOutcome:
        return self._outcome(TradeDecision.hold(rationale), hold_reason=reason, errors=(rationale,))

    def _outcome(
        self,
        decision: TradeDecision,
        *,
        hold_reason: str | None = None,
        errors: tuple[str, ...] = (),
    ) -> DecisionOutcome:
        return DecisionOutcome(
            decision=decision, decider=self.name, hold_reason=hold_reason, errors=errors
        )
