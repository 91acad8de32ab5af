"""Every Bithumb path, rate-limit category and wire constant, in one place.

Nothing here was checked against the live server (see API_NOTES.md); keeping the
exchange's vocabulary in one module makes a correction a one-line change. Items marked
UNVERIFIED have no official confirmation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from ..domain import CandleInterval

DEFAULT_BASE_URL = "https://api.bithumb.com"


class Category(str, Enum):
    """Rate-limit buckets: Bithumb counts requests per IP and per category."""

    PUBLIC_CANDLES = "public.candles"
    PUBLIC_ORDERBOOK = "public.orderbook"
    PUBLIC_TICKER = "public.ticker"
    PUBLIC_TRADES = "public.trades"
    PUBLIC_OTHER = "public.other"
    PRIVATE_ORDER = "private.order"
    PRIVATE_CANCEL = "private.cancel"
    PRIVATE_OTHER = "private.other"
    BATCH = "batch"


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``requests`` within any ``per_seconds`` window."""

    requests: int
    per_seconds: float = 1.0


_PUBLIC_RATE = Rate(150)
_PRIVATE_RATE = Rate(140)
RATE_LIMITS: MappingProxyType[Category, Rate] = MappingProxyType({
    Category.PUBLIC_CANDLES: _PUBLIC_RATE,
    Category.PUBLIC_ORDERBOOK: _PUBLIC_RATE,
    Category.PUBLIC_TICKER: _PUBLIC_RATE,
    Category.PUBLIC_TRADES: _PUBLIC_RATE,
    Category.PUBLIC_OTHER: _PUBLIC_RATE,
    Category.PRIVATE_ORDER: _PRIVATE_RATE,
    Category.PRIVATE_CANCEL: _PRIVATE_RATE,
    Category.PRIVATE_OTHER: _PRIVATE_RATE,
    Category.BATCH: Rate(20),
})
"""Published per-IP limits; going over blocks the IP for 1 to 10 minutes."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One REST call: how it is sent, limited, signed, and whether it may be repeated.

    ``idempotent`` False means a repeat could act twice (an order placement): the client
    never retries it and marks its transient errors as not safe to retry.
    """

    method: str
    path: str
    category: Category
    private: bool = False
    idempotent: bool = True


MARKETS = Endpoint("GET", "/v1/market/all", Category.PUBLIC_OTHER)
TICKER = Endpoint("GET", "/v1/ticker", Category.PUBLIC_TICKER)
ORDERBOOK = Endpoint("GET", "/v1/orderbook", Category.PUBLIC_ORDERBOOK)
TRADES = Endpoint("GET", "/v1/trades/ticks", Category.PUBLIC_TRADES)

ACCOUNTS = Endpoint("GET", "/v1/accounts", Category.PRIVATE_OTHER, private=True)
ORDER_CHANCE = Endpoint("GET", "/v1/orders/chance", Category.PRIVATE_OTHER, private=True)
PLACE_ORDER = Endpoint(
    "POST", "/v2/orders", Category.PRIVATE_ORDER, private=True, idempotent=False
)
GET_ORDER = Endpoint("GET", "/v1/order", Category.PRIVATE_OTHER, private=True)
# Cancelling twice cannot trade twice: a repeat finds the order already cancelled.
CANCEL_ORDER = Endpoint("DELETE", "/v2/order", Category.PRIVATE_CANCEL, private=True)
# UNVERIFIED: the 2026-03-12 changelog says /v1/orders now wants uuids or
# client_order_ids; /v2/orders/pending may be the replacement for listing open orders.
OPEN_ORDERS = Endpoint("GET", "/v1/orders", Category.PRIVATE_OTHER, private=True)


def _candles(path: str) -> Endpoint:
    return Endpoint("GET", path, Category.PUBLIC_CANDLES)


