"""``download_candles``: fill a candle file from the exchange's public candle endpoint.

The endpoint answers at most 200 candles, newest first, before a ``to`` time; so pages
are fetched backwards from ``until``, each ending where the previous one began, until
``since`` is reached or the market's history ends. Pages go to a scratch file as they
arrive and are copied out oldest first at the end, so memory holds one page however
long the span. The still-forming candle is never written: ``until`` is rounded down to
a candle boundary first.

The file is the UTC layout the backtest reads (``timestamp,open,high,low,close,volume``,
times ``YYYY-MM-DD HH:MM:SS`` in UTC), after ``# source:``, ``# market:`` and
``# interval:`` lines naming where it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from ..domain import Candle, CandleInterval, Market
from ..ports import MarketData
from .bars import bar_start

PAGE = 200
HEADER = "timestamp,open,high,low,close,volume\n"


@dataclass(frozen=True, slots=True)
class DownloadReport:
    path: Path
    candles: int
    pages: int
    first: datetime | None
    last: datetime | None


async def download_candles(
    source: MarketData,
    market: Market,
    interval: CandleInterval,
    *,
    since: datetime,
    until: datetime,
    output: Path,
    exchange: str = "bithumb",
    progress: Callable[[int, datetime], None] | None = None,
) -> DownloadReport:
    """Write every ``interval`` candle of ``market`` starting in [since, until) to ``output``.

    Args:
        source: the public market data (``BithumbClient``).
        progress: called after each page with the candles so far and the oldest start.

    The output is written only once every page has arrived: an interrupted download
    leaves no half file behind (the scratch file ``output`` + ``.part`` is removed).
    """
    scratch = output.with_name(output.name + ".part")
    try:
        with scratch.open("w+b") as parts:
            pages = _Pages(parts)
            to = bar_start(until, interval.duration)
            while to > since:
                page = [c for c in await source.candles(market, interval, PAGE, to=to)
                        if since <= c.start < to]
                if not page:
                    break
                to = pages.add(sorted(page, key=lambda candle: candle.start))
                if progress is not None:
                    progress(pages.count, to)
            _assemble(parts, pages.offsets, output, exchange, market, interval)
    finally:
        scratch.unlink(missing_ok=True)
    return DownloadReport(path=output, candles=pages.count, pages=len(pages.offsets),
                          first=pages.first, last=pages.last)


class _Pages:
    """Pages written to the scratch file as they arrive (newest first)."""

    def __init__(self, parts: BinaryIO) -> None:
        self._parts = parts
        self.offsets: list[tuple[int, int]] = []  # (offset, length) of each page
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None

    def add(self, page: list[Candle]) -> datetime:
        """Write ``page`` (oldest first); returns its first start, the next page's end."""
        offset = self._parts.tell()
        self._parts.write("".join(_row(candle) for candle in page).encode("ascii"))
        self.offsets.append((offset, self._parts.tell() - offset))
        self.count += len(page)
        self.first, self.last = page[0].start, self.last or page[-1].start
        return page[0].start


def _assemble(parts: BinaryIO, pages: list[tuple[int, int]], output: Path, exchange: str,
              market: Market, interval: CandleInterval) -> None:
    """Copy the pages into ``output`` oldest first (they arrived newest first)."""
    metadata = f"# source: {exchange}\n# market: {market}\n# interval: {interval.value}\n"
    with output.open("wb") as out:
        out.write((metadata + HEADER).encode("utf-8"))
        for offset, length in reversed(pages):
            parts.seek(offset)
            out.write(parts.read(length))


def _row(candle: Candle) -> str:
    values = (candle.open, candle.high, candle.low, candle.close, candle.volume)
    when = candle.start.strftime("%Y-%m-%d %H:%M:%S")
    return when + "," + ",".join(format(value, "f") for value in values) + "\n"
