"""The scenario database, once per backend: SQLite always, MariaDB and PostgreSQL when
``BITHUMB_TRADER_TEST_MYSQL_URL`` / ``BITHUMB_TRADER_TEST_PG_URL`` are set (the same
variables as tests/store). A server run works in its own scratch database (MariaDB) or
schema (PostgreSQL), dropped at the end of the module.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.store import open_store

from .helpers import START
from .scenario import Scenario, build

SERVER_ENV = {
    "mariadb": "BITHUMB_TRADER_TEST_MYSQL_URL",
    "postgres": "BITHUMB_TRADER_TEST_PG_URL",
}
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("mariadb", id="mariadb", marks=pytest.mark.mariadb),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@dataclass
class ReportDb:
    url: str
    backend: str
    scenario: Scenario


def _scratch(backend: str) -> tuple[str, str]:
    """A fresh scratch database or schema on the server; returns its URL and name."""
    base = os.environ[SERVER_ENV[backend]]
    name = f"bt_report_{secrets.token_hex(4)}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if backend == "mariadb":
                conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
                url = make_url(base).set(database=name)
            else:
                conn.execute(text(f"CREATE SCHEMA {name}"))
                url = make_url(base).update_query_dict({"options": f"-csearch_path={name}"})
    finally:
        engine.dispose()
    return url.render_as_string(hide_password=False), name


def _drop(backend: str, name: str) -> None:
    engine = create_engine(os.environ[SERVER_ENV[backend]], isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if backend == "mariadb":
                conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            else:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def report_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ReportDb]:
    """The scenario of ``scenario.py`` traded into a database of each backend."""
    backend: str = request.param
    if backend in SERVER_ENV and not os.environ.get(SERVER_ENV[backend]):
        pytest.skip(f"{SERVER_ENV[backend]} is not set")
    tmp_path = tmp_path_factory.mktemp(f"report-{backend}")
    scratch: str | None = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'report.db'}"
    else:
        url, scratch = _scratch(backend)
    store = open_store(url, clock=ManualClock(START))
    try:
        scenario = build(store, Path(tmp_path))
    finally:
        store.close()
    try:
        yield ReportDb(url, backend, scenario)
    finally:
        if scratch is not None:
            _drop(backend, scratch)


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> ReportDb:
    """The scenario on SQLite only, for the renderers and the command line."""
    tmp_path = tmp_path_factory.mktemp("report-sqlite-only")
    url = f"sqlite:///{tmp_path / 'report.db'}"
    store = open_store(url, clock=ManualClock(START))
    try:
        scenario = build(store, Path(tmp_path))
    finally:
        store.close()
    return ReportDb(url, "sqlite", scenario)


NOW = datetime(2026, 3, 2, 6, 0, tzinfo=START.tzinfo)
"""The report's 'now' in tests: after every row of the scenario."""
