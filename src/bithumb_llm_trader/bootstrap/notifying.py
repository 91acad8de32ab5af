"""Notifications: one notifier a process, the engine's notices, the lease refusal.

The sender (``notify.sender.Notifier``, httpx and SQLAlchemy) is imported here only, and
only when the strategy names URLs: without any, events go to a ``NullEmitter`` and no
thread starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..clock import SystemClock
from ..config import StrategyConfig
from ..domain import Mode
from ..engine.notices import CycleNotices
from ..errors import LeaseHeld
from ..notify import Emitter, EventKind, NullEmitter, events
from ..ports import Clock
from ..store import SqlStore
from .mode import secrets_of

if TYPE_CHECKING:
    from ..notify.sender import Delivery


def build_notifier(config: StrategyConfig, store: SqlStore, *,
                   extra_secret: str | None = None) -> Emitter:
    """A notifier for ``config``'s ``notifications`` section (recording into ``store``),
    or a ``NullEmitter`` when it names no URL."""
    section = config.notifications
    if not (section.enabled and section.urls):
        return NullEmitter()
    from ..notify.sender import Notifier

    return Notifier(section, secrets=secrets_of(config, extra_secret), engine=store.engine)


def close_notifier(emitter: Emitter, timeout: float = 5.0) -> None:
    """Give queued messages up to ``timeout`` seconds to go out, at the end of a command."""
    close = getattr(emitter, "close", None)
    if close is not None:
        close(timeout)


def engine_notices(config: StrategyConfig, mode: Mode, emitter: Emitter,
                   store: SqlStore) -> CycleNotices:
    """The events a strategy's cycles send: fills, state changes, failures, a summary."""
    section = config.notifications
    sent = None
    if section.daily_summary_at is not None and not isinstance(emitter, NullEmitter):
        # A restart on the same day must not send the day's summary twice.
        from ..notify.record import last_sent_at

        sent = last_sent_at(store.engine, EventKind.DAILY_SUMMARY, config.name, mode.value)
    return CycleNotices(
        emitter, strategy=config.name, mode=mode.value, market=str(config.market),
        failures_threshold=section.consecutive_failures, summary_at=section.daily_summary_at,
        day_totals=lambda since: store.day_totals(config.name, mode.value, since),
        summary_sent=sent,
    )


def tell_lease_refused(config: StrategyConfig, mode: Mode, store: SqlStore, clock: Clock,
                       refusal: LeaseHeld, key: str) -> None:
    """Another process holds the account: say so (briefly blocking, the run is ending)."""
    emitter = build_notifier(config, store)
    emitter.emit(events.lease_refused(config.name, mode.value, key, str(refusal),
                                      clock.now()))
    close_notifier(emitter)


def send_test(config: StrategyConfig) -> list[Delivery]:
    """``notify-test``: one test message to every URL, now; what became of each."""
    from ..notify.sender import Notifier

    notifier = Notifier(config.notifications, secrets=secrets_of(config))
    mode = "dry" if config.dry_run else "live"
    try:
        return notifier.send_now(events.notify_test_event(config.name, mode,
                                                          SystemClock().now()))
    finally:
        notifier.close(timeout=1.0)
