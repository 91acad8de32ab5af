"""Consecutive failures and the daily summary, on a fake clock."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from bithumb_llm_trader.domain import KST
from bithumb_llm_trader.notify import ConsecutiveFailures, DailySummaryClock, EventKind, Level
from bithumb_llm_trader.notify.sender import Notifier

from .helpers import T0, minutes, settings
from .receiver import Receiver


def test_one_message_at_n_failures_not_n_then_a_recovery(receiver: Receiver) -> None:
    tracker = ConsecutiveFailures(5, strategy="btc-llm", mode="dry")
    notifier = Notifier(settings(receiver.url(), events=["consecutive_failures"]))
    fired = []
    for n in range(8):
        event = tracker.record(False, at=T0 + minutes(15 * n), step="snapshot",
                               error="ConnectError: no route")
        fired.append(event is not None)
        if event is not None:
            notifier.emit(event)
    assert fired == [False] * 4 + [True] + [False] * 3
    recovered = tracker.record(True, at=T0 + minutes(120))
    assert recovered is not None and recovered.level is Level.INFO
    notifier.emit(recovered)
    assert tracker.record(True, at=T0 + minutes(135)) is None
    assert notifier.close(5)
    assert [(b["title"], b["type"]) for b in receiver.bodies] == [
        ("[btc-llm/dry] 5 cycles in a row failed", "failure"),
        ("[btc-llm/dry] recovered after 8 failed cycles", "info")]
    assert "last error: ConnectError: no route" in receiver.bodies[0]["message"]


def test_failures_below_the_threshold_say_nothing() -> None:
    tracker = ConsecutiveFailures(3, strategy="s", mode="dry")
    results = [tracker.record(ok, at=T0) for ok in (False, False, True, False, False, True)]
    assert results == [None] * 6
    once = ConsecutiveFailures(1, strategy="s", mode="dry")
    first = once.record(False, at=T0)
    assert first is not None and first.kind is EventKind.CONSECUTIVE_FAILURES
    assert once.record(False, at=T0) is None
    with pytest.raises(ValueError):
        ConsecutiveFailures(0, strategy="s", mode="dry")


def kst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=KST)


def test_the_daily_summary_is_due_once_per_kst_day() -> None:
    clock = DailySummaryClock(time(9, 0))
    now, due = kst(2, 7), []
    while now < kst(5, 7):  # a loop every 15 minutes for three days
        if clock.due(now):
            due.append(now)
        now += timedelta(minutes=15)
    assert due == [kst(2, 9), kst(3, 9), kst(4, 9)]
    assert clock.last_day == kst(4, 9).date()


def test_the_daily_summary_follows_kst_not_utc_and_is_never_skipped() -> None:
    clock = DailySummaryClock(time(23, 59))
    assert not clock.due(kst(2, 23, 50))
    assert clock.due(kst(3, 0, 5))  # slept through 23:59: sent late, once
    assert not clock.due(kst(3, 0, 20))
    utc_clock = DailySummaryClock(time(9, 0))
    assert not utc_clock.due(datetime(2026, 3, 1, 23, 59, tzinfo=timezone.utc))  # 08:59 KST
    assert utc_clock.due(T0)  # 00:00 UTC is 09:00 KST


def test_a_late_start_sends_today_unless_it_was_sent() -> None:
    assert DailySummaryClock(time(9, 0)).due(kst(2, 15))
    seeded = DailySummaryClock(time(9, 0), last_sent=kst(2, 9, 1))
    assert not seeded.due(kst(2, 15))
    assert seeded.due(kst(3, 9))
    assert not DailySummaryClock(None).due(kst(2, 9))
