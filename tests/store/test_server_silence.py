"""A database server that stops answering mid-statement fails the statement, in time.

Without a read timeout PyMySQL waits on a silent socket forever: a hung server or a
dropped network would stop a cycle (its lease held, maybe an order in flight) for good.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bithumb_llm_trader.store import connect
from bithumb_llm_trader.store.connect import (
    CONNECT_TIMEOUT_S,
    SCHEMA_LOCK_TIMEOUT_S,
    SERVER_SILENCE_S,
    build_engine,
)

from ..servers import SERVER_ENV


def _settings(url: str) -> dict[str, Any]:
    """The keyword arguments the driver's connect() gets for ``url``."""
    engine = build_engine(url)
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def _capture(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise OperationalError("stop", {}, Exception("stop"))

    with pytest.raises(OperationalError):
        engine.connect()
    engine.dispose()
    return seen


@pytest.mark.parametrize("driver", ["mysql+pymysql", "postgresql+psycopg"])
def test_server_connections_wait_ten_seconds_at_most(driver: str) -> None:
    pytest.importorskip({"mysql+pymysql": "pymysql", "postgresql+psycopg": "psycopg"}[driver])
    assert _settings(f"{driver}://root@192.0.2.1:1/test")["connect_timeout"] == (
        CONNECT_TIMEOUT_S) <= 10


def test_a_silent_server_is_given_up_on_after_the_longest_wait_we_ask_of_it() -> None:
    assert SCHEMA_LOCK_TIMEOUT_S < SERVER_SILENCE_S <= 120
    pytest.importorskip("pymysql")
    mysql = _settings("mysql+pymysql://root@192.0.2.1:1/test")
    assert mysql["read_timeout"] == mysql["write_timeout"] == SERVER_SILENCE_S
    assert _settings("mysql+pymysql://root@192.0.2.1:1/test?read_timeout=5")["read_timeout"] == 5


def test_postgres_connections_notice_a_peer_that_went_away() -> None:
    pytest.importorskip("psycopg")
    pg = _settings("postgresql+psycopg://root@192.0.2.1:1/test")
    assert pg["keepalives"] == 1
    assert pg["keepalives_idle"] + pg["keepalives_interval"] * pg["keepalives_count"] <= 60


class FreezingProxy:
    """Forwards TCP to ``target`` until ``freeze()``; then holds every byte."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._frozen = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def freeze(self) -> None:
        self._frozen.set()

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._target)
            self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                if self._frozen.is_set():
                    return  # swallowed: the other side hears nothing, and no close
                sink.sendall(chunk)
        except OSError:
            return


@pytest.fixture
def mariadb_behind_proxy() -> Iterator[tuple[str, FreezingProxy]]:
    base = os.environ.get(SERVER_ENV["mariadb"])
    if not base:
        pytest.skip(f"{SERVER_ENV['mariadb']} is not set")
    pytest.importorskip("pymysql")
    url = make_url(base)
    proxy = FreezingProxy((url.host or "127.0.0.1", url.port or 3306))
    yield url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False), proxy
    proxy.close()


@pytest.mark.mariadb
def test_a_mariadb_that_stops_answering_fails_the_statement(
        mariadb_behind_proxy: tuple[str, FreezingProxy], monkeypatch: pytest.MonkeyPatch) -> None:
    url, proxy = mariadb_behind_proxy
    monkeypatch.setattr(connect, "SERVER_SILENCE_S", 1)  # the default, made short
    engine = build_engine(url)
    outcome: list[BaseException] = []

    def query_through_the_frozen_proxy() -> None:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1
            proxy.freeze()
            try:
                conn.execute(text("SELECT 2"))
            except OperationalError as exc:
                outcome.append(exc)

    # In a thread, so that without the timeout this test fails instead of hanging.
    worker = threading.Thread(target=query_through_the_frozen_proxy, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the statement still waits on a silent server"
    assert len(outcome) == 1 and time.monotonic() - started < 5
    engine.dispose()
