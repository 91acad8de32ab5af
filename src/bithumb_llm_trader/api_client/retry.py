"""When and how long to wait before repeating a failed idempotent request."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import RateLimitError, RetryableError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff that honours the exchange's ``Retry-After``.

    No random jitter: the delays stay predictable for tests, and the rate limiter
    already spaces concurrent callers. A ``Retry-After`` longer than ``max_wait`` is not
    waited out inside one call (a blocked IP waits minutes); the error goes up instead.
    """

    max_retries: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")

    def delay(self, error: RetryableError, retries_done: int) -> float | None:
        """Seconds to wait before the next attempt, or None to give up and raise."""
        if retries_done >= self.max_retries:
            return None
        backoff = min(self.base_delay * 2.0**retries_done, self.max_delay)
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            if error.retry_after > self.max_wait:
                return None
            return max(backoff, error.retry_after)
        return backoff
