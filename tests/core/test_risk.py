from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bithumb_llm_trader import risk
from bithumb_llm_trader.allocation import AllocationRequest, evaluate_allocation
from bithumb_llm_trader.config import AllocationConfig, RiskConfig, TwapConfig
from bithumb_llm_trader.decision import Action, AgentIntent, TradeDecision
from bithumb_llm_trader.domain import Side
from bithumb_llm_trader.risk import RiskManager, RiskState, TradingState, assess_state

from .books import btc_book, snapshot

D = Decimal
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
CONFIG = RiskConfig(max_trade_value=D(100_000), max_position_krw=D(500_000),
                    stop_loss_pct=D("0.02"), take_profit_pct=D("0.04"),
                    min_confidence=D("0.6"), max_risk_pct=D("0.01"))
ACTIVE = RiskState(state=TradingState.ACTIVE)


def decision(action: str = "buy", **changes: object) -> TradeDecision:
    intent = {"buy": "enter_long", "sell": "exit", "hold": "hold"}[action]
    fields: dict[str, object] = {"action": action, "confidence": D("0.8"),
                                 "risk_pct": D("0.005"), "agent_intent": intent}
    fields.update(changes)
    return TradeDecision(**fields)


def manager() -> RiskManager:
    return RiskManager(CONFIG, min_order_krw=D(5000))


def test_approved_buy_gets_tick_rounded_exit_prices() -> None:
    verdict = manager().review(decision(), snapshot(), ACTIVE)
    assert verdict.approved and verdict.side is Side.BUY and not verdict.shrunk
    # entry = best ask 100,000,000; 2% below = 98,000,000; 4% above = 104,000,000
    assert verdict.stop_loss_price == D(98_000_000)
    assert verdict.take_profit_price == D(104_000_000)


def test_tighter_of_decision_and_config_wins() -> None:
    tight = decision(stop_loss_pct=D("0.01234"), take_profit_pct=D("0.5"))
    verdict = manager().review(tight, snapshot(), ACTIVE)
    assert verdict.stop_loss_pct == D("0.01234")
    assert verdict.take_profit_pct == D("0.04")
    # 100,000,000 * 0.98766 = 98,766,000 exactly on the 1,000 tick
    assert verdict.stop_loss_price == D(98_766_000)


def test_risk_pct_above_the_limit_is_shrunk_not_rejected() -> None:
    verdict = manager().review(decision(risk_pct=D("0.05")), snapshot(), ACTIVE)
    assert verdict.approved and verdict.shrunk
    assert risk.RISK_PCT_CAPPED in verdict.reasons
    assert verdict.decision.risk_pct == D("0.01")


@pytest.mark.parametrize(
    ("made", "snap", "state", "reason"),
    [
        (decision(confidence=D("0.5")), snapshot(), ACTIVE, risk.CONFIDENCE_BELOW_MIN),
        (decision("sell"), snapshot(), ACTIVE, risk.NO_POSITION),
        (decision(), snapshot(btc="0.005", btc_avg="100000000"), ACTIVE,
         risk.MAX_POSITION_EXCEEDED),
        (decision(), snapshot(krw="6000"), ACTIVE, risk.INSUFFICIENT_BALANCE),
        (decision(), snapshot(), RiskState(state=TradingState.HALTED,
                                           reasons=(risk.KILL_SWITCH,)), risk.HALTED),
        (decision(), snapshot(), RiskState(state=TradingState.REDUCING), risk.REDUCING_ONLY),
        (decision(), snapshot(), RiskState(state=TradingState.ACTIVE, in_cooldown=True),
         risk.COOLDOWN),
        (decision(risk_pct=D(0)), snapshot(), ACTIVE, risk.NO_RISK),
        (decision(order_type="limit", limit_price=D(50_000_000)), snapshot(), ACTIVE,
         risk.LIMIT_PRICE_OFF_MARKET),
        (decision("sell"), snapshot(btc="0.00001", btc_avg="1"), ACTIVE,
         risk.BELOW_MIN_ORDER),
    ],
)
def test_rejections_carry_machine_readable_reasons(
    made: TradeDecision, snap: object, state: RiskState, reason: str
) -> None:
    verdict = manager().review(made, snap, state)  # type: ignore[arg-type]
    assert not verdict.approved
    assert reason in verdict.reasons


