"""Keys never show: not in repr, logs (at DEBUG, every logger) or error messages."""

from __future__ import annotations

import logging

import pytest
import respx

from bithumb_llm_trader.domain import Market
from bithumb_llm_trader.errors import AuthError

from .conftest import API_KEY, API_SECRET, ClientFactory, raw

pytestmark = pytest.mark.anyio

KRW_BTC = Market("KRW", "BTC")


async def test_repr_hides_keys(make_client: ClientFactory) -> None:
    client = make_client()
    text = repr(client) + repr(vars(client).get("_auth"))
    assert API_KEY not in text and API_SECRET not in text
    assert "authenticated=True" in repr(client)


async def test_logs_name_the_request_but_never_keys_or_token(
    api: respx.MockRouter, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    route = api.get("/v1/accounts").respond(content=raw("v1_accounts.json"))
    api.get("/v1/orders/chance").respond(401, content=raw("error_401_jwt_verification.json"))
    caplog.set_level(logging.DEBUG)
    client = make_client()
    await client.accounts()
    with pytest.raises(AuthError) as caught:
        await client.order_chance(KRW_BTC)
    token = route.calls.last.request.headers["Authorization"].split(" ", 1)[1]
    records = [record for record in caplog.records
               if record.name.startswith("bithumb_llm_trader.api_client")]
    messages = [record.getMessage() for record in records]
    assert any(m.startswith("GET /v1/accounts -> 200 in") and m.endswith("ms")
               for m in messages)
    assert any(m.startswith("GET /v1/orders/chance -> 401") for m in messages)
    assert all(record.levelno == logging.DEBUG for record in records)
    everything = caplog.text + str(caught.value) + "".join(messages)
    for secret in (API_KEY, API_SECRET, token, "Bearer"):
        assert secret not in everything
