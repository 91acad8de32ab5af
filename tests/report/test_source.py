"""Opening a database for a report: refused clearly when it is not ours, never changed."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.report import Period, Scope, build_report, open_report_source
from bithumb_llm_trader.store import SCHEMA_VERSION, open_store
from bithumb_llm_trader.store.schema import schema_version

from .conftest import NOW, ReportDb
from .helpers import START


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}


def test_a_missing_file_is_refused_and_not_created(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "trader.db"
    with pytest.raises(StoreError, match=r"no database at .*does not exist"):
        open_report_source(f"sqlite:///{target}")
    assert not target.exists() and not target.parent.exists()


def test_an_empty_database_is_refused_without_creating_tables(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    with pytest.raises(StoreError, match="is empty: no bithumb-trader tables yet"):
        open_report_source(f"sqlite:///{path}")
    assert tables(path) == set()


def test_another_tools_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE cron_runs (id INTEGER PRIMARY KEY, note TEXT)")
        conn.execute("CREATE TABLE trades (id INTEGER PRIMARY KEY)")
    before = digest(path)
    with pytest.raises(StoreError, match=r"not a bithumb-trader database \(found tables: "
                                         r"cron_runs, trades\)"):
        open_report_source(f"sqlite:///{path}")
    assert digest(path) == before


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("just text, not SQLite\n" * 100)
    with pytest.raises(StoreError, match="file is not a database"):
        open_report_source(f"sqlite:///{path}")


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    open_store(url, clock=ManualClock(START)).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION + 1,
                                                   applied_at=START))
    engine.dispose()
    with pytest.raises(StoreError, match=f"schema v{SCHEMA_VERSION + 1}; this bithumb-trader "
                                         f"reads v{SCHEMA_VERSION}"):
        open_report_source(url)


def test_a_half_created_schema_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'half.db'}"
    open_store(url, clock=ManualClock(START)).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE twap_slices"))
    engine.dispose()
    with pytest.raises(StoreError, match=r"lacks bithumb-trader tables \(twap_slices\)"):
        open_report_source(url)


def test_our_schema_without_runs_has_nothing_to_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    open_store(url, clock=ManualClock(START)).close()
    source = open_report_source(url)
    try:
        with pytest.raises(StoreError, match="has no runs recorded yet"):
            build_report(source, Scope(Period()), now=NOW)
    finally:
        source.close()


def test_an_unknown_strategy_lists_the_known_ones(sqlite_db: ReportDb) -> None:
    source = open_report_source(sqlite_db.url)
    try:
        with pytest.raises(StoreError, match=r"no strategy 'gamma' \(it has: alpha, beta\)"):
            build_report(source, Scope(Period(), strategies=("gamma",)), now=NOW)
    finally:
        source.close()


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql+psycopg://reporter:s3cret-pw@127.0.0.1:1/trader", "cannot connect to"),
    ("mysql+pymysql://reporter:s3cret-pw@127.0.0.1:1/trader", "cannot connect to"),
    ("nosuchdb://reporter:s3cret-pw@host/x", "driver is missing or unknown"),
    ("sqlite://", "in-memory database"),
    ("not a url", "bad database URL"),
])
def test_bad_and_unreachable_urls(url: str, message: str) -> None:
    needs = {"postgresql+psycopg": "psycopg", "mysql+pymysql": "pymysql"}.get(url.split(":")[0])
    if needs:
        pytest.importorskip(needs, reason="the database extra is not installed")
    with pytest.raises(StoreError, match=message) as caught:
        open_report_source(url)
    assert "s3cret-pw" not in str(caught.value)


def test_reading_never_writes(sqlite_db: ReportDb) -> None:
    """The whole report, run twice, leaves the database file as it was."""
    path = Path(sqlite_db.url.removeprefix("sqlite:///"))
    before = digest(path)
    for _ in range(2):
        source = open_report_source(sqlite_db.url)
        try:
            build_report(source, Scope(Period()), now=NOW)
        finally:
            source.close()
    assert digest(path) == before


def test_sqlite_refuses_writes_through_the_report_connection(sqlite_db: ReportDb) -> None:
    source = open_report_source(sqlite_db.url)
    try:
        with source.engine.connect() as conn, pytest.raises(Exception, match="readonly"):
            conn.execute(text("DELETE FROM cron_runs"))
    finally:
        source.close()
