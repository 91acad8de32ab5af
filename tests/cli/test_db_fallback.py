"""``database.fallback_url``: a dry run records into it when the primary is unreachable.

The primary is a MariaDB URL on port 1 of the loopback, which refuses at once; the
fallback an SQLite file. A live run refuses instead, a primary that answered (a foreign
or newer database) refuses even with a fallback, and ``--db`` has no fallback.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bithumb_llm_trader.store import SCHEMA_VERSION, open_store

from ..portfolio.test_portfolio_cli import invoke as invoke_portfolio
from ..portfolio.test_portfolio_cli import stand_in as portfolio_stand_in
from ..portfolio.test_portfolio_cli import strategy_file
from ..servers import SERVER_ENV, create_scratch, drop_scratch
from .test_run_cli import BITHUMB_KEY, BITHUMB_SECRET, invoke, stand_in, table_rows, write_config

pytest.importorskip("pymysql", reason="the mariadb extra is not installed")

UNREACHABLE = "mysql+pymysql://root:p@127.0.0.1:1/test"
"""Port 1 on the loopback: nothing listens, so the connection is refused at once."""
UNREACHABLE_SHOWN = "mysql+pymysql://root:***@127.0.0.1:1/test"
RULES = {"decider": "rules", "candle_count": 60}


def fallback_config(workdir: Path, primary: str = UNREACHABLE, **overrides: Any) -> Path:
    database = {"url": primary, "fallback_url": f"sqlite:///{workdir / 'fallback.db'}"}
    return write_config(workdir, strategy=RULES, database=database, **overrides)


def test_a_dry_run_records_into_the_fallback_and_says_so(workdir: Path) -> None:
    standin, clock = stand_in()
    result = invoke(["run", str(fallback_config(workdir)), "--json"], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    note = (f"database: {UNREACHABLE_SHOWN} unreachable; recording into "
            f"sqlite:///{workdir / 'fallback.db'}")
    assert note in out["notes"]
    runs = table_rows(workdir / "fallback.db")["cron_runs"]
    assert [row["run_id"] for row in runs] == [out["run_id"]]
    warning = " ".join(result.stderr.split())  # the log handler may wrap the line
    assert "WARNING" in warning and "cannot connect to" in warning
    assert "this dry run records into the fallback" in warning
    assert "root:p@" not in result.output and "***ymysql" not in result.output


def test_a_live_run_refuses_instead_of_falling_back(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BITHUMB_API_KEY", BITHUMB_KEY)
    monkeypatch.setenv("BITHUMB_API_SECRET", BITHUMB_SECRET)
    standin, clock = stand_in()
    config = fallback_config(workdir, dry_run=False)
    result = invoke(["run", str(config), "--live"], standin, clock)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    message = " ".join(" ".join(lines).split())
    assert f"cannot connect to {UNREACHABLE_SHOWN}" in message
    assert "a live run does not fall back" in message and "risk state" in message
    assert len(lines) <= 2 and "Traceback" not in result.output  # one line, maybe wrapped
    assert not (workdir / "fallback.db").exists()
    assert standin.requests == []
    assert result.stdout == ""


def test_db_on_the_command_line_has_no_fallback(workdir: Path) -> None:
    standin, clock = stand_in()
    result = invoke(["run", str(fallback_config(workdir)), "--db", UNREACHABLE, "--json"],
                    standin, clock)
    assert result.exit_code == 2, result.output
    assert "cannot connect to" in result.stderr
    assert not (workdir / "fallback.db").exists()
    assert standin.requests == []


def test_a_foreign_primary_refuses_even_with_a_fallback(workdir: Path) -> None:
    foreign = workdir / "foreign.db"
    engine = create_engine(f"sqlite:///{foreign}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE legacy_trades (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    standin, clock = stand_in()
    config = fallback_config(workdir, primary=f"sqlite:///{foreign}")
    result = invoke(["run", str(config), "--json"], standin, clock)
    assert result.exit_code == 2, result.output
    assert "is not a bithumb-trader database" in result.stderr
    assert not (workdir / "fallback.db").exists()


@pytest.fixture
def newer_mariadb() -> Any:
    """A MariaDB scratch database whose schema is newer than this code."""
    if not os.environ.get(SERVER_ENV["mariadb"]):
        pytest.skip(f"{SERVER_ENV['mariadb']} is not set")
    name = f"bt_fallback_{os.getpid()}"
    url = create_scratch("mariadb", name)
    open_store(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version (version, applied_at) "
                          "VALUES (:v, CURRENT_TIMESTAMP)"), {"v": SCHEMA_VERSION + 1})
    engine.dispose()
    yield url
    drop_scratch("mariadb", name)


@pytest.mark.mariadb
def test_a_newer_mariadb_schema_refuses_even_with_a_fallback(
    workdir: Path, newer_mariadb: str
) -> None:
    standin, clock = stand_in()
    result = invoke(["run", str(fallback_config(workdir, primary=newer_mariadb)), "--json"],
                    standin, clock)
    assert result.exit_code == 2, result.output
    assert "is newer than this bithumb-trader" in result.stderr
    assert not (workdir / "fallback.db").exists()


def test_a_dry_portfolio_records_into_the_fallback(workdir: Path) -> None:
    strategies = workdir / "strategies"
    database = {"url": UNREACHABLE, "fallback_url": f"sqlite:///{workdir / 'fallback.db'}"}
    for name in ("alpha", "beta"):
        strategy_file(strategies, name, strategy=RULES, database=database)
    standin, clock = portfolio_stand_in()
    result = invoke_portfolio([str(strategies), "--json"], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert any(note.startswith(f"database: {UNREACHABLE_SHOWN} unreachable")
               for note in out["notes"])
    assert table_rows(workdir / "fallback.db")["cron_runs"]
