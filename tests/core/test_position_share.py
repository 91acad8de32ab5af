"""``risk.max_position_size`` is a share of equity; ``risk.max_position_krw`` the KRW cap
(issue 17). The smaller of the two binds in the risk manager, in allocation and in the
pre-trade gate's rules."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bithumb_llm_trader import risk
from bithumb_llm_trader.allocation import CAP_POSITION, AllocationRequest, evaluate_allocation
from bithumb_llm_trader.bootstrap import strategy_rules
from bithumb_llm_trader.config import (
    AllocationConfig,
    RiskConfig,
    StrategyConfig,
    TwapConfig,
    load_config,
)
from bithumb_llm_trader.decision import TradeDecision
from bithumb_llm_trader.domain import Mode, Side
from bithumb_llm_trader.errors import ConfigError
from bithumb_llm_trader.main import app
from bithumb_llm_trader.risk import RiskManager, RiskState, TradingState

from .books import btc_book, snapshot

D = Decimal
MESSAGE = ("risk.max_position_size: a share of equity (0 < x <= 1); for a cap in KRW use"
           " risk.max_position_krw (got 500000)")


def write(tmp_path: Path, risk_section: dict[str, object]) -> Path:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"risk": risk_section}), encoding="utf-8")
    return path


def test_an_old_krw_amount_is_refused_naming_the_new_field(tmp_path: Path) -> None:
    path = write(tmp_path, {"max_position_size": 500000})
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={}, dotenv=None)
    assert str(caught.value) == f"{path}: {MESSAGE}"
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and MESSAGE in result.stderr


@pytest.mark.parametrize("value", ["0", "-0.1", "1.0001", "NaN", "Infinity"])
def test_a_share_outside_zero_to_one_is_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "c.json"
    path.write_text(f'{{"risk": {{"max_position_size": {value}}}}}', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"risk\.max_position_size"):
        load_config(path, environ={}, dotenv=None)


def test_defaults_and_the_effective_cap(tmp_path: Path) -> None:
    default = RiskConfig()
    assert default.max_position_size is None  # no share cap unless asked for
    assert default.max_position_krw == D(500_000)
    assert default.position_cap_krw(D(10**9)) == D(500_000)
    config = load_config(write(tmp_path, {"max_position_size": 0.2}), environ={}, dotenv=None)
    share = config.risk
    assert share.max_position_size == D("0.2")
    assert share.position_cap_krw(D(1_000_000)) == D(200_000)  # the share binds
    assert share.position_cap_krw(D(10_000_000)) == D(500_000)  # the KRW cap binds
    assert RiskConfig(max_position_size=D(1)).position_cap_krw(D(300_000)) == D(300_000)
    assert share.position_cap_krw(D(-5)) == 0


def buy() -> TradeDecision:
    return TradeDecision(action="buy", confidence=D("0.8"), risk_pct=D("0.005"),
                         agent_intent="enter_long")


def test_the_risk_manager_rejects_a_buy_when_the_share_is_used_up() -> None:
    # Equity 1,000,000 KRW + 0.002 BTC at 100 M = 1,200,000; the position is 200,000.
    held = snapshot(btc="0.002", btc_avg="100000000")
    state = RiskState(state=TradingState.ACTIVE)
    within = RiskManager(RiskConfig(max_position_size=D("0.2")), min_order_krw=D(5000))
    assert within.review(buy(), held, state).approved  # cap 240,000: room for 40,000
    full = RiskManager(RiskConfig(max_position_size=D("0.1")), min_order_krw=D(5000))
    verdict = full.review(buy(), held, state)
    assert not verdict.approved and verdict.reasons == (risk.MAX_POSITION_EXCEEDED,)


def test_allocation_caps_the_position_at_the_smaller_cap() -> None:
    request = AllocationRequest(
        side=Side.BUY, equity_krw=D(10_000_000), cash_krw=D(10_000_000),
        reserved_pool_krw=D(0), invested_krw=D(1_000_000), position_size=D("0.01"),
        risk_pct=D("0.01"), stop_fraction=D("0.02"), orderbook=btc_book(),
        fee_rate=D("0.0025"), min_order_krw=D(5000))
    alloc = AllocationConfig(max_single_order_pct=D(1))
    wide = RiskConfig(max_trade_value=D(10**9), max_position_krw=D(10**9),
                      max_position_size=D("0.15"))
    proposal = evaluate_allocation(request, alloc, wide, TwapConfig())
    # 0.15 of 10 M = 1.5 M, of which 1 M is held: 500,000 left
    assert proposal.caps[CAP_POSITION] == D(500_000)
    assert proposal.final_notional == D(500_000) and CAP_POSITION in proposal.caps_hit
    krw = wide.model_copy(update={"max_position_krw": D(1_200_000)})
    assert evaluate_allocation(request, alloc, krw, TwapConfig()).caps[CAP_POSITION] == D(
        200_000)


def test_the_gate_rules_carry_both_caps() -> None:
    config = StrategyConfig(risk=RiskConfig(max_position_krw=D(700_000),
                                            max_position_size=D("0.3")))
    rules = strategy_rules(config, Mode.DRY, lambda: False)
    assert rules.max_position_krw == D(700_000) and rules.max_position_share == D("0.3")
    default = strategy_rules(StrategyConfig(), Mode.DRY, lambda: False)
    assert default.max_position_krw == D(500_000) and default.max_position_share is None
