"""Redacting database URLs and driver messages, and telling an unreachable server apart."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.store import is_unreachable, open_store, redact_url
from bithumb_llm_trader.store.connect import one_line
from bithumb_llm_trader.store.redaction import scrub

from ..servers import SERVER_ENV


@pytest.mark.parametrize(("url", "expected"), [
    ("mysql+pymysql://root:p@127.0.0.1:3306/test", "mysql+pymysql://root:***@127.0.0.1:3306/test"),
    ("mysql+pymysql://root:root@localhost/root", "mysql+pymysql://root:***@localhost/root"),
    ("mysql+pymysql://bot:mysql@db/trader", "mysql+pymysql://bot:***@db/trader"),
    ("postgresql+psycopg://bot:p%40ss%2Fw%3Ard@db/trader",
     "postgresql+psycopg://bot:***@db/trader"),
    ("mysql+pymysql://bot@db/trader?charset=utf8mb4",
     "mysql+pymysql://bot@db/trader?charset=utf8mb4"),
    ("mysql+pymysql://bot@db/trader?password=p", "mysql+pymysql://bot@db/trader?password=***"),
    ("sqlite:///p.db", "sqlite:///p.db"),
])
def test_only_the_password_component_is_hidden(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(("url", "driver_text", "expected"), [
    # a one-letter password never eats letters of words around it
    ("mysql+pymysql://root:p@h/test", "Can't load plugin: sqlalchemy.dialects:mysql.pymysqlx",
     "Can't load plugin: sqlalchemy.dialects:mysql.pymysqlx"),
    ("postgresql+psycopg://root:p@h:1/test", 'connection to server at "h", port 1 failed',
     'connection to server at "h", port 1 failed'),
    # a password equal to a word of the URL leaves that word readable
    ("mysql+pymysql://root:root@h/test", "Access denied for user 'root'@'h'",
     "Access denied for user 'root'@'h'"),
    ("mysql+pymysql://trader:tradingdb@h/tradingdb", "Unknown database 'tradingdb'",
     "Unknown database 'tradingdb'"),
    # an echoed URL, user-info or password= is masked whatever the password's length
    ("mysql+pymysql://root:p@h/test", "bad url mysql+pymysql://root:p@h/test here",
     "bad url mysql+pymysql://root:***@h/test here"),
    ("mysql+pymysql://root:p@h/test", "dsn user=root password=p host=h",
     "dsn user=root password=*** host=h"),
    ("mysql+pymysql://root:root@h/test", "at root:root@h", "at root:***@h"),
    # a long, distinctive password is masked wherever it stands alone
    ("mysql+pymysql://bot:hunter2-secret@h/db", "login hunter2-secret refused",
     "login *** refused"),
    # URL-encoded: masked as typed and as encoded
    ("postgresql+psycopg://bot:p%40ss%2Fword@h/db", "got 'p@ss/word' and p%40ss%2Fword",
     "got '***' and ***"),
    ("mysql+pymysql://bot@h/db", "no password here: p", "no password here: p"),
])
def test_driver_text_is_scrubbed_by_where_the_secret_stands(
    url: str, driver_text: str, expected: str
) -> None:
    assert scrub(driver_text, url) == expected


def test_a_one_letter_password_leaves_error_text_readable(clock: ManualClock) -> None:
    with pytest.raises(StoreError) as caught:
        open_store("mysql+pymysqlx://root:p@127.0.0.1:1/test", clock=clock)
    message = str(caught.value)
    assert "sqlalchemy.dialects:mysql.pymysqlx" in message
    assert "***ymysql" not in message
    assert message.startswith("cannot open mysql+pymysqlx://root:***@127.0.0.1:1/test")


def test_a_query_parameter_the_driver_refuses_is_a_bad_url(clock: ManualClock) -> None:
    pytest.importorskip("pymysql")
    with pytest.raises(StoreError) as caught:
        open_store("mysql+pymysql://root:p@127.0.0.1:1/test?nosuchoption=1", clock=clock)
    message = str(caught.value)
    assert message.startswith("bad database URL mysql+pymysql://root:***@127.0.0.1:1/test")
    assert "nosuchoption" in message and "\n" not in message
    assert not is_unreachable(caught.value)


def test_an_unparseable_url_is_scrubbed_too() -> None:
    error = ValueError("cannot read no scheme://bot:s3cr3t-pa55@host/db")
    assert one_line(error, "no scheme://bot:s3cr3t-pa55@host/db") == (
        "cannot read no scheme://bot:***@host/db")


@pytest.mark.parametrize("driver", ["mysql+pymysql", "postgresql+psycopg"])
def test_a_refused_connection_is_unreachable(driver: str, clock: ManualClock) -> None:
    pytest.importorskip({"mysql+pymysql": "pymysql", "postgresql+psycopg": "psycopg"}[driver])
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        open_store(f"{driver}://root:p@127.0.0.1:1/test", clock=clock)
    assert is_unreachable(caught.value)
    assert time.monotonic() - started < 5


def test_an_unknown_host_is_unreachable(clock: ManualClock) -> None:
    pytest.importorskip("pymysql")
    with pytest.raises(StoreError) as caught:
        open_store("mysql+pymysql://root@nosuchhost.invalid:3306/test", clock=clock)
    assert is_unreachable(caught.value)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections into its backlog and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_a_server_that_never_answers_times_out_as_unreachable(
    silent_port: int, clock: ManualClock
) -> None:
    pytest.importorskip("psycopg")
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        open_store(f"postgresql+psycopg://root@127.0.0.1:{silent_port}/test?connect_timeout=1",
                   clock=clock)
    assert is_unreachable(caught.value)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(("env", "change"), [
    pytest.param("mariadb", {"database": "bt_no_such_db"}, id="mariadb-unknown-database",
                 marks=pytest.mark.mariadb),
    pytest.param("mariadb", {"username": "bt_no_such_user", "password": "x"},
                 id="mariadb-refused-login", marks=pytest.mark.mariadb),
    pytest.param("postgres", {"database": "bt_no_such_db"}, id="postgres-unknown-database",
                 marks=pytest.mark.postgres),
    pytest.param("postgres", {"username": "bt_no_such_user"}, id="postgres-unknown-role",
                 marks=pytest.mark.postgres),
])
def test_a_server_that_answered_is_not_unreachable(
    env: str, change: dict[str, str], clock: ManualClock
) -> None:
    base = os.environ.get(SERVER_ENV[env])
    if not base:
        pytest.skip(f"{SERVER_ENV[env]} is not set")
    url = make_url(base).set(**change).render_as_string(hide_password=False)
    with pytest.raises(StoreError) as caught:
        open_store(url, clock=clock)
    assert not is_unreachable(caught.value)


def test_sqlite_and_our_own_errors_are_never_unreachable(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError) as caught:
        open_store(f"sqlite:///{tmp_path / 'dir.db'}")
    assert not is_unreachable(caught.value)
    assert not is_unreachable(StoreError("database schema v99 is newer"))
    assert not is_unreachable(OSError(2003, "not a MySQL code"))
