"""The retry policy: backoff delays and Retry-After headers."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from bithumb_llm_trader.decision.backoff import BACKOFF_MAX_S, backoff_delay, retry_after_seconds
from bithumb_llm_trader.domain import UTC

NOW = datetime(2025, 9, 30, 12, 0, tzinfo=UTC)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_delay(retry, None) for retry in range(7)] == [1, 2, 4, 8, 16, 30, 30]


def test_retry_after_wins_unless_it_is_too_long() -> None:
    assert backoff_delay(0, 7.5) == 7.5
    assert backoff_delay(3, 0.0) == 0.0
    assert backoff_delay(0, BACKOFF_MAX_S + 1) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"retry-after": "3"}, 3.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"retry-after": "-4"}, 0.0),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Tue, 30 Sep 2025 12:00:20 GMT"}, 20.0),
        ({"retry-after": "Tue, 30 Sep 2025 11:00:00 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after-ms": "nan"}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(httpx.Headers(headers), NOW) == expected
