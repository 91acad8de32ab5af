"""JWT signing of Bithumb's private calls, as an ``httpx.Auth`` with no I/O.

Each request gets a token with the access key, a fresh nonce and the time in ms; when
it has parameters, ``query_hash`` binds the token to them: the SHA-512 of the
*unencoded* ``k=v&k2=v2`` text in the order sent (a JSON body is hashed in the same
``k=v`` form, not as JSON text). The clock and nonce are injected so tests can decode
and check an exact token.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Generator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt

from ..clock import SystemClock
from ..domain import UTC
from ..ports import Clock
from .endpoints import AUTH_HEADER, AUTH_SCHEME, JWT_ALGORITHM, QUERY_HASH_ALG

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def _uuid4_text() -> str:
    return str(uuid.uuid4())


class BithumbAuth(httpx.Auth):
    """Signs each request with an HS256 JWT in ``Authorization: Bearer <token>``.

    The keys are kept private and never shown by ``repr``; the token itself is only
    ever written to the request header.
    """

    requires_request_body = True  # the body's fields go into query_hash

    def __init__(
        self,
        access_key: str,
        secret_key: str,
        *,
        clock: Clock | None = None,
        nonce_factory: Callable[[], str] | None = None,
    ) -> None:
        if not access_key or not secret_key:
            raise ValueError("BithumbAuth needs both an access key and a secret key")
        self._access_key = access_key
        self._secret_key = secret_key
        self._clock: Clock = clock or SystemClock()
        self._nonce_factory = nonce_factory or _uuid4_text

    def __repr__(self) -> str:
        return "BithumbAuth(access_key=<hidden>, secret_key=<hidden>)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[AUTH_HEADER] = f"{AUTH_SCHEME} {self.token_for(request)}"
        yield request

    def token_for(self, request: httpx.Request) -> str:
        """The signed token for ``request`` (query and, if any, JSON body)."""
        return jwt.encode(self.claims(hash_text(request)), self._secret_key,
                          algorithm=JWT_ALGORITHM)

    def claims(self, params_text: str) -> dict[str, Any]:
        """The JWT payload; ``params_text`` is the ``k=v&...`` text to hash, or empty."""
        claims: dict[str, Any] = {
            "access_key": self._access_key,
            "nonce": self._nonce_factory(),
            "timestamp": (self._clock.now() - _EPOCH) // _ONE_MS,
        }
        if params_text:
            claims["query_hash"] = query_hash(params_text)
            claims["query_hash_alg"] = QUERY_HASH_ALG
        return claims


def query_hash(params_text: str) -> str:
    """SHA-512 hex digest of the unencoded parameter text."""
    return hashlib.sha512(params_text.encode("utf-8")).hexdigest()


def hash_text(request: httpx.Request) -> str:
    """The unencoded ``k=v&k2=v2`` text of a request's query, then its JSON body fields.

    Built from the request as it will be sent, so the hash always matches what the
    exchange receives. Arrays appear as ``k[]=a&k[]=b``.
    """
    pairs = parse_qsl(request.url.query.decode("ascii"), keep_blank_values=True)
    if request.content:
        pairs.extend(body_pairs(request.content))
    return "&".join(f"{key}={value}" for key, value in pairs)


def body_pairs(content: bytes) -> list[tuple[str, str]]:
    """A flat JSON object body as ``(key, value)`` pairs in its own key order."""
    body = json.loads(content, parse_float=Decimal)
    if not isinstance(body, dict):
        raise ValueError("only a JSON object body can be signed")
    pairs: list[tuple[str, str]] = []
    for key, value in body.items():
        if isinstance(value, list):
            pairs.extend((f"{key}[]", _wire_text(item)) for item in value)
        else:
            pairs.append((key, _wire_text(value)))
    return pairs


def _wire_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, Decimal)):
        return str(value)
    raise ValueError(f"cannot sign a body value of type {type(value).__name__}")