def test_reducing_still_allows_sells() -> None:
    held = snapshot(btc="0.002", btc_avg="90000000")
    verdict = manager().review(decision("sell"), held, RiskState(state=TradingState.REDUCING))
    assert verdict.approved and verdict.side is Side.SELL


def test_hold_is_not_a_trade() -> None:
    verdict = manager().review(decision("hold", risk_pct=D(0)), snapshot(), ACTIVE)
    assert not verdict.approved and verdict.reasons == ("hold",)


def test_confirm_turns_caps_into_shrink_reasons() -> None:
    snap = snapshot(krw="10000000")
    verdict = manager().review(decision(risk_pct=D("0.01")), snap, ACTIVE)
    account = snap.account
    proposal = evaluate_allocation(
        AllocationRequest(side=Side.BUY, equity_krw=account.equity_krw,
                          cash_krw=account.cash_krw, reserved_pool_krw=account.reserved_pool_krw,
                          invested_krw=D(0), position_size=D(0), risk_pct=D("0.01"),
                          stop_fraction=D("0.02"), orderbook=btc_book(), fee_rate=D("0.0025"),
                          min_order_krw=D(5000)),
        AllocationConfig(), CONFIG, TwapConfig(),
    )
    confirmed = manager().confirm(verdict, proposal)
    assert confirmed.approved and confirmed.shrunk
    assert risk.MAX_TRADE_VALUE_EXCEEDED in confirmed.reasons
    assert proposal.final_notional == D(100_000)


def test_assess_state_daily_loss_and_kill_switch() -> None:
    ok = assess_state(CONFIG, equity_krw=D(960_000), day_start_equity=D(1_000_000),
                      kill_switch=False, last_trade_at=None, now=NOW)
    assert ok.state is TradingState.ACTIVE and ok.daily_pnl_krw == D(-40_000)
    hit = assess_state(CONFIG, equity_krw=D(950_000), day_start_equity=D(1_000_000),
                       kill_switch=False, last_trade_at=None, now=NOW)
    assert hit.state is TradingState.HALTED and risk.DAILY_LOSS_LIMIT in hit.reasons
    killed = assess_state(CONFIG, equity_krw=D(1), day_start_equity=None, kill_switch=True,
                          last_trade_at=None, now=NOW)
    assert killed.kill_switch and killed.state is TradingState.HALTED
    krw_limit = CONFIG.model_copy(update={"daily_loss_limit_krw": D(10_000)})
    small = assess_state(krw_limit, equity_krw=D(989_000), day_start_equity=D(1_000_000),
                         kill_switch=False, last_trade_at=None, now=NOW)
    assert small.state is TradingState.HALTED


def test_reduce_only_and_cooldown() -> None:
    reducing = CONFIG.model_copy(update={"reduce_only": True,
                                         "cooldown": timedelta(minutes=30)})
    state = assess_state(reducing, equity_krw=D(1), day_start_equity=D(1), kill_switch=False,
                         last_trade_at=NOW - timedelta(minutes=10), now=NOW)
    assert state.state is TradingState.REDUCING and state.in_cooldown
    later = assess_state(reducing, equity_krw=D(1), day_start_equity=D(1), kill_switch=False,
                         last_trade_at=NOW - timedelta(minutes=31), now=NOW)
    assert not later.in_cooldown


def test_start_of_day_is_midnight_in_seoul() -> None:
    # 2026-03-02 01:00 UTC is 10:00 KST; the KST day began at 2026-03-01 15:00 UTC.
    start = risk.start_of_day_kst(NOW)
    assert start.astimezone(timezone.utc) == datetime(2026, 3, 1, 15, 0, tzinfo=timezone.utc)


def test_sell_fraction() -> None:
    assert risk.sell_fraction(decision("sell"), D("0.5")) == 1
    reduce = decision("sell", agent_intent=AgentIntent.REDUCE)
    assert risk.sell_fraction(reduce, D("0.5")) == D("0.5")
    assert Action.HOLD.value == "hold"
