"""HTTP answers and transport faults, translated into the package's typed errors.

The whole mapping lives here so the rest of the client only sees either a decoded JSON
payload or an exception from ``bithumb_llm_trader.errors``. Bithumb reports errors as
``{"error": {"name", "message"}}``, usually with a 4xx/5xx status but sometimes inside
a 2xx answer, and sometimes with a number for ``name``: all of those are errors here. So
is the legacy ``{"status": "5600", "message"}`` with any HTTP status (``"0000"`` is its
success), and a 4xx/5xx with a text or HTML body, whose text becomes the message.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ..domain import UTC
from ..errors import (
    AuthError,
    ExchangeRejected,
    ExchangeUnavailable,
    NetworkError,
    OrderNotFound,
    OrderNotReady,
    RateLimitError,
    TraderError,
    UnexpectedResponse,
)
from .endpoints import (
    AUTH_ERROR_NAMES,
    ERROR_ORDER_NOT_FOUND,
    ERROR_ORDER_NOT_READY,
    LEGACY_AUTH_CODES,
    LEGACY_AUTH_MESSAGES,
    LEGACY_BAD_REQUEST,
    LEGACY_CUSTOM_NOTICE,
    LEGACY_MESSAGE_FIELD,
    LEGACY_RATE_LIMIT_MESSAGES,
    LEGACY_STATUS_FIELD,
    LEGACY_SUCCESS,
    LEGACY_UNAVAILABLE_CODES,
    RATE_LIMIT_ERROR_NAMES,
    RETRY_AFTER_HEADER,
)

_SNIPPET_CHARS = 160
_NAME_CHARS = 100
_MESSAGE_CHARS = 500
_NOT_JSON = object()
_CONNECT_FAULTS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Faults that happen before any byte of the request leaves: it was certainly not sent."""


@dataclass(frozen=True, slots=True)
class ErrorBody:
    """What an error answer said: Bithumb's ``name`` (may be None) and its message."""

    name: str | None
    message: str


def decode_answer(
    response: httpx.Response, *, where: str, idempotent: bool, now: datetime
) -> Any:
    """Return the JSON payload of a good answer; raise the typed error of a bad one.

    Args:
        response: the HTTP answer, body already read.
        where: ``"GET /v1/ticker"``, for messages (never the query or headers).
        idempotent: False for calls a repeat could apply twice (order placement).
        now: the injected clock's time, to read a ``Retry-After`` given as a date.
    """
    payload = parse_json(response.content)
    status = response.status_code
    if payload is _NOT_JSON and status < 400:
        raise UnexpectedResponse(
            f"Bithumb {where}: HTTP {status} with a body that is not JSON: "
            f"{_snippet(response.content)!r}",
            status=status, idempotent=idempotent,
        )
    error = error_body(payload, response.content)
    if status >= 400 or error is not None:
        retry_after = parse_retry_after(response.headers.get(RETRY_AFTER_HEADER), now)
        raise exchange_error(
            where, status, error or ErrorBody(None, _snippet(response.content)),
            retry_after=retry_after, idempotent=idempotent,
        )
    return payload


