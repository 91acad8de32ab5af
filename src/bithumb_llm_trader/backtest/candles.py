"""Reading candle files: CSV streamed row by row, or the JSON of Bithumb's candle endpoint.

Layouts, told apart by the CSV header or the JSON shape:

* CSV with ``timestamp,open,high,low,close,volume``: times in UTC (naive, ISO with an
  offset, or epoch seconds/milliseconds);
* CSV with ``date_time_kst,...,acc_trade_price_krw,acc_trade_volume_btc``: naive KST;
* JSON: a list of ``/v1/candles/...`` answers' objects (any order), or the legacy
  ``{"status": "0000", "data": [[ms, open, close, high, low, volume], ...]}``.

Lines starting with ``#`` before the header are ``# key: value`` metadata
(``download-candles`` writes ``source``, ``market`` and ``interval``). Rows that repeat
or go back in time, and rows whose prices cannot be a candle (high below open or close,
low above them, a price not positive) are skipped and counted, never repaired. A CSV is
read one row at a time, so memory does not grow with the file; a JSON file is loaded
whole (the endpoint answers 200 candles at a time, so such files are small).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import chain, pairwise
from pathlib import Path
from typing import Any, TextIO

from ..api_client.parsing import parse_candles
from ..domain import UTC, Candle, CandleInterval, to_decimal
from ..errors import ConfigError, UnexpectedResponse

_KST_OFFSET = timedelta(hours=9)
_TIME_COLUMNS: dict[str, timedelta] = {  # the UTC offset of naive times in the column
    "timestamp": timedelta(0), "time": timedelta(0), "date_time_utc": timedelta(0),
    "candle_date_time_utc": timedelta(0),
    "date_time_kst": _KST_OFFSET, "candle_date_time_kst": _KST_OFFSET,
    # Korean headers (시간 time, 일시 date and time): exported in Korea, so in KST.
    "시간": _KST_OFFSET, "일시": _KST_OFFSET,
}
_PRICE_COLUMNS = {  # 시가 고가 저가 종가 거래량: open, high, low, close, volume
    "open": ("open", "opening_price", "시가"),
    "high": ("high", "high_price", "고가"),
    "low": ("low", "low_price", "저가"),
    "close": ("close", "trade_price", "종가"),
    "volume": ("volume", "acc_trade_volume_btc", "candle_acc_trade_volume", "acc_trade_volume",
               "거래량"),
}
_VALUE_COLUMNS = ("value", "acc_trade_price_krw", "candle_acc_trade_price", "acc_trade_price",
                  "거래대금")
_ENCODINGS = ("utf-8-sig", "cp949")
"""Tried in turn on the header: UTF-8 (with or without the byte-order mark a
spreadsheet writes), then CP949, the superset of EUC-KR that Korean Windows saves in."""
_EXCHANGES = ("bithumb", "upbit")
_ZERO = Decimal(0)  # Decimal against Decimal compares faster than against int 0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LOOKAHEAD = 64
"""How many candles to peek at before ``detect_interval``."""


@dataclass(slots=True)
class ReadStats:
    """What reading skipped, counted as it goes."""

    rows: int = 0
    candles: int = 0
    out_of_order: int = 0  # repeated or earlier start than the previous candle
    invalid: int = 0  # prices that cannot form a candle


@dataclass(slots=True)
class CandleFile:
    """One candle file: iterate it for candles, oldest first, each start after the last.

    ``source`` is the exchange the data came from when known: the ``# source:``
    metadata, else an exchange named in the file name, else ``bithumb`` for the JSON
    of Bithumb's endpoint.
    """

    path: Path
    layout: str
    metadata: dict[str, str] = field(default_factory=dict)
    stats: ReadStats = field(default_factory=ReadStats)
    encoding: str = "utf-8"

    @property
    def source(self) -> str | None:
        named = self.metadata.get("source") or _exchange_in_name(self.path.name)
        if named is None and self.layout == "json":
            return "bithumb"
        return named

    def __iter__(self) -> Iterator[Candle]:
        rows = (_json_candles(self.path) if self.layout == "json"
                else _csv_candles(self.path, self.encoding))
        return _checked(rows, self.stats)


def open_candle_file(path: str | Path) -> CandleFile:
    """Recognise the layout of ``path`` and read its metadata; no candle is read yet.

    Raises:
        ConfigError: the file is missing, or neither a known CSV header nor JSON.
    """
    target = Path(path)
    encoding = _header_encoding(target)
    try:
        with target.open(encoding=encoding) as handle:
            metadata, first, _ = _metadata(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read candle file {target}: {exc}") from exc
    if first.lstrip().startswith(("[", "{")):
        return CandleFile(target, "json", metadata)
    columns = [name.strip().lower() for name in next(csv.reader([first]), [])]
    _columns(columns, target)  # refuses an unknown header now, not mid-replay
    return CandleFile(target, "csv", metadata, encoding=encoding)


def _header_encoding(path: Path) -> str:
    """The first of ``_ENCODINGS`` the top of ``path`` decodes in (the header is where
    a file has text; the rows are digits): UTF-8 when none does, for its error."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return _ENCODINGS[0]  # the error is open_candle_file's to report
    head = head[:head.rfind(b"\n") + 1] or head  # whole lines: no character cut in two
    for encoding in _ENCODINGS:
        try:
            head.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return _ENCODINGS[0]


