"""Candle files: the layouts, the source label, and what is skipped rather than repaired."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from bithumb_llm_trader.backtest import detect_interval, open_candle_file
from bithumb_llm_trader.backtest.candles import parse_time
from bithumb_llm_trader.domain import Candle, CandleInterval
from bithumb_llm_trader.errors import ConfigError

from .helpers import KST_FILE, MINUTE_FILE, T0, UTC, shared, write_csv

D = Decimal


def test_the_utc_layout_gives_exact_decimals_and_aware_utc_starts(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [
        ("2025-09-01 00:00:00", "150700000.0", "150803000.0", "150640000.0", "150803000.0",
         "1.51931528"),
        ("2025-09-01T09:01:00+09:00", "150803000", "150838000", "150705000", "150836000", "2"),
        ("1756684920000", "150836000", "150900000", "150800000", "150850000", "3"),
    ])
    candles = list(open_candle_file(path))

    assert candles[0] == Candle(start=T0, open=D("150700000.0"), high=D("150803000.0"),
                                low=D("150640000.0"), close=D("150803000.0"),
                                volume=D("1.51931528"))
    assert candles[0].start.utcoffset() == timedelta(0)
    # An offset is honoured; epoch milliseconds are UTC.
    assert candles[1].start == datetime(2025, 9, 1, 0, 1, tzinfo=UTC)
    assert candles[2].start == datetime(2025, 9, 1, 0, 2, tzinfo=UTC)


def test_the_kst_layout_is_shifted_to_utc_and_reads_its_volume_columns(tmp_path: Path) -> None:
    header = ("date_time_kst,open,high,low,close,acc_trade_price_krw,"
              "acc_trade_volume_btc")
    path = write_csv(tmp_path / "k.csv", [
        ("2022-07-01T00:00:00", "25283000.0", "25289000.0", "25265000.0", "25276000.0",
         "123071871.47473", "4.86871347"),
    ], header=header)
    (candle,) = open_candle_file(path)

    assert candle.start == datetime(2022, 6, 30, 15, 0, tzinfo=UTC)  # 09:00 KST = 00:00 UTC
    assert (candle.volume, candle.value) == (D("4.86871347"), D("123071871.47473"))


def test_the_source_comes_from_metadata_then_the_name(tmp_path: Path) -> None:
    rows = [("2025-09-01 00:00:00", "1", "1", "1", "1", "1")]
    tagged = tmp_path / "upbit_named.csv"
    tagged.write_text("# source: bithumb\n# market: KRW-BTC\n", encoding="utf-8")
    with tagged.open("a", encoding="utf-8") as handle:
        handle.write(write_csv(tmp_path / "x.csv", rows).read_text(encoding="utf-8"))

    assert open_candle_file(tagged).source == "bithumb"
    assert open_candle_file(tagged).metadata["market"] == "KRW-BTC"
    assert open_candle_file(write_csv(tmp_path / "upbit_btc.csv", rows)).source == "upbit"
    assert open_candle_file(write_csv(tmp_path / "mine.csv", rows)).source is None


def test_repeated_backward_and_impossible_rows_are_skipped_and_counted(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "c.csv", [
        ("2025-09-01 00:00:00", "100", "110", "90", "105", "1"),
        ("2025-09-01 00:00:00", "100", "110", "90", "105", "1"),  # repeated
        ("2025-09-01 00:02:00", "100", "99", "90", "105", "1"),  # high under the close
        ("2025-09-01 00:01:00", "100", "110", "90", "105", "1"),  # back in time: kept
        ("2025-09-01 00:00:30", "100", "110", "90", "105", "1"),  # back in time
        ("2025-09-01 00:03:00", "0", "0", "0", "0", "1"),  # not a price
    ])
    file = open_candle_file(path)
    starts = [c.start.minute for c in file]

    assert starts == [0, 1]
    assert (file.stats.rows, file.stats.candles) == (6, 2)
    assert (file.stats.out_of_order, file.stats.invalid) == (2, 2)


def test_a_bad_row_or_an_unknown_header_is_refused_with_its_place(tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", [("2025-09-01 00:00:00", "x", "1", "1", "1", "1")])
    with pytest.raises(ConfigError, match=r"bad.csv:2"):
        list(open_candle_file(bad))
    tagged = tmp_path / "tagged.csv"
    tagged.write_text("# source: bithumb\n# note\n" + bad.read_text(encoding="utf-8"),
                      encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tagged.csv:4"):  # after two comment lines
        list(open_candle_file(tagged))
    unknown = write_csv(tmp_path / "u.csv", [("1", "2")], header="when,price")
    with pytest.raises(ConfigError, match="unknown candle layout"):
        open_candle_file(unknown)
    with pytest.raises(ConfigError, match="cannot read"):
        open_candle_file(tmp_path / "missing.csv")


def test_bithumb_json_is_read_in_either_shape(tmp_path: Path) -> None:
    v1 = [  # newest first, as the endpoint answers
        {"market": "KRW-BTC", "candle_date_time_utc": "2025-09-01T00:01:00",
         "candle_date_time_kst": "2025-09-01T09:01:00", "opening_price": 150803000.0,
         "high_price": 150838000.0, "low_price": 150705000.0, "trade_price": 150836000.0,
         "timestamp": 1756684919000, "candle_acc_trade_price": 127613539.1,
         "candle_acc_trade_volume": 0.8461566, "unit": 1},
        {"market": "KRW-BTC", "candle_date_time_utc": "2025-09-01T00:00:00",
         "candle_date_time_kst": "2025-09-01T09:00:00", "opening_price": 150700000.0,
         "high_price": 150803000.0, "low_price": 150640000.0, "trade_price": 150803000.0,
         "timestamp": 1756684859000, "candle_acc_trade_price": 229005020.3,
         "candle_acc_trade_volume": 1.51931528, "unit": 1},
    ]
    path = tmp_path / "answer.json"
    path.write_text(json.dumps(v1), encoding="utf-8")
    file = open_candle_file(path)
    candles = list(file)

    assert [c.start for c in candles] == [T0, T0 + timedelta(minutes=1)]
    assert candles[0].volume == D("1.51931528") and candles[1].close == D("150836000.0")
    assert file.source == "bithumb"

    legacy = tmp_path / "legacy.json"  # [ms, open, close, high, low, volume]
    legacy.write_text(json.dumps({"status": "0000", "data": [
        [1388070000000, "737000", "755000", "760000", "730000", "3.78"]]}), encoding="utf-8")
    (old,) = open_candle_file(legacy)
    assert (old.open, old.high, old.low, old.close) == (D(737000), D(760000), D(730000),
                                                          D(755000))
    assert old.start == datetime(2013, 12, 26, 15, 0, tzinfo=UTC)


def test_the_interval_is_the_smallest_step_and_must_be_bithumbs(tmp_path: Path) -> None:
    def at(*minutes: int) -> list[Candle]:
        return [Candle(T0 + timedelta(minutes=m), D(1), D(1), D(1), D(1), D(1))
                for m in minutes]

    assert detect_interval(at(0, 1, 2, 5, 6)) is CandleInterval.M1  # a gap is not a step
    assert detect_interval(at(0, 60, 180)) is CandleInterval.H1
    with pytest.raises(ConfigError, match="not a supported interval"):
        detect_interval(at(0, 7, 14))
    with pytest.raises(ConfigError, match="fewer than two"):
        detect_interval(at(0))


def test_the_real_minute_file_reads_whole(tmp_path: Path) -> None:
    file = open_candle_file(shared(MINUTE_FILE))
    candles = list(file)

    assert len(candles) == 47_598 and file.source == "upbit"
    assert candles[0].start == T0 and candles[-1].start == datetime(2025, 10, 4, 1, 19,
                                                                    tzinfo=UTC)
    assert detect_interval(candles[:64]) is CandleInterval.M1
    gaps = sum(1 for a, b in itertools.pairwise(candles)
               if b.start - a.start > timedelta(minutes=1))
    assert gaps == 2  # as the data's SOURCES.md says


def test_the_real_kst_file_starts_nine_hours_earlier_in_utc() -> None:
    first = next(iter(open_candle_file(shared(KST_FILE))))
    assert first.start == datetime(2022, 6, 30, 15, 0, tzinfo=UTC)
    assert first.close == D("25276000.0")


@pytest.mark.parametrize("text", ["2025-09-01 09:00:00", "2025-09-01T09:00:00",
                                  " 2025-09-01 09:00:00 ", "2025-09-01 09:00:00.250000"])
@pytest.mark.parametrize("hours", [0, 9])
def test_naive_times_read_alike_in_every_spelling(text: str, hours: int) -> None:
    zone = timedelta(hours=hours)
    expected = datetime(2025, 9, 1, 9, 0, tzinfo=timezone.utc) - zone
    if text.strip().endswith(".250000"):
        expected += timedelta(milliseconds=250)
    parsed = parse_time(text, zone)
    assert parsed == expected and parsed.utcoffset() == timedelta(0)
