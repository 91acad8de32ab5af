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

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.store import open_store

from ..servers import BACKENDS, SERVER_ENV, create_scratch, drop_scratch
from .helpers import START
from .scenario import Scenario, build


@dataclass
class ReportDb:
    url: str
    backend: str
    scenario: Scenario


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
        scratch = f"bt_report_{secrets.token_hex(4)}"
        url = create_scratch(backend, scratch)
    store = open_store(url, clock=ManualClock(START))
    try:
        scenario = build(store, Path(tmp_path))
    finally:
        store.close()
    try:
        yield ReportDb(url, backend, scenario)
    finally:
        if scratch is not None:
            drop_scratch(backend, scratch)


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