CANDLES: MappingProxyType[CandleInterval, Endpoint] = MappingProxyType({
    CandleInterval.M1: _candles("/v1/candles/minutes/1"),
    CandleInterval.M3: _candles("/v1/candles/minutes/3"),
    CandleInterval.M5: _candles("/v1/candles/minutes/5"),
    CandleInterval.M10: _candles("/v1/candles/minutes/10"),
    CandleInterval.M15: _candles("/v1/candles/minutes/15"),
    CandleInterval.M30: _candles("/v1/candles/minutes/30"),
    CandleInterval.H1: _candles("/v1/candles/minutes/60"),
    CandleInterval.H4: _candles("/v1/candles/minutes/240"),
    CandleInterval.D1: _candles("/v1/candles/days"),
    CandleInterval.W1: _candles("/v1/candles/weeks"),
    CandleInterval.MO1: _candles("/v1/candles/months"),
})

MAX_CANDLES_PER_REQUEST = 200
MAX_TRADES_PER_REQUEST = 500  # UNVERIFIED: third-party clients use 1..500
CANDLE_TO_FORMAT = "%Y-%m-%dT%H:%M:%S"
"""``to`` is a naive KST time; an offset in it gives HTTP 400."""

# Query parameter names and fixed values.
PARAM_MARKET = "market"
PARAM_MARKETS = "markets"
PARAM_MARKETS_SEPARATOR = ","
PARAM_COUNT = "count"
PARAM_TO = "to"
PARAM_IS_DETAILS = "isDetails"
IS_DETAILS_FALSE = "false"
PARAM_UUID = "uuid"  # GET /v1/order names the exchange's id "uuid"
PARAM_ORDER_ID = "order_id"  # the /v2 calls name it "order_id"
PARAM_CLIENT_ORDER_ID = "client_order_id"
PARAM_STATE = "state"
STATE_WAIT = "wait"

# Order types on the wire. A market buy is "price" (spend a KRW total), a market sell is
# "market" (sell a volume). "best" (best-price IOC/FOK) also fills at the market.
WIRE_LIMIT = "limit"
WIRE_MARKET_BUY = "price"
WIRE_MARKET_SELL = "market"
WIRE_MARKET_TYPES = frozenset({WIRE_MARKET_BUY, WIRE_MARKET_SELL, "best"})

# Error names the client acts on; all others become ExchangeRejected with their name.
ERROR_ORDER_NOT_FOUND = "order_not_found"
ERROR_ORDER_NOT_READY = "order_not_ready"
AUTH_ERROR_NAMES = frozenset({
    "invalid_access_key",
    "jwt_verification",
    "expired_jwt",
    "invalid_query_payload",
    "out_of_scope",
    "NotAllowIP",
    "blocked_member_id",
})
"""Named auth failures, recognised even when they arrive with a 2xx status."""
RATE_LIMIT_ERROR_NAMES = frozenset({"too_many_requests"})
"""UNVERIFIED: whether throttling answers 429, and with which name, is undocumented."""

# The legacy "API 1.0" error form {"status": "5600", "message": ...}, which can arrive with
# any HTTP status, 200 included. Codes and messages from the v1.2.0 docs' error table
# (apidocs.bithumb.com/v1.2.0/docs/api-주요-에러-코드); API_NOTES.md does not list them.
# A four-digit error name in the JWT form is read as the same code.
LEGACY_STATUS_FIELD = "status"
LEGACY_MESSAGE_FIELD = "message"
LEGACY_SUCCESS = "0000"
LEGACY_CUSTOM_NOTICE = "5600"  # one code for many messages, throttling among them
LEGACY_RATE_LIMIT_MESSAGES = ("too many connections", "please try again", "접속 차단된 ip")
"""Lower-case parts of 5600 messages that mean "too many requests" or an IP blocked for it."""
LEGACY_UNAVAILABLE_CODES = frozenset({"5400", "5900"})  # Database Fail, Unknown Error
LEGACY_AUTH_CODES = frozenset({"5200", "5300", "5302"})  # not member, bad key, IP/permission
LEGACY_BAD_REQUEST = "5100"
LEGACY_AUTH_MESSAGES = ("auth data", "request time")
"""Lower-case parts of 5100 messages that are auth failures (bad auth data, clock skew)."""

RETRY_AFTER_HEADER = "Retry-After"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"

# Signing (JWT, HS256) of private calls.
AUTH_HEADER = "Authorization"
AUTH_SCHEME = "Bearer"
JWT_ALGORITHM = "HS256"
QUERY_HASH_ALG = "SHA512"
