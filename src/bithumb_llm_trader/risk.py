"""The risk manager: limits the model cannot talk past.

It sees every decision twice. ``review`` checks the decision against the trading state
and the configured limits before sizing; ``confirm`` checks the sized proposal again
right before execution, so no path from model output to an order skips a limit.
Reasons are machine-readable strings, stored and counted by the report.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import Enum

from .allocation import CAP_POSITION, CAP_TRADE_VALUE, AllocationProposal
from .config import RiskConfig
from .decision import Action, AgentIntent, TradeDecision
from .domain import BPS, KST, ZERO, Side, round_price
from .fast_init import fast_init
from .market import MarketSnapshot

# Rejections
HALTED = "halted"
KILL_SWITCH = "kill_switch"
DAILY_LOSS_LIMIT = "daily_loss_limit"
REDUCING_ONLY = "reducing_only"
CONFIDENCE_BELOW_MIN = "confidence_below_min"
COOLDOWN = "cooldown"
NO_POSITION = "no_position"
MAX_POSITION_EXCEEDED = "max_position_exceeded"
INSUFFICIENT_BALANCE = "insufficient_balance"
BELOW_MIN_ORDER = "below_min_order"
NO_RISK = "zero_risk_pct"
LIMIT_PRICE_OFF_MARKET = "limit_price_off_market"
UNSETTLED_ORDERS = "unsettled_orders"
# Shrinks
RISK_PCT_CAPPED = "risk_pct_capped"
MAX_TRADE_VALUE_EXCEEDED = "max_trade_value_exceeded"
# Exit distances moved into [floor, ceiling]
STOP_LOSS_FLOORED = "stop_loss_floored"
STOP_LOSS_CAPPED = "stop_loss_capped"
TAKE_PROFIT_FLOORED = "take_profit_floored"
TAKE_PROFIT_CAPPED = "take_profit_capped"
_SHRINKS = frozenset({RISK_PCT_CAPPED, MAX_TRADE_VALUE_EXCEEDED, MAX_POSITION_EXCEEDED})

LIMIT_PRICE_BAND = Decimal("0.10")
"""A limit price further than this from the last price is a model mistake, not a plan."""


class TradingState(str, Enum):
    ACTIVE = "active"
    HALTED = "halted"  # no new orders from the model
    REDUCING = "reducing"  # sells only


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RiskState:
    """The account's trading state at the start of a cycle, and why."""

    state: TradingState
    reasons: tuple[str, ...] = ()
    day_start_equity: Decimal | None = None
    daily_pnl_krw: Decimal | None = None
    in_cooldown: bool = False

    @property
    def kill_switch(self) -> bool:
        return KILL_SWITCH in self.reasons


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RiskVerdict:
    """Approved or rejected, with reasons, the effective decision and its exit prices.

    ``shrunk`` means the trade goes ahead smaller than asked; ``reasons`` then names
    what shrank it.
    """

    approved: bool
    decision: TradeDecision
    side: Side | None
    reasons: tuple[str, ...]
    shrunk: bool
    state: TradingState
    stop_loss_pct: Decimal | None = None
    take_profit_pct: Decimal | None = None
    stop_loss_price: Decimal | None = None
    take_profit_price: Decimal | None = None
    limit_price: Decimal | None = None


def start_of_day_kst(now: datetime) -> datetime:
    """00:00 KST of the day ``now`` falls on, as an aware datetime."""
    local = now.astimezone(KST)
    return datetime.combine(local.date(), time(0), tzinfo=KST)


def assess_state(
    config: RiskConfig,
    *,
    equity_krw: Decimal,
    day_start_equity: Decimal | None,
    kill_switch: bool,
    last_trade_at: datetime | None,
    now: datetime,
    unsettled_orders: bool = False,
) -> RiskState:
    """Decide ACTIVE, HALTED or REDUCING from the kill switch, the daily loss and config.

    The daily loss is equity now against the first recorded equity since 00:00 KST, so
    it counts realised and unrealised PnL together.
    """
    start = day_start_equity if day_start_equity is not None else equity_krw
    pnl = equity_krw - start
    reasons: list[str] = []
    if kill_switch:
        reasons.append(KILL_SWITCH)
    if daily_loss_hit(start, pnl, pct=config.daily_loss_limit_pct,
                      krw=config.daily_loss_limit_krw):
        reasons.append(DAILY_LOSS_LIMIT)
    if unsettled_orders:
        reasons.append(UNSETTLED_ORDERS)
    cooling = bool(
        last_trade_at and config.cooldown > timedelta(0) and now < last_trade_at + config.cooldown
    )
    if reasons:
        state = TradingState.HALTED
    elif config.reduce_only:
        state, reasons = TradingState.REDUCING, ["reduce_only"]
    else:
        state = TradingState.ACTIVE
    return RiskState(
        state=state,
        reasons=tuple(reasons),
        day_start_equity=start,
        daily_pnl_krw=pnl,
        in_cooldown=cooling,
    )


