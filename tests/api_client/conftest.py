"""Shared helpers for the Bithumb client tests: fixtures on disk, a fake clock, a mock API."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from bithumb_llm_trader.api_client import BithumbClient
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import UTC

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bithumb"
BASE_URL = "https://api.bithumb.com"
API_KEY = "test-access-key-AK1234"
API_SECRET = "test-secret-key-SK5678-do-not-log"
NONCE = "0b9b4b1e-6f7a-4c55-9a55-2a9f3d7b3c11"
START = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)


def load(name: str) -> Any:
    """A fixture body decoded the way the client decodes exchange JSON."""
    return json.loads((FIXTURES / name).read_bytes(), parse_float=Decimal)


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def assert_no_float(value: object, path: str = "result") -> None:
    """Fail if a float hides anywhere inside ``value`` (dataclasses, lists, tuples, dicts)."""
    assert not isinstance(value, float), f"{path} is a float: {value!r}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            assert_no_float(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            assert_no_float(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_no_float(item, f"{path}[{key!r}]")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def api() -> respx.MockRouter:
    """The fake Bithumb: tests declare routes on it; unmatched requests fail loudly."""
    return respx.MockRouter(base_url=BASE_URL, assert_all_called=False)


ClientFactory = Callable[..., BithumbClient]


@pytest.fixture
async def make_client(
    api: respx.MockRouter, clock: ManualClock
) -> AsyncIterator[ClientFactory]:
    """Build clients on the fake API and the manual clock; all are closed afterwards."""
    made: list[BithumbClient] = []

    def factory(**overrides: Any) -> BithumbClient:
        options: dict[str, Any] = {
            "api_key": API_KEY,
            "api_secret": API_SECRET,
            "transport": httpx.MockTransport(api.async_handler),
            "clock": clock,
            "nonce_factory": lambda: NONCE,
        }
        options.update(overrides)
        client = BithumbClient(BASE_URL, **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()
