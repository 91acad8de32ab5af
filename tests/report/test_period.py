"""``--since`` and ``--from``/``--to`` parsing: zones, whole days, refusals."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bithumb_llm_trader.report.period import Period, parse_instant, parse_period

UTC = timezone.utc
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_since_counts_back_from_now() -> None:
    period = parse_period(since="7d", start=None, end=None, now=NOW)
    assert period == Period(start=NOW - timedelta(days=7), end=None)
    assert parse_period(since="1h30m", start=None, end=None, now=NOW).start == (
        NOW - timedelta(minutes=90))


def test_no_option_is_everything() -> None:
    assert parse_period(since=None, start=None, end=None, now=NOW) == Period()


def test_a_bare_date_is_a_korean_day_and_to_includes_it() -> None:
    period = parse_period(since=None, start="2026-03-01", end="2026-03-01", now=NOW)
    # 00:00 KST on 1 March is 15:00 UTC on 28 February; --to is 00:00 KST on 2 March
    assert period.start == datetime(2026, 2, 28, 15, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def test_date_times_keep_their_zone_and_default_to_kst() -> None:
    assert parse_instant("2026-03-01T09:00+00:00", what="--from", end=False) == datetime(
        2026, 3, 1, 9, 0, tzinfo=UTC)
    assert parse_instant("2026-03-01T09:00Z", what="--from", end=False) == datetime(
        2026, 3, 1, 9, 0, tzinfo=UTC)
    assert parse_instant("2026-03-01T09:00", what="--to", end=True) == datetime(
        2026, 3, 1, 0, 0, tzinfo=UTC)  # 09:00 KST, exclusive as given


def test_contains() -> None:
    period = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))
    assert period.contains(datetime(2026, 3, 1, tzinfo=UTC))
    assert not period.contains(datetime(2026, 3, 2, tzinfo=UTC))
    assert Period().contains(NOW)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"since": "7d", "start": "2026-03-01", "end": None}, "either --since or --from/--to"),
    ({"since": "a week", "start": None, "end": None}, "duration"),
    ({"since": "0s", "start": None, "end": None}, "longer than zero"),
    ({"since": None, "start": "yesterday", "end": None}, "--from must be an ISO date"),
    ({"since": None, "start": None, "end": "2026-13-01"}, "--to must be an ISO date"),
    ({"since": None, "start": "2026-03-02", "end": "2026-03-01"}, "the period is empty"),
])
def test_refusals(kwargs: dict[str, str | None], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_period(now=NOW, **kwargs)


def test_naive_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Period(start=datetime(2026, 3, 1))