def daily_loss_hit(start: Decimal, pnl: Decimal, *, pct: Decimal | None,
                   krw: Decimal | None) -> bool:
    """Whether a day that began at ``start`` equity and is at ``pnl`` has lost the limit:
    ``krw`` as an amount, or ``pct`` as a share of ``start`` (either off when None).

    One rule for the cycle's trading state, a portfolio's halt and the pre-trade gate.
    """
    loss = -pnl
    if loss <= 0:
        return False
    if krw is not None and loss >= krw:
        return True
    return pct is not None and start > 0 and loss >= pct * start


class RiskManager:
    """Checks decisions and proposals against the configured limits."""

    def __init__(self, config: RiskConfig, *, min_order_krw: Decimal) -> None:
        self._config = config
        self._min_order = min_order_krw

    def review(
        self, decision: TradeDecision, snapshot: MarketSnapshot, state: RiskState
    ) -> RiskVerdict:
        """Approve, shrink or reject a decision before it is sized."""
        if decision.action is Action.HOLD:
            return self._verdict(False, decision, None, ("hold",), state)
        side = Side.BUY if decision.action is Action.BUY else Side.SELL
        min_order = max(self._min_order, snapshot.order_chance.min_total)
        rejections = self._state_rejections(side, state)
        if decision.confidence < self._config.min_confidence:
            rejections.append(CONFIDENCE_BELOW_MIN)
        rejections += self._side_rejections(decision, side, snapshot, min_order)
        if rejections:
            return self._verdict(False, decision, side, tuple(rejections), state)
        if side is Side.SELL:
            limit = self._limit_price(decision, side)
            return self._verdict(True, decision, side, (), state, limit_price=limit)
        return self._approve_buy(decision, snapshot, state)

    def confirm(self, verdict: RiskVerdict, proposal: AllocationProposal) -> RiskVerdict:
        """Re-check the sized trade; shrinking caps become reasons, violations reject."""
        if not verdict.approved:
            return verdict
        if not proposal.has_order:
            reason = proposal.reason or BELOW_MIN_ORDER
            return replace(verdict, approved=False, reasons=(*verdict.reasons, reason))
        reasons = list(verdict.reasons)
        if CAP_TRADE_VALUE in proposal.caps_hit:
            reasons.append(MAX_TRADE_VALUE_EXCEEDED)
        if CAP_POSITION in proposal.caps_hit:
            reasons.append(MAX_POSITION_EXCEEDED)
        if proposal.side is Side.BUY and proposal.final_notional > self._config.max_trade_value:
            # Allocation caps at max_trade_value; reaching here means a bug upstream.
            return replace(verdict, approved=False, reasons=(*reasons, "limit_breach"))
        shrunk = verdict.shrunk or len(reasons) > len(verdict.reasons)
        return replace(verdict, reasons=tuple(reasons), shrunk=shrunk)

    def _state_rejections(self, side: Side, state: RiskState) -> list[str]:
        if state.state is TradingState.HALTED:
            return [HALTED, *state.reasons]
        rejections = []
        if state.state is TradingState.REDUCING and side is Side.BUY:
            rejections.append(REDUCING_ONLY)
        if state.in_cooldown:
            rejections.append(COOLDOWN)
        return rejections

    def _side_rejections(
        self, decision: TradeDecision, side: Side, snapshot: MarketSnapshot, min_order: Decimal
    ) -> list[str]:
        account = snapshot.account
        price = snapshot.last_price
        if decision.limit_price is not None and _off_market(decision.limit_price, price):
            return [LIMIT_PRICE_OFF_MARKET]
        if side is Side.SELL:
            held = account.position.size * snapshot.book.best_bid
            if account.position.size <= 0:
                return [NO_POSITION]
            return [BELOW_MIN_ORDER] if held < min_order else []
        if decision.risk_pct <= 0:
            return [NO_RISK]
        invested = account.position.size * price
        if self._config.position_cap_krw(account.equity_krw) - invested < min_order:
            return [MAX_POSITION_EXCEEDED]
        if account.spendable_krw < min_order:
            return [INSUFFICIENT_BALANCE]
        return []

    def _approve_buy(
        self, decision: TradeDecision, snapshot: MarketSnapshot, state: RiskState
    ) -> RiskVerdict:
        reasons: list[str] = []
        if decision.risk_pct > self._config.max_risk_pct:
            decision = decision.model_copy(update={"risk_pct": self._config.max_risk_pct})
            reasons.append(RISK_PCT_CAPPED)
        floor = self._exit_floor(snapshot)
        stop_pct, why = _clamp(decision.stop_loss_pct, floor, self._config.stop_loss_pct,
                               STOP_LOSS_FLOORED, STOP_LOSS_CAPPED)
        reasons += why
        take_pct, why = _clamp(decision.take_profit_pct, floor, self._config.take_profit_pct,
                               TAKE_PROFIT_FLOORED, TAKE_PROFIT_CAPPED)
        reasons += why
        entry = snapshot.book.best_ask
        return self._verdict(
            True,
            decision,
            Side.BUY,
            tuple(reasons),
            state,
            stop_loss_pct=stop_pct,
            take_profit_pct=take_pct,
            stop_loss_price=stop_price(entry, stop_pct),
            take_profit_price=take_profit_price(entry, take_pct),
            limit_price=self._limit_price(decision, Side.BUY),
        )

    def _exit_floor(self, snapshot: MarketSnapshot) -> Decimal:
        """The nearest a stop or target may sit: closer, the spread and the fees alone
        would trigger it, and a model could sell a position on noise."""
        chance = snapshot.order_chance
        costs = (snapshot.book.spread_bps / BPS + chance.taker_fee(Side.BUY)
                 + chance.taker_fee(Side.SELL))
        return max(self._config.min_stop_pct, costs)

    def _limit_price(self, decision: TradeDecision, side: Side) -> Decimal | None:
        if decision.limit_price is None:
            return None
        return round_price(decision.limit_price, side)

    def _verdict(
        self,
        approved: bool,
        decision: TradeDecision,
        side: Side | None,
        reasons: tuple[str, ...],
        state: RiskState,
        **prices: Decimal | None,
    ) -> RiskVerdict:
        return RiskVerdict(
            approved=approved,
            decision=decision,
            side=side,
            reasons=reasons,
            shrunk=approved and any(r in _SHRINKS for r in reasons),
            state=state.state,
            **prices,
        )


