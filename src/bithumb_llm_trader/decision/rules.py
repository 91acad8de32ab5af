"""A rule-based decider: the strategy that runs without a language model.

It needs no key and no network, is pure and deterministic, and so serves dry runs
without an OpenAI key, backtests, and as the baseline an LLM strategy has to beat.
"""

from __future__ import annotations

import functools
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
_CACHED_HOLDS = 256
"""HOLD outcomes kept for reuse: the same rationales (an RSI to one decimal) recur."""


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
        # Shared, as outcomes are frozen: building one was half the cost of deciding.
        self._held = functools.lru_cache(maxsize=_CACHED_HOLDS)(self._hold_outcome)

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
        signal = self._rule_signal(values, holding=holding)
        if not isinstance(signal, Action):  # (an Action is a str too)
            return self._held(signal, None, ())
        # The stops before the decision: most buys are held by the cost rules, and
        # a decision is built (and validated) only for the trade that goes.
        stops = self._stops(values["atr"], values["close"]) if signal is Action.BUY else None
        held = self._cost_rules(stops, holding, round_trip_cost, now)
        if held is not None:
            return self._held(held[1], held[0], ())
        return self._outcome(self._exit(values) if stops is None else
                             self._buy(values, stops, holding=holding))

    def _cost_rules(self, stops: tuple[Decimal, Decimal] | None, holding: bool,
                    cost: Decimal | None, now: datetime | None) -> tuple[str, str] | None:
        """Why a buy with ``stops``, or a sell (None), must wait (reason, rationale), or
        None when it may go."""
        params = self.params
        if stops is None:
            return self._too_soon(now, self._bought_at, params.min_hold, "min_hold",
                                  "held") if holding else None
        target = stops[1]
        if params.cost_filter and cost is not None:
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

    def _rule_signal(self, f: dict[str, float], *, holding: bool) -> Action | str:
        """SELL or BUY by rules 2 and 3, or why neither (rule 4)."""
        params = self.params
        if holding and (f["ema_fast"] < f["ema_slow"] or f["rsi"] > float(params.rsi_sell_above)):
            return Action.SELL
        trend_up = f["ema_fast"] > f["ema_slow"] and f["close"] > f["ema_slow"]
        if trend_up and f["rsi"] < float(params.rsi_buy_below):
            return Action.BUY
        return f"no signal: trend {'up' if trend_up else 'not up'}, RSI {f['rsi']:.1f}"

    def _exit(self, f: dict[str, float]) -> TradeDecision:
        why = "trend turned down (ema_fast < ema_slow)" if f["ema_fast"] < f["ema_slow"] else (
            f"RSI {f['rsi']:.1f} above {self.params.rsi_sell_above}"
        )
        return TradeDecision(
            action=Action.SELL,
            confidence=self.params.confidence,
            agent_intent=AgentIntent.EXIT,
            rationale=f"exit: {why}",
        )

    def _buy(self, f: dict[str, float], stops: tuple[Decimal, Decimal], *,
             holding: bool) -> TradeDecision:
        stop, take_profit = stops
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
        return self._held(rationale, reason, (rationale,))

    def _hold_outcome(self, rationale: str, reason: str | None,
                      errors: tuple[str, ...]) -> DecisionOutcome:
        return self._outcome(TradeDecision.hold(rationale), hold_reason=reason, errors=errors)

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