def detect_interval(candles: Sequence[Candle]) -> CandleInterval:
    """The candle size: the smallest step between consecutive starts (gaps are longer).

    Raises:
        ConfigError: fewer than two candles, or a step that is no Bithumb interval.
    """
    steps = [b.start - a.start for a, b in pairwise(candles)]
    if not steps:
        raise ConfigError("cannot tell the candle interval from fewer than two candles")
    step = min(steps)
    for interval in CandleInterval:
        if interval is not CandleInterval.MO1 and interval.duration == step:
            return interval
    raise ConfigError(f"candles are {step} apart, which is not a supported interval")


def _metadata(handle: TextIO) -> tuple[dict[str, str], str, int]:
    """The ``# key: value`` lines at the top, the first line after them, and how many
    lines that was. Reads with ``readline`` so the handle can go on to a CSV reader."""
    metadata: dict[str, str] = {}
    count = 0
    while line := handle.readline():
        count += 1
        if not line.startswith("#"):
            return metadata, line, count
        key, sep, value = line[1:].partition(":")
        if sep:
            metadata[key.strip().lower()] = value.strip()
    return metadata, "", count


def _exchange_in_name(name: str) -> str | None:
    lowered = name.lower()
    return next((exchange for exchange in _EXCHANGES if exchange in lowered), None)


def _checked(candles: Iterator[Candle], stats: ReadStats) -> Iterator[Candle]:
    """``candles`` without those that repeat or go back in time, or cannot be a candle,
    counted in ``stats``."""
    last: datetime | None = None
    for candle in candles:
        stats.rows += 1
        if last is not None and candle.start <= last:
            stats.out_of_order += 1
            continue
        if not _plausible(candle):
            stats.invalid += 1
            continue
        last = candle.start
        stats.candles += 1
        yield candle


def _plausible(candle: Candle) -> bool:
    low, high, open_, close = candle.low, candle.high, candle.open, candle.close
    return (_ZERO < low <= high and low <= open_ and low <= close
            and high >= open_ and high >= close)


class _Decimals(dict[str, Decimal]):
    """The Decimal of each text read lately: a minute file's prices repeat (nine reads
    in ten find the text already parsed), and a lookup costs far less than parsing.
    Prices seen lately are near the price now, so a few hundred suffice (a larger
    bound was no faster, and its growth showed in the replay's memory check)."""

    def __missing__(self, text: str) -> Decimal:
        if len(self) >= 256:  # bounded, whatever the file's length
            self.clear()
        value = self[text] = Decimal(text)
        return value


