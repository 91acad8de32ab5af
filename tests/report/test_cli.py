"""``bithumb-trader report`` end to end through typer's CliRunner."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.main import app

from .conftest import NOW, ReportDb

CLOCK = ManualClock(NOW)


def invoke(args: list[str]) -> Any:
    return CliRunner().invoke(app, ["report", *args], obj={"clock": CLOCK})


def test_table_is_the_default(sqlite_db: ReportDb) -> None:
    result = invoke(["--db", sqlite_db.url])
    assert result.exit_code == 0, result.output
    assert "bithumb-trader report" in result.stdout
    assert "3,198" in result.stdout
    # alpha traded dry, beta was a backtest: a heading each, no comparison adding them
    assert "Paper trading (mode dry): alpha" in result.stdout
    assert "Backtest (mode backtest): beta" in result.stdout
    assert "By strategy" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


def test_json_of_one_strategy(sqlite_db: ReportDb) -> None:
    result = invoke(["--db", sqlite_db.url, "--format", "json", "--strategy", "beta"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["strategies"] == ["beta"]
    assert data["by_mode"]["backtest"]["total"]["pnl"]["net_krw"] == "-999.81"


def test_since_counts_back_from_the_clock(sqlite_db: ReportDb) -> None:
    # now is 06:00 UTC; 3h back is 03:00, so A9 and beta's three runs
    result = invoke(["--db", sqlite_db.url, "--format", "json", "--since", "3h"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["period"]["start"] == "2026-03-02T03:00:00+00:00"
    assert data["by_mode"]["dry"]["by_strategy"]["alpha"]["runs"]["count"] == 1
    assert data["by_mode"]["backtest"]["total"]["runs"]["count"] == 3


def test_from_to_in_kst(sqlite_db: ReportDb) -> None:
    # 11:30..12:00 KST is 02:30..03:00 UTC: A7 and A8
    result = invoke(["--db", sqlite_db.url, "--format", "json", "--from", "2026-03-02T11:30",
                     "--to", "2026-03-02T12:00"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["modes"] == ["dry"]
    assert data["by_mode"]["dry"]["total"]["runs"]["count"] == 2


def test_csv_to_a_file(sqlite_db: ReportDb, tmp_path: Path) -> None:
    target = tmp_path / "executions.csv"
    result = invoke(["--db", sqlite_db.url, "--format", "csv", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 8 and rows[0]["kind"] == "execution"
    assert {(row["strategy"], row["mode"]) for row in rows} == {("alpha", "dry"),
                                                                 ("beta", "backtest")}


def test_mode_keeps_one_mode(sqlite_db: ReportDb) -> None:
    result = invoke(["--db", sqlite_db.url, "--format", "json", "--mode", "backtest"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["modes"] == ["backtest"] and data["strategies"] == ["beta"]
    assert list(data["by_mode"]) == ["backtest"]


def test_table_to_a_file_has_no_colour_codes(sqlite_db: ReportDb, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    result = invoke(["--db", sqlite_db.url, "--output", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "\x1b[" not in text and "Model usage" in text


def test_config_names_the_database(sqlite_db: ReportDb, tmp_path: Path) -> None:
    config = tmp_path / "strategy.json"
    config.write_text(json.dumps({"name": "alpha", "database": {"url": sqlite_db.url}}))
    result = invoke(["--config", str(config), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["strategies"] == ["alpha", "beta"]


def test_default_database_missing_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke([])
    assert result.exit_code == 2
    assert "no database at sqlite:///bithumb_trader.db" in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing created


@pytest.mark.parametrize(("make", "message"), [
    ("empty", "is empty"),
    ("foreign", "not a bithumb-trader database"),
])
def test_unusable_databases_exit_2(tmp_path: Path, make: str, message: str) -> None:
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as conn:
        if make == "foreign":
            conn.execute("CREATE TABLE orders (id INTEGER)")
    result = invoke(["--db", f"sqlite:///{path}"])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_unreachable_server_exits_2_without_the_password() -> None:
    pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    result = invoke(["--db", "postgresql+psycopg://bot:hunter2-secret@127.0.0.1:1/trader"])
    assert result.exit_code == 2
    assert "cannot connect" in result.stderr
    assert "hunter2-secret" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "7d", "--from", "2026-03-01"], "either --since or --from/--to"),
    (["--since", "soon"], "duration"),
    (["--strategy", "gamma"], "no strategy 'gamma'"),
    (["--chart", "equity.jpg"], "--chart must end in .png, .svg or .html"),
    (["--bogus"], "unexpected arguments: --bogus"),
    (["--mode", "paper"], "'paper' is not one of"),
    (["--mode", "dry", "--backtest", "abc"], "--mode leaves backtests out"),
    (["--backtest", "nosuch"], "has no backtest 'nosuch'"),
])
def test_usage_errors_exit_2(sqlite_db: ReportDb, args: list[str], message: str) -> None:
    result = invoke(["--db", sqlite_db.url, *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_unknown_format_exits_2(sqlite_db: ReportDb) -> None:
    result = invoke(["--db", sqlite_db.url, "--format", "xml"])
    assert result.exit_code == 2


def test_a_failed_csv_leaves_no_file(sqlite_db: ReportDb, tmp_path: Path) -> None:
    target = tmp_path / "executions.csv"
    result = invoke(["--db", sqlite_db.url, "--format", "csv", "--strategy", "gamma",
                     "--output", str(target)])
    assert result.exit_code == 2 and "no strategy 'gamma'" in result.stderr
    assert not target.exists()


def test_unwritable_output_exits_2(sqlite_db: ReportDb, tmp_path: Path) -> None:
    result = invoke(["--db", sqlite_db.url, "--output", str(tmp_path / "no" / "dir.txt")])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr


def test_chart_without_matplotlib_names_the_extra(
    sqlite_db: ReportDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import now raises ImportError
    target = tmp_path / "chart.png"
    result = invoke(["--db", sqlite_db.url, "--chart", str(target)])
    assert result.exit_code == 2
    assert "pip install 'bithumb-llm-trader[plots]'" in result.stderr
    assert result.stdout == "" and not target.exists()


@pytest.mark.parametrize("suffix", [".png", ".svg", ".html"])
def test_chart_files(sqlite_db: ReportDb, tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / f"chart{suffix}"
    result = invoke(["--db", sqlite_db.url, "--format", "json", "--chart", str(target)])
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # the report itself still goes to stdout
    data = target.read_bytes()
    if suffix == ".png":
        assert data.startswith(b"\x89PNG")
    elif suffix == ".svg":
        assert b"<svg" in data
    else:
        text = data.decode("utf-8")
        assert text.startswith("<!DOCTYPE html>") and "<svg" in text
        assert "<?xml" not in text and text.rstrip().endswith("</html>")
