"""``backtest --export trades.csv``: the trade table as CSV, one row per trade.

The columns are ``trades.TRADE_COLUMNS``; numbers are written exactly as the JSON holds
them (decimal strings), times as ISO 8601 in UTC, a missing value as an empty field.
"""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .trades import TRADE_COLUMNS


def write_trades_csv(rows: list[dict[str, Any]], target: Path) -> None:
    """Write ``rows`` (``BacktestResult.details["trade_list"]``) to ``target``."""
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRADE_COLUMNS)
        for row in rows:
            writer.writerow([_cell(row.get(column)) for column in TRADE_COLUMNS])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
