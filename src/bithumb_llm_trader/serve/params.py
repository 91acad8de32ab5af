"""Query parameters shared by the list endpoints, validated before any query runs.

Everything a client sends is untrusted: limits are bounded, names and statuses must look
like names and statuses, a period must be a duration or an ISO time, a cursor must be one
this API made. Anything else answers 422 with the reason, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request

from ..domain import UTC
from ..report import Period, parse_period
from ..report.browse import Filter, PageRequest
from ..report.model import MODES
from .encode import decode_cursor

MAX_LIMIT = 500
"""The most rows one page of any list holds."""
MAX_POINTS = 5000
"""The most points one series (price, equity) holds."""
MAX_OFFSET = 1_000_000
NAME_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
CODE_PATTERN = r"^[a-z_]{1,32}$"
ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"


class ModeName(str, Enum):
    DRY = "dry"
    LIVE = "live"
    BACKTEST = "backtest"


assert tuple(mode.value for mode in ModeName) == MODES


def unprocessable(message: str) -> HTTPException:
    return HTTPException(status_code=422, detail=message)


def period_of(since: str | None, start: str | None, end: str | None,
              now: datetime) -> Period:
    """The period of ``since`` or ``from``/``to``, as ``report`` reads them (bare times
    in KST); 422 for anything else."""
    try:
        return parse_period(since=since, start=start, end=end, now=now)
    except (ValueError, OverflowError) as exc:
        raise unprocessable(str(exc).replace("--", "")) from exc


Since = Annotated[str | None, Query(max_length=32, description="only the last 7d, 12h, 30m ...")]
From = Annotated[str | None, Query(alias="from", max_length=40,
                                   description="start, ISO date or date-time (KST if no zone)")]
To = Annotated[str | None, Query(alias="to", max_length=40,
                                 description="end, exclusive; a bare date includes its day")]
Modes = Annotated[list[ModeName] | None, Query(alias="mode", max_length=3,
                                               description="dry, live or backtest (repeat)")]
Strategies = Annotated[list[str] | None, Query(
    alias="strategy", max_length=20, description="strategy name (repeat for several)")]
Statuses = Annotated[list[str] | None, Query(alias="status", max_length=10,
                                             description="status or order state (repeat)")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"rows per page, 1 to {MAX_LIMIT}")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
Cursor = Annotated[str | None, Query(max_length=600,
                                     description="next_cursor of the previous page")]
Points = Annotated[int, Query(ge=2, le=MAX_POINTS, description="the newest N points")]
StrategyName = Annotated[str, Query(pattern=NAME_PATTERN, description="strategy name")]
OneMode = Annotated[ModeName | None, Query(description="dry, live or backtest")]


@dataclass(frozen=True, slots=True)
class Listing:
    """A list's filter and page, from the query string."""

    filter: Filter
    page: PageRequest


def names(values: list[str] | None, pattern: str, what: str) -> tuple[str, ...]:
    """``values`` once each, in order; 422 when one does not look like a ``what``."""
    checked = re.compile(pattern)
    for value in values or ():
        if not checked.fullmatch(value):
            raise unprocessable(f"{what} {value[:70]!r} is not a valid {what}")
    return tuple(dict.fromkeys(values or ()))


def mode_values(modes: list[ModeName] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(mode.value for mode in modes or ()))


def now_of(request: Request) -> datetime:
    """The time of the request, from the app's injected clock."""
    clock = request.app.state.serve.clock
    moment: datetime = clock.now()
    return moment


def filter_of(
    now: Annotated[datetime, Depends(now_of)],
    since: Since = None, start: From = None, end: To = None, mode: Modes = None,
    strategy: Strategies = None, status: Statuses = None,
) -> Filter:
    """The filter of a list; its period is relative to the time of the request."""
    return Filter(
        period=period_of(since, start, end, now),
        strategies=names(strategy, NAME_PATTERN, "strategy"),
        modes=mode_values(mode),
        statuses=names(status, CODE_PATTERN, "status"),
    )


def listing_of(
    wanted: Annotated[Filter, Depends(filter_of)],
    limit: Limit = 50, offset: Offset = 0, cursor: Cursor = None,
) -> Listing:
    """A page: ``limit`` rows after ``offset`` rows, or after ``cursor``."""
    after = None
    if cursor:
        try:
            after = decode_cursor(cursor)
        except ValueError as exc:
            raise unprocessable(f"cursor: {exc}") from exc
        _check_storable(after[0])
    return Listing(filter=wanted, page=PageRequest(limit=limit, offset=offset, after=after))


def _check_storable(at: datetime) -> None:
    """A time the database column can compare with (years 1 to 9999 in UTC)."""
    try:
        at.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise unprocessable("cursor: not a cursor of this API") from exc