def stop_price(entry: Decimal, stop_pct: Decimal) -> Decimal:
    """Stop-loss below ``entry``, rounded up onto the tick so it triggers no later."""
    return round_price(entry * (1 - stop_pct), Side.SELL)


def take_profit_price(entry: Decimal, take_pct: Decimal) -> Decimal:
    """Take-profit above ``entry``, rounded down onto the tick so it triggers no later."""
    return round_price(entry * (1 + take_pct), Side.BUY)


def _clamp(asked: Decimal | None, floor: Decimal, ceiling: Decimal, floored: str,
           capped: str) -> tuple[Decimal, list[str]]:
    """The model's distance moved into [floor, ceiling], and the reason when it moved.

    The configured value is the ceiling (the tighter of it and the model's wins); the
    floor wins over a configured value below it, since such a stop could never hold.
    """
    if asked is None:
        return max(ceiling, floor), []
    if asked < floor:
        return floor, [floored]
    if asked > ceiling:
        return max(ceiling, floor), [capped]
    return asked, []


def _off_market(limit_price: Decimal, last_price: Decimal) -> bool:
    return last_price > 0 and abs(limit_price - last_price) / last_price > LIMIT_PRICE_BAND


def sell_fraction(decision: TradeDecision, reduce_fraction: Decimal) -> Decimal:
    """How much of the position a sell disposes of: all to exit, a share to reduce."""
    if decision.agent_intent is AgentIntent.REDUCE:
        return reduce_fraction
    return Decimal(1) if decision.action is Action.SELL else ZERO