def parse_json(content: bytes) -> Any:
    """Decode exchange JSON with every number exact, or ``_NOT_JSON``.

    Fractions and ``NaN``/``Infinity`` become Decimals (the parsers then refuse the
    non-finite ones by field name); a body nested too deep to decode is not JSON to us.
    """
    try:
        return json.loads(content, parse_float=Decimal, parse_constant=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _NOT_JSON


def error_body(payload: Any, content: bytes) -> ErrorBody | None:
    """The error a payload carries, or None; a non-JSON body is its own message."""
    if payload is _NOT_JSON:
        return ErrorBody(None, _snippet(content))
    if not isinstance(payload, dict):
        return None
    if payload.get("error") is None:
        return _legacy_error(payload)
    error = payload["error"]
    if isinstance(error, dict):
        name = error.get("name")
        return ErrorBody(
            None if name is None else _text(name, _NAME_CHARS),  # a numeric name: its text
            _text(error.get("message"), _MESSAGE_CHARS),
        )
    return ErrorBody(_text(error, _NAME_CHARS), "")


def _legacy_error(payload: dict[str, Any]) -> ErrorBody | None:
    """The legacy ``{"status": "5xxx", "message": ...}`` error, or None.

    Any ``status`` but ``"0000"`` (the legacy success) is an error: an answer that says
    it failed must never be read as, say, an accepted order. The message may be text or,
    in some answers, an object with its own ``message``.
    """
    status = payload.get(LEGACY_STATUS_FIELD)
    if status is None or str(status) == LEGACY_SUCCESS:
        return None
    message = payload.get(LEGACY_MESSAGE_FIELD)
    if isinstance(message, dict):
        message = message.get(LEGACY_MESSAGE_FIELD, message)
    return ErrorBody(_text(status, _NAME_CHARS), _text(message, _MESSAGE_CHARS))


def exchange_error(
    where: str,
    status: int,
    error: ErrorBody,
    *,
    retry_after: float | None = None,
    idempotent: bool = True,
) -> TraderError:
    """Map an HTTP status and Bithumb error name to the error class the caller acts on.

    Throttling wins over everything (HTTP 429, or a legacy 5600 whose message says too
    many requests), so the retry layer waits instead of giving up. ``order_not_ready``
    (422) becomes the retryable ``OrderNotReady``, never a not-found: the order exists,
    and calling it absent could make a caller place it again. A legacy "database fail" or
    "unknown error" may have been applied, like a 5xx, so it is ``ExchangeUnavailable``.
    """
    text = _message(where, status, error)
    name = error.name
    if status == 429 or _is_rate_limit(error):
        return RateLimitError(text, retry_after=retry_after, idempotent=idempotent)
    if status >= 500 or name in LEGACY_UNAVAILABLE_CODES:
        return ExchangeUnavailable(text, status=status, name=name, idempotent=idempotent)
    if name == ERROR_ORDER_NOT_READY:
        return OrderNotReady(text, status=status, name=name, idempotent=idempotent)
    if name == ERROR_ORDER_NOT_FOUND:
        return OrderNotFound(text, status=status, name=name)
    if status in (401, 403) or name in AUTH_ERROR_NAMES or _is_legacy_auth(error):
        return AuthError(text, status=status, name=name)
    return ExchangeRejected(text, status=status, name=name)


def _is_rate_limit(error: ErrorBody) -> bool:
    if error.name in RATE_LIMIT_ERROR_NAMES:
        return True
    return error.name == LEGACY_CUSTOM_NOTICE and _mentions(error, LEGACY_RATE_LIMIT_MESSAGES)


def _is_legacy_auth(error: ErrorBody) -> bool:
    if error.name in LEGACY_AUTH_CODES:
        return True
    return error.name == LEGACY_BAD_REQUEST and _mentions(error, LEGACY_AUTH_MESSAGES)


def _mentions(error: ErrorBody, parts: tuple[str, ...]) -> bool:
    message = error.message.casefold()
    return any(part in message for part in parts)


def transport_error(where: str, exc: httpx.RequestError, *, idempotent: bool) -> NetworkError:
    """A timeout or connection fault as ``NetworkError``.

    ``request_sent`` is False only for faults before the connection carried anything
    (connect failure or timeout, no free pool connection); a read timeout may come after
    the exchange acted, so it counts as sent.
    """
    sent = not isinstance(exc, _CONNECT_FAULTS)
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    detail = str(exc)[:_SNIPPET_CHARS] or type(exc).__name__
    suffix = "" if sent else "; the request was not sent"
    return NetworkError(
        f"Bithumb {where}: request {kind}: {detail}{suffix}",
        idempotent=idempotent,
        request_sent=sent,
    )


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _message(where: str, status: int, error: ErrorBody) -> str:
    text = f"Bithumb {where}: HTTP {status}"
    if error.name:
        text += f" {error.name}"
    if error.message:
        text += f": {error.message}"
    return text


def _text(value: object, limit: int) -> str:
    """Exchange-supplied text, capped: it ends up in logs and stored errors."""
    return "" if value is None else " ".join(str(value).split())[:limit]


def _snippet(content: bytes) -> str:
    return " ".join(content.decode("utf-8", "replace").split())[:_SNIPPET_CHARS]
