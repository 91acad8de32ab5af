"""JWT signing: the token decodes and verifies with the secret; query_hash binds params."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import httpx
import jwt
import pytest

from bithumb_llm_trader.api_client import BithumbAuth
from bithumb_llm_trader.api_client.auth import body_pairs, hash_text, query_hash
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import UTC

from .conftest import API_KEY, API_SECRET, NONCE

API_NOTES_HASH = (
    "b749dfc2e17f75e5b46c8161f97fe7c9298ed4167ea21c5c94d16573efd8a801"
    "351470c0ff1a9a3f1e763f8249968218c04c571c8b45aa80cd4588e6c4be0738"
)
NOW = datetime(2026, 4, 1, 3, 0, 0, 123000, tzinfo=UTC)
NOW_MS = 1775012400123


def make_auth() -> BithumbAuth:
    return BithumbAuth(API_KEY, API_SECRET, clock=ManualClock(NOW), nonce_factory=lambda: NONCE)


def signed(request: httpx.Request) -> dict[str, Any]:
    """Run the auth flow on ``request`` and return the verified JWT claims."""
    flow = make_auth().sync_auth_flow(request)
    sent = next(flow)
    scheme, _, token = sent.headers["Authorization"].partition(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims: dict[str, Any] = jwt.decode(token, API_SECRET, algorithms=["HS256"])
    return claims


def test_query_hash_matches_the_api_notes_check_value() -> None:
    assert query_hash("market=KRW-BTC") == API_NOTES_HASH


def test_get_with_params_is_signed_with_the_query_hash() -> None:
    request = httpx.Request("GET", "https://api.bithumb.com/v1/orders/chance",
                            params={"market": "KRW-BTC"})
    claims = signed(request)
    assert claims == {
        "access_key": API_KEY, "nonce": NONCE, "timestamp": NOW_MS,
        "query_hash": API_NOTES_HASH, "query_hash_alg": "SHA512",
    }


def test_request_without_params_has_no_query_hash() -> None:
    claims = signed(httpx.Request("GET", "https://api.bithumb.com/v1/accounts"))
    assert claims == {"access_key": API_KEY, "nonce": NONCE, "timestamp": NOW_MS}


def test_a_wrong_secret_does_not_verify() -> None:
    request = httpx.Request("GET", "https://api.bithumb.com/v1/accounts")
    token = make_auth().token_for(request)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-thirty-two-bytes!", algorithms=["HS256"])


def test_json_body_is_hashed_as_unencoded_key_value_text_in_sent_order() -> None:
    body = {"market": "KRW-BTC", "side": "bid", "order_type": "limit", "price": "95000000",
            "volume": "0.0001", "client_order_id": "c:1/é"}
    request = httpx.Request("POST", "https://api.bithumb.com/v2/orders",
                            content=json.dumps(body).encode())
    expected_text = ("market=KRW-BTC&side=bid&order_type=limit&price=95000000"
                     "&volume=0.0001&client_order_id=c:1/é")
    assert hash_text(request) == expected_text
    claims = signed(request)
    assert claims["query_hash"] == hashlib.sha512(expected_text.encode()).hexdigest()
    assert claims["query_hash_alg"] == "SHA512"


def test_query_values_are_hashed_decoded_in_sent_order() -> None:
    request = httpx.Request("GET", "https://api.bithumb.com/v1/ticker",
                            params=[("markets", "KRW-BTC,KRW-ETH"), ("to", "2024-01-01T09:00:00")])
    assert b"%2C" in request.url.query  # the wire form is encoded, the hashed text is not
    assert hash_text(request) == "markets=KRW-BTC,KRW-ETH&to=2024-01-01T09:00:00"


def test_arrays_are_hashed_with_bracketed_keys() -> None:
    query = httpx.Request("GET", "https://api.bithumb.com/v1/orders",
                          params=[("uuids[]", "a"), ("uuids[]", "b")])
    assert hash_text(query) == "uuids[]=a&uuids[]=b"
    assert body_pairs(b'{"uuids": ["a", "b"], "flag": true}') == [
        ("uuids[]", "a"), ("uuids[]", "b"), ("flag", "true")]


def test_body_that_is_not_an_object_cannot_be_signed() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        body_pairs(b'["a"]')
    with pytest.raises(ValueError, match="dict"):
        body_pairs(b'{"nested": {"a": 1}}')


def test_each_request_gets_a_fresh_default_nonce() -> None:
    auth = BithumbAuth(API_KEY, API_SECRET, clock=ManualClock(NOW))
    nonces = {auth.claims("")["nonce"] for _ in range(3)}
    assert len(nonces) == 3


def test_keys_are_required_and_hidden() -> None:
    with pytest.raises(ValueError, match="both"):
        BithumbAuth(API_KEY, "")
    text = repr(make_auth())
    assert API_KEY not in text and API_SECRET not in text
