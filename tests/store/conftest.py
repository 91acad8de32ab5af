"""Backends for the store tests: SQLite always, MariaDB and PostgreSQL when configured.

``BITHUMB_TRADER_TEST_MYSQL_URL`` / ``BITHUMB_TRADER_TEST_PG_URL`` name a server database.
Each test session works in its own scratch database (MariaDB) or schema (PostgreSQL),
dropped at the end, so parallel runs cannot see each other's rows; when the account may
not create one, the configured database is used and every table a test created is
dropped after it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import UTC
from bithumb_llm_trader.store import SqlStore, metadata, open_store

from ..servers import BACKENDS, SERVER_ENV, create_scratch, drop_scratch

TEST_TABLES = ("legacy_trades", "upgrade_probe", "money_probe")
"""Tables tests create besides ours; dropped with ours after each test."""

def drop_test_tables(engine: Engine) -> None:
    """Drop our tables and the tests' own, and nothing else."""
    with engine.begin() as conn:
        for name in TEST_TABLES:
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
    metadata.drop_all(engine, checkfirst=True)


def wipe_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name != "schema_version":
                conn.execute(table.delete())


@dataclass
class Scratch:
    """A server database a test may fill, and whether it is ours alone."""

    url: str
    private: bool


@dataclass
class ScratchServers:
    """Creates scratch databases or schemas on demand; drops them at the session's end."""

    token: str = field(default_factory=lambda: secrets.token_hex(4))
    made: dict[tuple[str, str], Scratch] = field(default_factory=dict)
    cleanups: list[tuple[str, str]] = field(default_factory=list)

    def get(self, backend: str, purpose: str) -> Scratch:
        key = (backend, purpose)
        if key not in self.made:
            self.made[key] = self._create(backend, f"bt_{purpose}_{self.token}")
        return self.made[key]

    def _create(self, backend: str, name: str) -> Scratch:
        try:
            url = create_scratch(backend, name)
        except SQLAlchemyError:  # no rights: share the configured database
            return Scratch(os.environ[SERVER_ENV[backend]], private=False)
        self.cleanups.append((backend, name))
        return Scratch(url, private=True)

    def close(self) -> None:
        for backend, name in self.cleanups:
            drop_scratch(backend, name)


@pytest.fixture(scope="session")
def scratch_servers() -> Iterator[ScratchServers]:
    servers = ScratchServers()
    yield servers
    servers.close()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name in SERVER_ENV and not os.environ.get(SERVER_ENV[name]):
        pytest.skip(f"{SERVER_ENV[name]} is not set")
    return name


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


@pytest.fixture
def store(
    backend: str, scratch_servers: ScratchServers, tmp_path: Path, clock: ManualClock
) -> Iterator[SqlStore]:
    """An open store with the schema in place and no rows."""
    if backend == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'store.db'}", clock=clock)
        yield opened
        opened.close()
        return
    scratch = scratch_servers.get(backend, "store")
    opened = open_store(scratch.url, clock=clock)
    try:
        yield opened
    finally:
        if scratch.private:
            wipe_rows(opened.engine)  # cheaper than re-creating the tables per test
        else:
            drop_test_tables(opened.engine)
        opened.close()


@pytest.fixture
def empty_url(backend: str, scratch_servers: ScratchServers, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database; whatever the test creates there is dropped after."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    url = scratch_servers.get(backend, "migrate").url
    engine = create_engine(url)
    try:
        drop_test_tables(engine)  # a shared database may hold the store tests' tables
        yield url
    finally:
        drop_test_tables(engine)
        engine.dispose()
