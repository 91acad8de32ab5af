"""Client-side rate limiting per Bithumb category, driven by an injected clock.

Bithumb counts requests per IP and category, and going over blocks the IP for minutes
(failed calls count too), so it is far cheaper to wait a little here. One limiter is
meant to be shared by every task using a client, and may be shared by several clients
talking from the same IP.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from ..clock import SystemClock
from ..ports import Clock
from .endpoints import RATE_LIMITS, Category, Rate


class _SlidingWindow:
    """The send times of the last ``rate.requests`` requests of one category.

    A request is given the earliest time at which it is not more than ``requests``
    within ``per_seconds``; that reservation is recorded before the caller waits, so
    concurrent tasks each get their own slot without a lock (nothing awaits between
    reading and recording).
    """

    def __init__(self, rate: Rate) -> None:
        if rate.requests < 1 or rate.per_seconds <= 0:
            raise ValueError(f"a rate needs at least one request per positive period: {rate}")
        self._rate = rate
        self._sent: deque[float] = deque()

    def reserve(self, now: float) -> float:
        """Claim the next free slot at or after ``now``; return how long to wait for it."""
        at = now
        if len(self._sent) >= self._rate.requests:
            at = max(now, self._sent.popleft() + self._rate.per_seconds)
        self._sent.append(at)
        return at - now


class RateLimiter:
    """Async limiter with one sliding window per ``Category``.

    Args:
        clock: time source and sleeper (``SystemClock`` when omitted).
        limits: requests per window for each category; Bithumb's published limits
            when omitted.
    """

    def __init__(
        self, clock: Clock | None = None, limits: Mapping[Category, Rate] | None = None
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        chosen = RATE_LIMITS if limits is None else limits
        self._windows = {category: _SlidingWindow(rate) for category, rate in chosen.items()}

    def __repr__(self) -> str:
        return f"RateLimiter(categories={len(self._windows)})"

    async def acquire(self, category: Category) -> None:
        """Wait, on the clock, until one more request of ``category`` may be sent."""
        window = self._windows.get(category)
        if window is None:
            raise ValueError(f"no rate limit configured for category {category.value!r}")
        delay = window.reserve(self._clock.monotonic())
        if delay > 0:
            await self._clock.sleep(delay)
