"""Shared pieces of the search tests: a small candle file and a strategy to search."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.backtest.helpers import candle_rows, walk_prices, write_csv

SPACE = {
    "strategy.rules.ema_fast": {"type": "int", "low": 3, "high": 8},
    "strategy.rules.atr_stop_multiple": {"type": "float", "low": 1, "high": 3, "step": 0.5},
    "risk.max_risk_pct": {"type": "log", "low": 0.002, "high": 0.02},
}


def candles(path: Path, count: int = 480) -> Path:
    """``count`` one-minute candles of a deterministic walk (a few seconds of trials)."""
    return write_csv(path, candle_rows(walk_prices(count, seed=11)))


def strategy(path: Path, **optimize: Any) -> Path:
    """A rules strategy on 5-minute bars with a search space, as a JSON file."""
    data = {
        "name": "opt-test",
        "strategy": {"decider": "rules", "candle_interval": "5m", "prompt_candles": 5,
                     "rules": {"ema_fast": 5, "ema_slow": 12, "atr_period": 5,
                               "rsi_period": 5}},
        "risk": {"max_trade_value": 500000, "kill_switch_file": None,
                 "daily_loss_limit_pct": None},
        "allocation": {"reserved_pool_pct": 0, "max_single_order_pct": 0.5},
        "paper": {"initial_balances": {"KRW": 1000000}},
        "optimize": {"objective": "return", "folds": 2, "space": SPACE, **optimize},
    }
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
