"""When a repeated condition deserves one message: failures in a row, the daily summary.

Pure and clock-free (the caller passes the time), so the engine loop may hold them and a
test steps them over days in microseconds.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from ..domain import KST
from . import events
from .events import Event


class ConsecutiveFailures:
    """Counts cycles failed in a row; one message when the count reaches the threshold.

    ``record(ok=False)`` returns a ``consecutive_failures`` event exactly once, when the
    count reaches ``threshold`` (not again at threshold + 1...); the first success after
    that returns a recovery message, and starts counting afresh.
    """

    def __init__(self, threshold: int, *, strategy: str, mode: str) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.threshold, self.strategy, self.mode = threshold, strategy, mode
        self.count = 0

    def record(self, ok: bool, *, at: datetime, step: str = "", error: str = "") -> Event | None:
        """Record one cycle's outcome; the event to emit, if any.

        Args:
            ok: whether the cycle succeeded.
            at: when it ended.
            step, error: where and why it failed, for the message.
        """
        if ok:
            failed, self.count = self.count, 0
            if failed >= self.threshold:
                return events.failures_recovered(self.strategy, self.mode, failed, at)
            return None
        self.count += 1
        if self.count == self.threshold:
            return events.consecutive_failures(self.strategy, self.mode, self.count, step,
                                               error, at)
        return None


class DailySummaryClock:
    """Says when the daily summary is due: once per KST day, at ``at`` or the first check
    after it (a loop every 15 minutes sends it at the first cycle past 09:00).

    A summary time the process slept through is sent late, once, not skipped; a process
    started after today's time sends today's at its first check, unless ``last_sent``
    (e.g. ``record.last_sent_at``) says it already went out.
    """

    def __init__(self, at: time | None, *, last_sent: datetime | None = None) -> None:
        self._at = at
        self._last = last_sent

    def due(self, now: datetime) -> bool:
        """Whether to send the summary now; True at most once per scheduled time."""
        if self._at is None:
            return False
        scheduled = self._latest_schedule(now)
        if self._last is None:  # first look: only today's time counts, not yesterday's
            local_day = now.astimezone(KST).date()
            if scheduled.date() != local_day:
                self._last = scheduled
                return False
        elif self._last >= scheduled:
            return False
        self._last = now
        return True

    def _latest_schedule(self, now: datetime) -> datetime:
        """The latest scheduled instant at or before ``now``, in KST."""
        assert self._at is not None
        local = now.astimezone(KST)
        today = datetime.combine(local.date(), self._at, tzinfo=KST)
        return today if today <= local else today - timedelta(days=1)

    @property
    def last_day(self) -> date | None:
        """The KST day of the last summary (or of the schedule skipped at the start)."""
        return None if self._last is None else self._last.astimezone(KST).date()
