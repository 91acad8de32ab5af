"""How long to wait before asking a server again.

Pure functions over numbers and headers, so the retry policy is tested without HTTP and
every wait goes through the injected clock.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping
from datetime import datetime

from ..domain import UTC

BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 30.0
"""Longest wait between two tries; a longer Retry-After gives up instead of stalling."""


def backoff_delay(retry: int, retry_after: float | None) -> float | None:
    """Seconds to wait before retry number ``retry + 1``; ``None``: do not wait that long.

    The server's Retry-After wins when given; otherwise 1 s, 2 s, 4 s ... up to 30 s.
    """
    if retry_after is not None:
        return retry_after if retry_after <= BACKOFF_MAX_S else None
    return float(min(BACKOFF_BASE_S * 2**retry, BACKOFF_MAX_S))


def retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """The wait a server asked for: ``retry-after-ms``, or ``retry-after`` in seconds or
    as an HTTP date; ``None`` when absent or unreadable."""
    millis = _finite(headers.get("retry-after-ms"))
    if millis is not None:
        return max(millis / 1000, 0.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _finite(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def _finite(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
