"""Shared pieces of the backtest tests: candle files, configs, scripted deciders, runs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bithumb_llm_trader.backtest import Backtest, BacktestResult, BacktestSettings
from bithumb_llm_trader.bootstrap.backtest import replay_engine
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config import StrategyConfig
from bithumb_llm_trader.decision import AgentIntent, DecisionOutcome, TradeDecision
from bithumb_llm_trader.market import MarketSnapshot
from bithumb_llm_trader.prompts import Prompt
from bithumb_llm_trader.store import SqlStore, open_store

D = Decimal
UTC = timezone.utc
T0 = datetime(2025, 9, 1, 0, 0, tzinfo=UTC)
SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
MINUTE_FILE = SHARED_DATA / "upbit_krw_btc_1m_2025-09.csv"
KST_FILE = SHARED_DATA / "upbit_krw_btc_1m_2022-07_2023-05_chunks.csv"
ORDERBOOK_FILE = SHARED_DATA / "upbit_orderbook_krw_btc_2021-03-08.json"


def shared(path: Path) -> Path:
    """``path`` in the shared data folder, or skip the test when it is absent."""
    if not path.exists():
        pytest.skip(f"{path.name} is not here (the shared data folder is absent)")
    return path


Row = tuple[str, ...]
Prices = list[tuple[int, int, int, int]]  # (open, high, low, close) per candle


def candle_rows(prices: Prices, *, start: datetime = T0,
                minutes: int = 1, skip: Sequence[int] = ()) -> list[Row]:
    """CSV rows (UTC layout) for ``(open, high, low, close)`` tuples, one per ``minutes``.

    Indexes in ``skip`` are left out of the file: holes in the data.
    """
    rows = []
    for index, (open_, high, low, close) in enumerate(prices):
        if index in skip:
            continue
        when = start + timedelta(minutes=minutes * index)
        rows.append((when.strftime("%Y-%m-%d %H:%M:%S"), str(open_), str(high), str(low),
                     str(close), "1.5"))
    return rows


def write_csv(path: Path, rows: Sequence[Row],
              header: str = "timestamp,open,high,low,close,volume") -> Path:
    path.write_text(header + "\n" + "".join(",".join(row) + "\n" for row in rows),
                    encoding="utf-8")
    return path


def flat_prices(count: int, price: int = 100_000_000) -> Prices:
    return [(price, price, price, price)] * count


def walk_prices(count: int, start: int = 100_000_000, seed: int = 7) -> Prices:
    """A deterministic up-and-down walk on the 1,000 KRW tick."""
    prices, price, state = [], start, seed
    for _ in range(count):
        state = (state * 1103515245 + 12345) % 2**31
        step = (state % 41 - 20) * 10_000
        open_, close = price, price + step
        high, low = max(open_, close) + 20_000, min(open_, close) - 20_000
        prices.append((open_, high, low, close))
        price = close
    return prices


def config(**sections: Any) -> StrategyConfig:
    """A strategy on 1-minute candles deciding every minute, with a test-friendly book.

    The book puts the best ask and bid one 1,000 KRW tick either side of the price (a
    0.1 bps spread rounds out to one tick) and holds 10 billion KRW per level, so every
    test order fills whole at the best level.
    """
    data: dict[str, Any] = {
        "name": "bt-test",
        "strategy": {"decider": "rules", "candle_interval": "1m", "prompt_candles": 5},
        "risk": {"max_trade_value": 500_000, "max_position_krw": 1_000_000,
                 "kill_switch_file": None, "daily_loss_limit_pct": None},
        "allocation": {"reserved_pool_pct": 0, "max_single_order_pct": 0.5,
                       "fee_rate": 0.0025},
        "paper": {"initial_balances": {"KRW": 1_000_000}},
        "backtest": {"spread_bps": "0.1", "level_spacing_bps": "0.1",
                     "level_notional_krw": 10_000_000_000, "book_levels": 5},
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return StrategyConfig.model_validate(data)


def buy(risk_pct: str = "0.01", stop: str | None = "0.02", **extra: Any) -> TradeDecision:
    return TradeDecision(action="buy", confidence=D("0.8"), risk_pct=D(risk_pct),
                         stop_loss_pct=None if stop is None else D(stop),
                         agent_intent=AgentIntent.ENTER_LONG, rationale="test", **extra)


def sell() -> TradeDecision:
    return TradeDecision(action="sell", confidence=D("0.9"), agent_intent=AgentIntent.EXIT,
                         rationale="test")


HOLD = TradeDecision.hold("test")


@dataclass
class Seen:
    """What one decision was shown."""

    taken_at: datetime
    last_price: Decimal
    candles: tuple[tuple[datetime, Decimal, Decimal, Decimal, Decimal], ...]
    features: dict[str, Any]
    position: Decimal
    prompt: str


@dataclass
class ScriptedDecider:
    """Answers ``script[n]`` on its n-th call (HOLD after the script) and records what
    each decision saw."""

    script: list[TradeDecision] = field(default_factory=list)
    name: str = "scripted"
    needs_prompt: bool = False
    seen: list[Seen] = field(default_factory=list)

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        index = len(self.seen)
        self.seen.append(Seen(
            taken_at=snapshot.taken_at, last_price=snapshot.last_price,
            candles=tuple((c.start, c.open, c.high, c.low, c.close) for c in snapshot.candles),
            features=snapshot.features.as_dict(), position=snapshot.position.size,
            prompt=prompt.user,
        ))
        decision = self.script[index] if index < len(self.script) else HOLD
        return DecisionOutcome(decision=decision, decider="rules")


def run_backtest(
    cfg: StrategyConfig, data: Path, decider: Any, *, store: SqlStore | None = None,
    db: Path | None = None, **settings: Any,
) -> tuple[BacktestResult, SqlStore]:
    """Run one backtest on an SQLite store (``db``, or a fresh file next to ``data``)."""
    store = store or open_store(f"sqlite:///{db or data.with_suffix('.db')}")
    backtest = Backtest(cfg, BacktestSettings(data=data, backtest_id=settings.pop(
        "backtest_id", "0123456789abcdef0123456789abcdef"), **settings),
        decider=decider, engines=replay_engine, store=store,
        wall_clock=ManualClock(datetime(2026, 1, 2, tzinfo=UTC)))
    return asyncio.run(backtest.run()), store


def rows(store: SqlStore, table: str) -> list[dict[str, Any]]:
    """Every row of ``table``, with money as Decimal and times as aware UTC."""
    from sqlalchemy import select

    from bithumb_llm_trader.store import metadata

    with store.engine.connect() as connection:
        result = connection.execute(select(metadata.tables[table]))
        return [dict(r._mapping) for r in result]
