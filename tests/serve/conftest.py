"""A database traded by real dry cycles (the report tests' scenario), and apps over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the 'serve' extra (FastAPI, uvicorn) is not installed")

from fastapi.testclient import TestClient

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.serve import ServeSettings, create_app
from bithumb_llm_trader.store import open_store

from ..report.helpers import START
from ..report.scenario import Scenario, build

TOKEN = "serve-test-token-0123456789abcdef"
NOW = START.replace(hour=6)


@dataclass
class ServeDb:
    url: str
    scenario: Scenario
    folder: Path


@pytest.fixture(scope="module")
def serve_db(tmp_path_factory: pytest.TempPathFactory) -> ServeDb:
    folder = tmp_path_factory.mktemp("serve")
    url = f"sqlite:///{folder / 'trader.db'}"
    store = open_store(url, clock=ManualClock(START))
    try:
        scenario = build(store, folder)
    finally:
        store.close()
    return ServeDb(url, scenario, folder)


def make_client(db: ServeDb, **settings: object) -> TestClient:
    values: dict[str, object] = {"database_url": db.url,
                                 "kill_switch_file": db.folder / "KILL_SWITCH"}
    values.update(settings)
    app = create_app(ServeSettings(**values),  # type: ignore[arg-type]
                     clock=ManualClock(NOW))
    return TestClient(app)


@pytest.fixture
def client(serve_db: ServeDb) -> Iterator[TestClient]:
    """Loopback, with a token: reading is open, control needs the token."""
    with make_client(serve_db, token=TOKEN) as test_client:
        yield test_client


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
