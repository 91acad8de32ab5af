"""``open_store``: URLs, SQLite files, and one-line errors that never show a password."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.store import open_store, redact_url

PASSWORD = "s3cr3t-pa55"


def closed_port() -> int:
    """A local port nothing listens on: bound once by us, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(("url", "expected"), [
    ("mysql+pymysql://bot:pw@db.example:3306/trader",
     "mysql+pymysql://bot:***@db.example:3306/trader"),
    ("postgresql+psycopg://bot:p%40ss@db/trader?password=other",
     "postgresql+psycopg://bot:***@db/trader?password=***"),
    ("sqlite:///bithumb_trader.db", "sqlite:///bithumb_trader.db"),
    ("no scheme://bot:pw@host/db", "no scheme://bot:***@host/db"),
])
def test_redact_url_hides_passwords(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize("driver", ["mysql+pymysql", "postgresql+psycopg"])
def test_an_unreachable_server_is_one_line_without_the_password(
    driver: str, clock: ManualClock
) -> None:
    pytest.importorskip({"mysql+pymysql": "pymysql", "postgresql+psycopg": "psycopg"}[driver],
                        reason="the database extra is not installed")
    port = closed_port()
    with pytest.raises(StoreError) as caught:
        open_store(f"{driver}://bot:{PASSWORD}@127.0.0.1:{port}/trader", clock=clock)
    message = str(caught.value)
    assert message.startswith(f"cannot connect to {driver}://bot:***@127.0.0.1:{port}/trader: ")
    assert PASSWORD not in message
    assert "\n" not in message


@pytest.mark.parametrize(("url", "fragment"), [
    ("not a url at all", "bad database URL"),
    (f"nosuchdb://bot:{PASSWORD}@host/db", "driver is missing or unknown"),
    (f"mysql+mysqldb://bot:{PASSWORD}@host/db", "pip install 'bithumb-llm-trader[mariadb]'"),
    (f"postgresql+nosuchdriver://bot:{PASSWORD}@host/db", "[postgres]"),
])
def test_bad_urls_and_missing_drivers_are_one_line(
    url: str, fragment: str, clock: ManualClock
) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url, clock=clock)
    message = str(caught.value)
    assert fragment in message
    assert PASSWORD not in message
    assert "\n" not in message


def test_sqlite_paths_are_relative_to_the_working_directory_and_dirs_are_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: ManualClock
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:///data/nested/trader.db", clock=clock)
    store.close()
    assert (tmp_path / "data" / "nested" / "trader.db").is_file()


def test_sqlite_file_connections_use_wal_normal_sync_and_foreign_keys(
    tmp_path: Path, clock: ManualClock
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}", clock=clock)
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.close()


def test_an_in_memory_sqlite_database_is_one_database_for_every_thread(
    clock: ManualClock,
) -> None:
    store = open_store("sqlite://", clock=clock)
    store.cache_put("k", "m", "v")
    seen: list[str | None] = []
    worker = threading.Thread(target=lambda: seen.append(store.cache_get("k")))
    worker.start()
    worker.join()
    assert seen == ["v"]
    store.close()


def test_an_sqlite_path_under_a_file_is_refused(tmp_path: Path, clock: ManualClock) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create the directory of sqlite:///"):
        open_store(f"sqlite:///{blocker / 'sub' / 'x.db'}", clock=clock)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root ignores file permissions")
def test_permission_denied_is_a_store_error(tmp_path: Path, clock: ManualClock) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        with pytest.raises(StoreError, match="locked"):
            open_store(f"sqlite:///{locked / 'x.db'}", clock=clock)
    finally:
        locked.chmod(0o700)


def test_an_unreadable_sqlite_file_is_one_line(tmp_path: Path, clock: ManualClock) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite database, just bytes " * 100)
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{junk}", clock=clock)
    assert "not a database" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_repr_hides_the_password(tmp_path: Path, clock: ManualClock) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'x.db'}", clock=clock)
    assert repr(store) == f"SqlStore(sqlite:///{tmp_path / 'x.db'})"
    store.close()


@pytest.mark.parametrize("env", [
    pytest.param("BITHUMB_TRADER_TEST_MYSQL_URL", marks=pytest.mark.mariadb),
    pytest.param("BITHUMB_TRADER_TEST_PG_URL", marks=pytest.mark.postgres),
])
def test_a_refused_login_is_one_line_without_the_password(env: str, clock: ManualClock) -> None:
    configured = os.environ.get(env)
    if not configured:
        pytest.skip(f"{env} is not set")
    wrong = make_url(configured).set(username="bt_no_such_user", password=PASSWORD)
    with pytest.raises(StoreError) as caught:
        open_store(wrong.render_as_string(hide_password=False), clock=clock)
    message = str(caught.value)
    assert message.startswith("cannot connect to ")
    assert "bt_no_such_user:***@" in message
    assert PASSWORD not in message
    assert "\n" not in message
