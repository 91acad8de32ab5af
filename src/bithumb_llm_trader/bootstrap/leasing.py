"""Holding the account: one process per account and mode may send orders.

Live, the account is the API key's identity (its hash); dry, the strategy or portfolio
name (each has its own paper wallet). A backtest takes no lease. The lease's time is
the wall clock whatever clock the run uses: it is about other processes, not market time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from ..clock import SystemClock
from ..config import StrategyConfig
from ..domain import Mode
from ..lease import Lease, LeaseManager, dry_key, live_key
from ..store import SqlStore


def account_key(config: StrategyConfig, mode: Mode, owner: str | None = None) -> str:
    """The lease key of the account ``config`` trades in ``mode``."""
    if mode is Mode.LIVE and config.api.api_key is not None:
        return live_key(config.api.api_key.get_secret_value())
    return dry_key(owner or config.name)


def hold_account(store: SqlStore, key: str, *, wait: timedelta | None) -> Lease:
    """Take the lease on ``key`` or raise ``LeaseHeld`` naming the holder."""
    return LeaseManager(store, clock=SystemClock()).acquire(key, wait=wait)


def holds(lease: Lease | None) -> Callable[[], bool]:
    """The gate's view of the lease: True while it is ours (always, without one)."""
    if lease is None:
        return lambda: True
    return lambda: lease.held


def release_and_close(lease: Lease | None, store: SqlStore) -> None:
    """Give the account up, then close the database, even if the first fails."""
    try:
        if lease is not None:
            lease.release()
    finally:
        store.close()
