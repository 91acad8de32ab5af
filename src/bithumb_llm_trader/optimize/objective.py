"""The score a trial maximises, from a backtest's headline figures (after fees).

* ``return``: total return of the window (fees and slippage paid);
* ``sharpe`` / ``sortino``: the backtest's annualised ratios;
* ``calmar``: the return annualised over the window, over the max drawdown.

A window without a figure (no trade: flat equity has no Sharpe) scores 0, the score of
doing nothing, so a search is not drawn to parameters that never trade nor fails on them.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal
from typing import Any

_YEAR = timedelta(days=365)
_LEAST_DRAWDOWN = 1e-6


def score(results: dict[str, Any], objective: str, window: timedelta) -> float:
    """The objective's value for a backtest's ``results`` over ``window``."""
    total = _number(results.get("total_return"))
    if objective == "return":
        return total if total is not None else 0.0
    if objective in ("sharpe", "sortino"):
        value = _number(results.get(objective))
        return value if value is not None else 0.0
    if objective == "calmar":
        return calmar(total, _number(results.get("max_drawdown")), window)
    raise ValueError(f"unknown objective {objective!r}")


def calmar(total: float | None, drawdown: float | None, window: timedelta) -> float:
    if total is None or total <= -1 or window <= timedelta(0):
        return 0.0
    yearly = (1 + total) ** (_YEAR / window) - 1 if total else 0.0
    if not math.isfinite(yearly):
        return 0.0
    return yearly / max(drawdown or 0.0, _LEAST_DRAWDOWN) if yearly else 0.0


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value) if isinstance(value, (int, float, Decimal, str)) else None
    return number if number is not None and math.isfinite(number) else None
