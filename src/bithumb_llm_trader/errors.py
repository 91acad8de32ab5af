"""One exception tree, grouped by what the caller should do about it.

::

    TraderError
    ├── RetryableError          the same call may succeed later
    │   ├── NetworkError        timeout or connection fault
    │   ├── RateLimitError      throttled (429, or a legacy 5600 "too many"); ``retry_after``
    │   ├── ExchangeUnavailable 5xx from the exchange, or a legacy 5400/5900 status
    │   ├── OrderNotReady       422 ``order_not_ready``: the order exists, ask again shortly
    │   └── UnexpectedResponse  an answer we cannot read (not JSON, or not the documented shape)
    │       └── ImplausibleNumber  a number no real balance, price or size can be
    ├── RejectedError           this action is refused; carry on with the next one
    │   ├── ExchangeRejected    the exchange refused the request (4xx with a name)
    │   │   └── OrderNotFound
    │   ├── InvalidOrder        our own checks refused an order before sending it
    │   │   └── OrderRefused    the pre-trade gate refused it; ``reason`` says which rule
    │   ├── DecisionError       language-model output that is not a valid decision
    │   └── MarketDataRejected  market data failed a sanity check; ``reason`` says which
    └── StopError               a human has to fix something first
        ├── ConfigError
        ├── AuthError           401/403: keys, permissions, IP allow-list, clock skew
        ├── StoreError          database unreachable or of the wrong schema
        ├── LiveTradingRefused  live trading asked for without what it needs
        ├── MissingDependency   an optional extra (e.g. ``plots``) is not installed
        ├── OrderStateUnknown   an order may exist on the exchange but cannot be found
        └── LeaseHeld           another process trades this account and mode; names it

``retryable`` says which branch an error is on. ``safe_to_retry`` is narrower: it is
False when the failed request may already have taken effect (an order POST that timed
out), so repeating it blindly could trade twice; look the order up instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


class TraderError(Exception):
    """Base of every error this package raises on purpose."""

    retryable: bool = False

    @property
    def safe_to_retry(self) -> bool:
        return self.retryable


class RetryableError(TraderError):
    """A transient fault: the same call may succeed later."""

    retryable = True

    def __init__(self, message: str, *, idempotent: bool = True) -> None:
        super().__init__(message)
        self.idempotent = idempotent

    @property
    def safe_to_retry(self) -> bool:
        return self.idempotent


class NetworkError(RetryableError):
    """Timeout or connection error: no answer arrived.

    ``request_sent`` is False only when the request certainly never left (connect
    failure); otherwise the server may have acted on it.
    """

    def __init__(self, message: str, *, idempotent: bool = True, request_sent: bool = True):
        super().__init__(message, idempotent=idempotent or not request_sent)
        self.request_sent = request_sent


class RateLimitError(RetryableError):
    """The exchange throttled us; wait ``retry_after`` seconds when given."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, idempotent: bool = True
    ) -> None:
        super().__init__(message, idempotent=idempotent)
        self.retry_after = retry_after


class ExchangeUnavailable(RetryableError):
    """A 5xx answer: the exchange failed, the request may or may not have been applied."""

    def __init__(
        self, message: str, *, status: int, name: str | None = None, idempotent: bool = True
    ) -> None:
        super().__init__(message, idempotent=idempotent)
        self.status = status
        self.name = name


class OrderNotReady(RetryableError):
    """The exchange has the order but cannot report on it yet (422 ``order_not_ready``).

    Retryable rather than a not-found: reading it as "no such order" could make a
    reconciler conclude an order was never placed and send it a second time.
    """

    def __init__(
        self, message: str, *, status: int, name: str | None = None, idempotent: bool = True
    ) -> None:
        super().__init__(message, idempotent=idempotent)
        self.status = status
        self.name = name


class UnexpectedResponse(RetryableError):
    """The exchange answered, but not in a form we can read.

    A body that is not JSON (a proxy's HTML page) or lacks a documented field. Retryable
    because a garbled answer is usually transient; when it answers an order placement
    ``idempotent`` is False: the order may well exist, so look it up instead of resending.
    ``status`` is the HTTP status when known.
    """

    def __init__(
        self, message: str, *, status: int | None = None, idempotent: bool = True
    ) -> None:
        super().__init__(message, idempotent=idempotent)
        self.status = status


class ImplausibleNumber(UnexpectedResponse):
    """A number in an exchange answer that no real balance, price or size can be.

    Not a number, not finite (NaN, Infinity), larger than ``1e15`` in size, or negative
    where only zero or more makes sense (balances, prices, volumes, fees). Refused while
    parsing, so it reaches neither arithmetic (where it would raise a bare
    ``decimal.InvalidOperation``) nor an order. ``field`` names it, e.g. ``account.balance``.
    """

    def __init__(
        self, message: str, *, field: str, status: int | None = None, idempotent: bool = True
    ) -> None:
        super().__init__(message, status=status, idempotent=idempotent)
        self.field = field


class RejectedError(TraderError):
    """This action is refused; the caller records why and goes on."""


class ExchangeRejected(RejectedError):
    """The exchange answered with an error for this request (4xx, or an error in a 2xx)."""

    def __init__(self, message: str, *, status: int, name: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.name = name


class OrderNotFound(ExchangeRejected):
    """No order with that id exists on the exchange."""


class InvalidOrder(RejectedError):
    """Our own checks refused an order before it was sent."""


class OrderRefused(InvalidOrder):
    """The pre-trade gate refused an order; nothing was sent.

    ``reason`` is machine-readable (``kill_switch``, ``max_trade_value``, ...) and
    starts the message, so a recorded error reads ``kill_switch: ...``.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class DecisionError(RejectedError):
    """Language-model output that is not a valid decision, with the errors field by field."""

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors: tuple[str, ...] = tuple(errors) or (message,)


class MarketDataRejected(RejectedError):
    """Market data that cannot be true (a price of zero, a crossed book, stale candles).

    Nothing is decided or sent on it: the cycle fails at its snapshot. Not retryable
    within the cycle, because asking again a moment later mostly returns the same bad
    answer and a loop would hide the fault; the next cycle reads the market afresh.
    ``reason`` is a machine-readable code (``ticker_off_book``, ``stale_candles``, ...)
    and the message starts with it, so a recorded error can be grouped by code.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class StopError(TraderError):
    """Nothing sensible can be done until a human fixes the cause."""


class ConfigError(StopError):
    """The configuration is missing, unreadable or invalid."""


class AuthError(StopError):
    """The exchange refused our credentials (401/403)."""

    def __init__(self, message: str, *, status: int, name: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.name = name


class StoreError(StopError):
    """The database is unreachable, foreign, or of a schema we cannot use."""


class LiveTradingRefused(StopError):
    """Live trading was asked for without everything it needs."""


class MissingDependency(StopError):
    """A feature needs an optional extra that is not installed; the message says which."""


class OrderStateUnknown(StopError):
    """An order may have reached the exchange but could not be looked up.

    Trading for the strategy stops until a later run reconciles it.
    """

    def __init__(self, message: str, *, client_order_id: str) -> None:
        super().__init__(message)
        self.client_order_id = client_order_id


class LeaseHeld(StopError):
    """Another process holds the lease on this account and mode, or ours was lost.

    Two processes sending orders for one account would both act on the same signal.
    The message is one line naming the holder (host, pid, since) so the operator can
    find it; each is None when the holder has not written it down.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str,
        host: str | None = None,
        pid: int | None = None,
        since: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.key = key
        self.host = host
        self.pid = pid
        self.since = since
