"""Shared builders for the notify tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Engine, select

from bithumb_llm_trader.notify import events
from bithumb_llm_trader.notify.config import NotificationsConfig
from bithumb_llm_trader.notify.record import notifications
from bithumb_llm_trader.store import SqlStore, open_store

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)  # 09:00 KST, a Monday


def settings(*urls: str, **fields: Any) -> NotificationsConfig:
    return NotificationsConfig(urls=[SecretStr(url) for url in urls], **fields)


def store(tmp_path: Path) -> SqlStore:
    return open_store(f"sqlite:///{tmp_path / 'notify.db'}")


def rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(select(notifications).order_by(notifications.c.id))
        return [dict(row._mapping) for row in result]


def a_fill(at: datetime = T0) -> events.Event:
    return events.order_filled("btc-llm", "dry", "bid", Decimal("0.00123456789"),
                               Decimal("95123456.7"), Decimal("117437.5"), Decimal("293.59"),
                               at, market="KRW-BTC", order_id="c-1")


def a_failure(at: datetime, step: str = "snapshot") -> events.Event:
    return events.cycle_failed("btc-llm", "dry", step, "ConnectError: no route", at)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
