"""The stretch of time a report covers, from ``--since 7d`` or ``--from .. --to ..``.

Kept apart from the queries so the parsing rules (which zone a bare date is in, whether
``--to`` includes its day) are pure, tested on their own and stated in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from ..domain import KST, UTC, parse_duration


@dataclass(frozen=True, slots=True)
class Period:
    """``start`` inclusive, ``end`` exclusive, both aware UTC; ``None`` is unbounded."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if value is not None and value.utcoffset() is None:
                raise ValueError("period bounds must be timezone-aware")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError(
                f"the period is empty: {self.start.isoformat()} is not before "
                f"{self.end.isoformat()}"
            )

    def contains(self, when: datetime) -> bool:
        """Whether ``when`` falls inside the period (used by the pure calculations)."""
        after_start = self.start is None or when >= self.start
        return after_start and (self.end is None or when < self.end)


def parse_period(
    *, since: str | None, start: str | None, end: str | None, now: datetime
) -> Period:
    """The period named by the command line options.

    Args:
        since: a duration back from ``now`` (``7d``, ``12h``, ``1h30m``).
        start: ``--from``: an ISO date or date-time.
        end: ``--to``: an ISO date (the whole day is included) or date-time (exclusive).
        now: the current time, from the injected clock.

    Raises:
        ValueError: both forms given, or text that is not a duration or a date.
    """
    if since is not None and (start is not None or end is not None):
        raise ValueError("give either --since or --from/--to, not both")
    if since is not None:
        span = parse_duration(since)
        if span.total_seconds() <= 0:
            raise ValueError("--since must be longer than zero")
        return Period(start=now - span, end=None)
    return Period(
        start=None if start is None else parse_instant(start, what="--from", end=False),
        end=None if end is None else parse_instant(end, what="--to", end=True),
    )


def parse_instant(text: str, *, what: str, end: bool) -> datetime:
    """An ISO date or date-time as aware UTC; without a zone it is Korean time (KST).

    KST because the operators trade on a Korean exchange and the risk manager's days
    start at 00:00 KST. A bare date as an end bound means the end of that day, so
    ``--from 2026-03-01 --to 2026-03-01`` is the whole of 1 March.
    """
    spec = text.strip()
    try:
        if len(spec) == 10:
            day = date.fromisoformat(spec)
            moment = datetime.combine(day + timedelta(days=1 if end else 0), time(), KST)
        else:
            moment = datetime.fromisoformat(spec.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"{what} must be an ISO date or date-time like 2026-03-01 or "
            f"2026-03-01T09:00+09:00, got {text!r}"
        ) from exc
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=KST)
    return moment.astimezone(UTC)