def _csv_candles(path: Path, encoding: str = "utf-8") -> Iterator[Candle]:
    """The rows of a CSV as candles, read a line at a time (not yet checked)."""
    with path.open(newline="", encoding=encoding) as handle:
        _, first, number = _metadata(handle)  # number: the line before the next
        header = next(csv.reader([first]), None)
        if header is None:
            return
        time, zone, open_at, high_at, low_at, close_at, volume_at, value_at = _columns(
            [name.strip().lower() for name in header], path)
        prices = _Decimals()
        for line in handle:
            number += 1
            if '"' not in line:  # nothing quoted: csv would split at every comma too
                text = line.rstrip("\r\n")
                if not text:
                    continue  # a blank line: no row to csv either
                row = text.split(",")
            else:  # quoted fields, maybe spanning lines: csv reads the whole record
                reader = csv.reader(chain((line,), handle))
                row = next(reader)
                number += reader.line_num - 1
            try:
                start = parse_time(row[time], zone)
                open_, high, low = prices[row[open_at]], prices[row[high_at]], prices[row[low_at]]
                close, volume = prices[row[close_at]], Decimal(row[volume_at])
                value = None if value_at is None else Decimal(row[value_at])
            except (IndexError, ValueError, InvalidOperation) as exc:
                raise ConfigError(f"{path}:{number}: not a candle row: {row!r}") from exc
            yield Candle(start, open_, high, low, close, volume, value)


def _columns(columns: list[str], path: Path) -> tuple[
        int, timedelta, int, int, int, int, int, int | None]:
    """Where the time (and its zone), open, high, low, close, volume and value are."""
    time_column = next((name for name in columns if name in _TIME_COLUMNS), None)
    missing = [kind for kind, names in _PRICE_COLUMNS.items()
               if not any(name in columns for name in names)]
    if time_column is None or missing:
        wanted = "a time column (timestamp or date_time_kst) and open, high, low, close, volume"
        raise ConfigError(f"{path}: unknown candle layout {columns!r}; expected {wanted}")
    open_, high, low, close, volume = (
        next(columns.index(name) for name in names if name in columns)
        for names in _PRICE_COLUMNS.values()
    )
    value = next((columns.index(name) for name in _VALUE_COLUMNS if name in columns), None)
    return (columns.index(time_column), _TIME_COLUMNS[time_column], open_, high, low, close,
            volume, value)


def parse_time(text: str, zone: timedelta) -> datetime:
    """ISO text, or epoch seconds / milliseconds, as aware UTC; naive text is at ``zone``.

    The naive case is the hot one (every row of a file): it is parsed as UTC and shifted,
    which costs a fifth of attaching a zone with ``replace``.
    """
    if len(text) == 19 and text[10] in " T":  # naive "YYYY-MM-DD HH:MM:SS": the usual row
        moment = datetime.fromisoformat(text + "+00:00")
        return moment - zone if zone else moment
    text = text.strip()
    if text.isdigit():
        number = int(text)
        return _EPOCH + (timedelta(milliseconds=number) if number >= 10**11
                         else timedelta(seconds=number))
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    elif len(text) < 6 or text[-6] not in "+-" or text[-3] != ":":
        return datetime.fromisoformat(text + "+00:00") - zone
    return datetime.fromisoformat(text).astimezone(UTC)


def _json_candles(path: Path) -> Iterator[Candle]:
    try:
        with path.open(encoding="utf-8") as handle:
            payload = json.load(handle, parse_float=Decimal)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read candle JSON {path}: {exc}") from exc
    try:
        if isinstance(payload, dict) and isinstance(payload.get("data"), list) and all(
            isinstance(item, list) for item in payload["data"]
        ):
            candles = [_legacy_candle(item) for item in payload["data"]]
        else:
            candles = parse_candles(payload.get("data") if isinstance(payload, dict) else payload)
    except (UnexpectedResponse, TypeError, ValueError, IndexError) as exc:
        raise ConfigError(f"{path}: not the JSON of Bithumb's candle endpoint: {exc}") from exc
    yield from sorted(candles, key=lambda candle: candle.start)


def _legacy_candle(item: list[Any]) -> Candle:
    """``[ms, open, close, high, low, volume]``: the legacy API puts close before high."""
    millis, open_, close, high, low, volume = item[:6]
    return Candle(
        start=_EPOCH + timedelta(milliseconds=int(millis)),
        open=to_decimal(open_, "open"), high=to_decimal(high, "high"),
        low=to_decimal(low, "low"), close=to_decimal(close, "close"),
        volume=to_decimal(volume, "volume"),
    )
