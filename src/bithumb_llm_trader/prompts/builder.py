"""The trading prompt: safety rules and limits in the system part, numbers in the user part.

The system part is the same for every cycle of a strategy (role, safety rules, risk
limits, answer format, then the strategy's own instructions in a fenced section that
cannot override the rules). The user part is the snapshot, written as compact numbers:
a model reads ``150803000`` as easily as ``150,803,000`` and each separator costs a
token. A typical prompt stays under 1,500 tokens by the chars/4 estimate.

Bump ``PROMPT_VERSION`` whenever the wording changes: it is recorded with every
decision and is part of the decision-cache key.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from ..config import RiskConfig, StrategyConfig
from ..domain import Candle, CandleInterval, Position
from ..market.model import AccountView, BookSummary, CandleFeatures, MarketSnapshot
from .answer_format import describe_answer_format
from .model import Prompt

PROMPT_VERSION = "trade-v1"

INSTRUCTIONS_BEGIN = "--- BEGIN STRATEGY INSTRUCTIONS ---"
INSTRUCTIONS_END = "--- END STRATEGY INSTRUCTIONS ---"

_SIGNED_PERCENT_FEATURES = frozenset({"return_1", "return_4", "return_24", "volume_change"})
_PERCENT_FEATURES = _SIGNED_PERCENT_FEATURES | {"volatility", "atr_pct"}
_WHOLE = Decimal(1)


def build_trading_prompt(
    snapshot: MarketSnapshot, position: Position, config: StrategyConfig
) -> Prompt:
    """Build the versioned prompt for one decision.

    Args:
        snapshot: the market and account at decision time.
        position: the holding of the traded coin the decision is about (normally
            ``snapshot.position``; the engine may pass its own reconciled view).
        config: the strategy; its risk limits and instructions go into the text.
    """
    return Prompt(
        system=system_text(config),
        user=user_text(snapshot, position, config),
        version=PROMPT_VERSION,
    )


def system_text(config: StrategyConfig) -> str:
    """Role, safety rules, limits, answer format, then the strategy's instructions."""
    market = config.market
    sections = [
        f"You decide one trade at a time for an automated spot trader on the Bithumb "
        f"exchange, market {market} (prices in KRW). Each message is one snapshot of the "
        f"market and the account; answer it with one decision.",
        _safety_rules(market.base, config.risk),
        _risk_limits(config.risk),
        describe_answer_format(),
    ]
    instructions = (config.strategy.instructions or "").strip()
    if instructions:
        sections.append(_instructions_section(instructions))
    return "\n\n".join(sections)


def _safety_rules(base: str, risk: RiskConfig) -> str:
    rules = [
        "SAFETY RULES (they always apply and nothing later in this prompt can change them)",
        f"1. Spot only, long only: buy {base} with KRW, or sell {base} that is held. Never "
        "sell more than the position; no shorting, leverage or borrowing.",
        "2. When unsure, or when data is missing or looks wrong, answer hold.",
        "3. A risk manager enforces the limits below on every decision and may shrink or "
        "refuse it; stay within them.",
        "4. Decide from the numbers in the message only.",
    ]
    if risk.reduce_only:
        rules.append("5. Reduce-only mode is on: answer sell or hold, never buy.")
    return "\n".join(rules)


def _risk_limits(risk: RiskConfig) -> str:
    return "\n".join(
        [
            "RISK LIMITS",
            f"- min_confidence {risk.min_confidence}: a decision below it is not traded",
            f"- max_risk_pct {risk.max_risk_pct}: most equity a trade may lose at its stop",
            f"- defaults when you answer null: stop_loss_pct {risk.stop_loss_pct}, "
            f"take_profit_pct {risk.take_profit_pct}",
            f"- max trade value {_plain(risk.max_trade_value)} KRW; max position value "
            f"{_plain(risk.max_position_krw)} KRW",
        ]
    )


def _instructions_section(instructions: str) -> str:
    return "\n".join(
        [
            "STRATEGY INSTRUCTIONS (from the strategy file; they refine how you choose "
            "within the safety rules and limits above and cannot replace them: where they "
            "conflict, the safety rules win)",
            INSTRUCTIONS_BEGIN,
            instructions,
            INSTRUCTIONS_END,
            "The safety rules and risk limits above still apply in full.",
        ]
    )


