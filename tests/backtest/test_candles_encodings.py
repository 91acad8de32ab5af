"""Candle files as Korean users have them: Korean headers saved as CP949/EUC-KR, and
UTF-8 with the byte-order mark a spreadsheet writes."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from bithumb_llm_trader.backtest import open_candle_file
from bithumb_llm_trader.errors import ConfigError

KOREAN = (",시간,시가,고가,저가,종가,거래량\n"
          "2,2021-04-27T08:00:00,65000000,65500000,64900000,65400000,12.5\n"
          "1,2021-04-27T09:00:00,65400000,65600000,65100000,65200000,8.25\n")
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.parametrize("encoding", ["cp949", "euc-kr", "utf-8", "utf-8-sig"])
def test_a_korean_header_reads_in_any_of_its_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "hourly.csv"
    path.write_bytes(KOREAN.encode(encoding))
    candles = list(open_candle_file(path))
    assert [c.start for c in candles] == [  # 시간 is KST: nine hours ahead of UTC
        datetime(2021, 4, 26, 23, tzinfo=timezone.utc),
        datetime(2021, 4, 27, 0, tzinfo=timezone.utc)]
    first = candles[0]
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        Decimal("65000000"), Decimal("65500000"), Decimal("64900000"), Decimal("65400000"),
        Decimal("12.5"))


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("timestamp,open,high,low,close,volume\n"
                     "2025-09-01 00:00:00,100,110,90,105,1\n".encode("utf-8-sig"))
    (candle,) = open_candle_file(path)
    assert candle.start == datetime(2025, 9, 1, tzinfo=timezone.utc)


def test_an_unknown_korean_header_is_still_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_bytes("날씨,기온\n맑음,20\n".encode("cp949"))
    with pytest.raises(ConfigError, match=r"unknown candle layout.*'날씨'"):
        open_candle_file(path)


def test_the_shared_euc_kr_hourly_file_reads_whole() -> None:
    path = SHARED / "upbit_krw_btc_1h_2017-10_2021-04.csv"
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    file = open_candle_file(path)
    candles = list(file)
    # SOURCES.md: 31,200 rows, 52 of them exact duplicates; 2017-10-05 07:00 KST first
    assert (file.stats.rows, file.stats.out_of_order, len(candles)) == (31200, 52, 31148)
    assert candles[0].start == datetime(2017, 10, 4, 22, tzinfo=timezone.utc)
