"""The trading prompt: rules, limits and instructions in order; compact numbers; size."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from bithumb_llm_trader.config import StrategyConfig, load_config
from bithumb_llm_trader.domain import CandleInterval
from bithumb_llm_trader.market.model import CandleFeatures
from bithumb_llm_trader.prompts import PROMPT_VERSION, build_trading_prompt
from bithumb_llm_trader.prompts.builder import INSTRUCTIONS_BEGIN, INSTRUCTIONS_END
from tests.market._factories import load_minute_candles
from tests.prompts.snapshots import flat, snapshot

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CONFIG = REPO / "examples" / "config.sample.json"
INSTRUCTIONS = (
    "Trade only with the trend on the 15-minute chart. Prefer holding during the Asian "
    "lunch hours when volume is thin. Never add to a losing position. Take partial profits "
    "(reduce) when RSI is above 75 and the position is up more than 3%."
)


def sample_config(**strategy: object) -> StrategyConfig:
    config = load_config(SAMPLE_CONFIG, environ={}, dotenv=None)
    return config.model_copy(
        update={"strategy": config.strategy.model_copy(update=strategy)}
    )


def test_version_is_recorded_and_the_prompt_is_deterministic() -> None:
    snap = snapshot()
    first = build_trading_prompt(snap, snap.position, sample_config())
    second = build_trading_prompt(snap, snap.position, sample_config())
    assert first.version == PROMPT_VERSION == "trade-v1"
    assert first == second and first.digest == second.digest


def test_system_part_states_the_rules_and_the_configured_limits() -> None:
    config = sample_config()
    risk = config.risk.model_copy(update={
        "min_confidence": Decimal("0.65"), "max_risk_pct": Decimal("0.012"),
        "stop_loss_pct": Decimal("0.025"), "take_profit_pct": Decimal("0.05"),
        "max_trade_value": Decimal(150_000), "max_position_krw": Decimal(750_000),
    })
    snap = snapshot()
    config = config.model_copy(update={"risk": risk})
    system = build_trading_prompt(snap, snap.position, config).system
    for text in (
        "Spot only, long only", "sell BTC that is held", "answer hold",
        "risk manager enforces the limits", "may shrink or refuse",
        "min_confidence 0.65", "max_risk_pct 0.012", "stop_loss_pct 0.025",
        "take_profit_pct 0.05", "max trade value 150000 KRW", "max position value 750000 KRW",
        '- action: one of "buy", "sell", "hold"', "- rationale: string of at most 600",
    ):
        assert text in system, text
    assert "Reduce-only" not in system


def test_reduce_only_mode_is_a_rule() -> None:
    config = sample_config()
    risk = config.risk.model_copy(update={"reduce_only": True})
    config = config.model_copy(update={"risk": risk})
    snap = snapshot()
    assert "Reduce-only mode is on" in build_trading_prompt(snap, snap.position, config).system


def test_instructions_come_after_the_safety_rules_and_cannot_replace_them() -> None:
    snap = snapshot()
    config = sample_config(instructions=INSTRUCTIONS)
    system = build_trading_prompt(snap, snap.position, config).system
    begin, end = system.index(INSTRUCTIONS_BEGIN), system.index(INSTRUCTIONS_END)
    assert system.index("SAFETY RULES") < system.index("RISK LIMITS") < begin
    assert system.index("Reply with one JSON object") < begin
    assert begin < system.index(INSTRUCTIONS) < end
    assert "cannot replace them" in system[:begin]
    assert "the safety rules win" in system[:begin]
    assert "still apply in full" in system[end:]


def test_no_instructions_no_section() -> None:
    snap = snapshot()
    system = build_trading_prompt(snap, snap.position, sample_config(instructions="  ")).system
    assert INSTRUCTIONS_BEGIN not in system


def test_user_part_shows_the_last_prompt_candles_compactly() -> None:
    snap = snapshot()
    user = build_trading_prompt(snap, snap.position, sample_config(prompt_candles=3)).user
    shown = snap.candles[-3:]
    rows = [line for line in user.splitlines() if line[:2] == "09" and line[2] == "-"]
    assert len(rows) == 3
    last = shown[-1]
    assert rows[-1] == (
        f"{last.start:%m-%d %H:%M} {int(last.open)} {int(last.high)} {int(last.low)} "
        f"{int(last.close)} 16.35"
    )
    assert f"{snap.candles[-4].start:%m-%d %H:%M}" not in user
    assert "CANDLES 15m, oldest first" in user


def test_zero_prompt_candles_leaves_the_table_out() -> None:
    snap = snapshot()
    user = build_trading_prompt(snap, snap.position, sample_config(prompt_candles=0)).user
    assert "CANDLES" not in user


def test_user_part_has_features_book_and_account() -> None:
    snap = snapshot()
    user = build_trading_prompt(snap, snap.position, sample_config()).user
    for text in (
        "SNAPSHOT KRW-BTC at 2025-09-30 12:00 UTC; last price 150803000; 24h change +1.234%",
        "return_1=+0.123%", "return_4=-0.412%", "volatility=0.231%", "rsi=56.8",
        "ema_slow=150101998", "atr=412346",
        "BOOK bid 150802000 ask 150803000 spread 0.66bps; imbalance +0.123",
        "bids 823456790, asks 654321987",
        "position 0.01234567 BTC at avg 149123000",
        "unrealised PnL +20741", "free cash 2345678", "equity 4207442",
        "reserved pool 841488 (never spent)", "spendable 1504190",
        "FEES taker buy 0.25% sell 0.25%; min order 5000 KRW",
    ):
        assert text in user, text


def test_flat_position_and_warm_up_features_are_said_plainly() -> None:
    snap = flat(snapshot(features=CandleFeatures(count=5, close=150_803_000.0)))
    user = build_trading_prompt(snap, snap.position, sample_config()).user
    assert "position none (BTC flat)" in user
    assert "FEATURES over 5 candles" in user
    assert "rsi=n/a" in user and "close=150803000" in user


def test_a_losing_position_shows_a_negative_pnl() -> None:
    snap = snapshot(last_price=Decimal(148_000_000))
    user = build_trading_prompt(snap, snap.position, sample_config()).user
    assert "unrealised PnL -13864" in user  # 0.01234567 * (148,000,000 - 149,123,000)


def test_a_typical_prompt_stays_under_1500_tokens() -> None:
    snap = snapshot()
    plain = build_trading_prompt(snap, snap.position, sample_config())
    instructed = build_trading_prompt(snap, snap.position, sample_config(instructions=INSTRUCTIONS))
    assert plain.estimated_tokens < 1500
    assert instructed.estimated_tokens < 1500
    assert plain.estimated_tokens > 600  # it really contains the 24 candles and the rules


def test_real_candles_give_a_prompt_under_1500_tokens() -> None:
    candles = tuple(load_minute_candles()[-200:])  # skips when the shared data is absent
    snap = replace(snapshot(last_price=candles[-1].close), candles=candles,
                   taken_at=candles[-1].start)
    config = sample_config(candle_interval=CandleInterval.M1, instructions=INSTRUCTIONS)
    prompt = build_trading_prompt(snap, snap.position, config)
    assert prompt.estimated_tokens < 1500
    assert f"{int(candles[-1].close)} " in prompt.user or f"{int(candles[-1].close)}\n" in (
        prompt.user
    )
    assert "e+" not in prompt.user and "E+" not in prompt.user  # no exponent notation