def user_text(snapshot: MarketSnapshot, position: Position, config: StrategyConfig) -> str:
    """The snapshot as compact numbers: header, candles, features, book, account, fees."""
    count = config.strategy.prompt_candles
    parts = [_header(snapshot)]
    if count > 0 and snapshot.candles:
        parts.append(_candle_table(snapshot.candles[-count:], config.strategy.candle_interval))
    parts += [
        _features_line(snapshot.features),
        _book_line(snapshot.book),
        _account_line(snapshot.account, position, snapshot.last_price),
        _fees_line(snapshot),
    ]
    return "\n".join(parts)


def _header(snapshot: MarketSnapshot) -> str:
    taken = snapshot.taken_at.strftime("%Y-%m-%d %H:%M")
    text = f"SNAPSHOT {snapshot.market} at {taken} UTC; last price {_price(snapshot.last_price)}"
    change = snapshot.ticker.change_rate
    if change is not None:
        text += f"; 24h change {_percent(change)}"
    return text


def _candle_table(candles: tuple[Candle, ...], interval: CandleInterval) -> str:
    rows = [f"CANDLES {interval.value}, oldest first (UTC time, open high low close volume)"]
    rows.extend(
        f"{c.start.strftime('%m-%d %H:%M')} {_price(c.open)} {_price(c.high)} "
        f"{_price(c.low)} {_price(c.close)} {_significant(c.volume, 4)}"
        for c in candles
    )
    return "\n".join(rows)


def _features_line(features: CandleFeatures) -> str:
    values = features.as_dict()
    shown = " ".join(
        f"{name}={_feature(name, value)}" for name, value in values.items() if name != "count"
    )
    return (
        f"FEATURES over {features.count} candles (n/a: not enough data yet; returns, "
        f"volatility and volume_change in %)\n{shown}"
    )


def _feature(name: str, value: float | int | None) -> str:
    if value is None:
        return "n/a"
    if name in _PERCENT_FEATURES:
        sign = "+" if name in _SIGNED_PERCENT_FEATURES else ""
        return f"{value * 100:{sign}.3f}%"
    if name == "rsi":
        return f"{value:.1f}"
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.6g}"


def _book_line(book: BookSummary) -> str:
    return (
        f"BOOK bid {_price(book.best_bid)} ask {_price(book.best_ask)} spread "
        f"{_plain(book.spread_bps)}bps; imbalance {book.imbalance:+.3f} over the top {book.levels} "
        f"levels (-1 all asks, +1 all bids); KRW resting within {_plain(book.depth_bps)}bps "
        f"of mid: bids {_price(book.bid_depth_krw)}, asks {_price(book.ask_depth_krw)}"
    )


def _account_line(account: AccountView, position: Position, last_price: Decimal) -> str:
    if position.size > 0:
        pnl = position.unrealized_pnl(last_price)
        held = (
            f"position {_plain(position.size)} {position.market.base} at avg "
            f"{_price(position.avg_price)} (value {_price(position.value(last_price))}, "
            f"unrealised PnL {'+' if pnl >= 0 else ''}{_price(pnl)})"
        )
    else:
        held = f"position none ({position.market.base} flat)"
    return (
        f"ACCOUNT in KRW: {held}; free cash {_price(account.cash_krw)}; equity "
        f"{_price(account.equity_krw)}; reserved pool {_price(account.reserved_pool_krw)} "
        f"(never spent); spendable {_price(account.spendable_krw)}"
    )


def _fees_line(snapshot: MarketSnapshot) -> str:
    chance = snapshot.order_chance
    return (
        f"FEES taker buy {_percent(chance.bid_fee, signed=False)} sell "
        f"{_percent(chance.ask_fee, signed=False)}; "
        f"min order {_price(chance.min_total)} KRW"
    )


def _percent(fraction: Decimal, *, signed: bool = True) -> str:
    """A fraction as a percentage with up to 3 decimals: ``+1.234%`` (or ``0.25%``)."""
    value = (fraction * 100).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    return f"{'+' if signed and value >= 0 else ''}{_plain(value)}%"


def _price(value: Decimal) -> str:
    """Whole won for prices and amounts of 1,000 KRW or more, else 6 significant digits."""
    if abs(value) >= 1000:
        return _plain(value.quantize(_WHOLE, rounding=ROUND_HALF_EVEN))
    return _significant(value, 6)


def _significant(value: Decimal, digits: int) -> str:
    """``value`` rounded to ``digits`` significant digits, never in exponent notation."""
    if value == 0:
        return "0"
    places = max(digits - 1 - value.adjusted(), 0)
    return _plain(value.quantize(_WHOLE.scaleb(-places), rounding=ROUND_HALF_EVEN))


def _plain(value: Decimal) -> str:
    """Plain positional notation without trailing zeros: ``1.5``, ``150803000``."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")
