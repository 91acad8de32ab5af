"""Pure functions from domain values to what Bithumb expects on the wire.

The reverse direction of ``parsing``: order bodies, numbers as plain strings, and the
naive-KST times the candle endpoint wants.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from ..domain import KST, OrderRequest, OrderType, Side
from .endpoints import CANDLE_TO_FORMAT, WIRE_LIMIT, WIRE_MARKET_BUY, WIRE_MARKET_SELL


def plain_decimal(value: Decimal) -> str:
    """A number as plain text, never exponent form, without trailing zeros.

    ``str(Decimal("1E+8"))`` is ``"1E+8"``, which the exchange would not read as a price.
    """
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def kst_param(moment: datetime) -> str:
    """``moment`` as the naive KST ``YYYY-MM-DDTHH:MM:SS`` the candle ``to`` needs.

    A partial second rounds up, so a candle that opened before ``moment`` is not lost.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"candle 'to' must be timezone-aware, got {moment!r}")
    local = moment.astimezone(KST)
    if local.microsecond:
        local = local.replace(microsecond=0) + timedelta(seconds=1)
    return local.strftime(CANDLE_TO_FORMAT)


def order_body(request: OrderRequest) -> dict[str, str]:
    """The JSON body of ``POST /v2/orders`` for ``request``; every value is a string.

    LIMIT sends ``limit`` with price and volume; a MARKET BUY sends type ``price`` with the
    KRW total as ``price``; a MARKET SELL sends type ``market`` with the volume.
    ``client_order_id`` is always set so a lost answer can be looked up, never resent.
    """
    body = {"market": str(request.market), "side": request.side.value}
    if request.order_type is OrderType.LIMIT:
        body["order_type"] = WIRE_LIMIT
        body["price"] = plain_decimal(_required(request.price, "price"))
        body["volume"] = plain_decimal(_required(request.volume, "volume"))
    elif request.side is Side.BUY:
        body["order_type"] = WIRE_MARKET_BUY
        body["price"] = plain_decimal(_required(request.notional, "notional"))
    else:
        body["order_type"] = WIRE_MARKET_SELL
        body["volume"] = plain_decimal(_required(request.volume, "volume"))
    body["client_order_id"] = request.client_order_id
    return body


def _required(value: Decimal | None, what: str) -> Decimal:
    # OrderRequest validates these already; this keeps the types honest.
    if value is None:
        raise ValueError(f"order request without {what}")
    return value
