"""Reading a CSV: plain lines are split at commas, quoted ones go through csv; either way
the rows, the skipped lines and the line numbers of errors are what csv gives."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bithumb_llm_trader.backtest import open_candle_file
from bithumb_llm_trader.errors import ConfigError

from .helpers import T0

HEADER = "timestamp,open,high,low,close,volume"


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def test_quoted_fields_and_blank_lines_read_as_csv_reads_them(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.csv", HEADER + "\r\n"
                  '"2025-09-01 00:00:00","100","110","90","105","1"\r\n'
                  "\r\n"
                  '2025-09-01 00:01:00,100,110,90,105,"2\n"\r\n'  # a quoted line end
                  "\n"
                  "2025-09-01 00:02:00,100,110,90,105,3")  # no line end at the end
    candles = list(open_candle_file(path))

    assert [c.start for c in candles] == [T0 + timedelta(minutes=m) for m in range(3)]
    assert [c.volume for c in candles] == [Decimal(1), Decimal(2), Decimal(3)]


@pytest.mark.parametrize(("body", "line"), [
    ("\n\n2025-09-01 00:00:00,x,1,1,1,1\n", 4),  # blank lines are counted
    ('"2025-09-01\n00:00:00",1,1,1,1,1\n2025-09-01 00:01:00,x,1,1,1,1\n', 4),  # 2-line row
    ('2025-09-01 00:00:00,"1,0",1,1,1,1\n', 2),  # a quoted comma stays in its field
    ("2025-09-01 00:00:00,1,1\n", 2),  # too short
])
def test_a_bad_row_names_its_line_wherever_it_is(tmp_path: Path, body: str, line: int) -> None:
    path = _write(tmp_path / "bad.csv", HEADER + "\n" + body)
    with pytest.raises(ConfigError, match=rf"bad.csv:{line}: not a candle row"):
        list(open_candle_file(path))


def test_each_price_keeps_its_spelling_and_many_prices_read_alike(tmp_path: Path) -> None:
    # Prices are parsed once per text and reused; "100.0" and "1E+2" are other texts.
    rows = [f"2025-09-01 00:{m:02d}:00,100.0,100,1E+2,100.00,1\n" for m in range(3)]
    (first, *_) = open_candle_file(_write(tmp_path / "s.csv", HEADER + "\n" + "".join(rows)))
    assert [str(p) for p in (first.open, first.high, first.low, first.close)] == [
        "100.0", "100", "1E+2", "100.00"]

    # More distinct prices than are kept at once: still each its own value.
    count = 20_000
    many = "".join(f"{(T0 + timedelta(minutes=i)):%Y-%m-%d %H:%M:%S},{i + 1},{i + 1},{i + 1},"
                   f"{i + 1},1\n" for i in range(count))
    candles = list(open_candle_file(_write(tmp_path / "m.csv", HEADER + "\n" + many)))
    assert [c.close for c in candles] == [Decimal(i + 1) for i in range(count)]
