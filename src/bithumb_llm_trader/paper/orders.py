"""Paper orders: simulated fills by walking a book, and their JSON form for the store."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..domain import (
    ZERO,
    Fill,
    Market,
    Order,
    OrderState,
    OrderType,
    Side,
    to_decimal,
)
from ..liquidity import LevelFill
from .wallet import fee_for


def add_fills(
    order: Order, level_fills: tuple[LevelFill, ...], fee_rate: Decimal, now: datetime
) -> Order:
    """Return ``order`` with ``level_fills`` appended, fees charged per fill."""
    fills = list(order.fills)
    for level_fill in level_fills:
        fills.append(
            Fill(
                trade_id=f"{order.order_id}-{len(fills) + 1}",
                price=level_fill.price,
                volume=level_fill.volume,
                funds=level_fill.funds,
                created_at=now,
                fee=fee_for(level_fill.funds, fee_rate),
            )
        )
    executed = sum((f.volume for f in fills), ZERO)
    remaining = ZERO if order.volume is None else max(order.volume - executed, ZERO)
    return replace(
        order,
        fills=tuple(fills),
        executed_volume=executed,
        executed_funds=sum((f.funds for f in fills), ZERO),
        paid_fee=sum((f.fee or ZERO for f in fills), ZERO),
        remaining_volume=remaining,
    )


def order_to_json(order: Order) -> dict[str, Any]:
    def text(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "order_id": order.order_id,
        "client_order_id": order.client_order_id,
        "market": str(order.market),
        "side": order.side.value,
        "order_type": order.order_type.value,
        "state": order.state.value,
        "created_at": order.created_at.isoformat(),
        "price": text(order.price),
        "volume": text(order.volume),
        "remaining_volume": str(order.remaining_volume),
        "executed_volume": str(order.executed_volume),
        "executed_funds": str(order.executed_funds),
        "paid_fee": str(order.paid_fee),
        "fills": [
            {
                "trade_id": f.trade_id,
                "price": str(f.price),
                "volume": str(f.volume),
                "funds": str(f.funds),
                "fee": text(f.fee),
                "created_at": f.created_at.isoformat(),
            }
            for f in order.fills
        ],
    }


def order_from_json(data: dict[str, Any]) -> Order:
    def number(value: Any) -> Decimal | None:
        return None if value is None else to_decimal(value)

    fills = tuple(
        Fill(
            trade_id=f["trade_id"],
            price=to_decimal(f["price"]),
            volume=to_decimal(f["volume"]),
            funds=to_decimal(f["funds"]),
            fee=number(f.get("fee")),
            created_at=datetime.fromisoformat(f["created_at"]),
        )
        for f in data.get("fills", [])
    )
    return Order(
        order_id=data["order_id"],
        client_order_id=data.get("client_order_id"),
        market=Market.parse(data["market"]),
        side=Side(data["side"]),
        order_type=OrderType(data["order_type"]),
        state=OrderState(data["state"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        price=number(data.get("price")),
        volume=number(data.get("volume")),
        remaining_volume=to_decimal(data["remaining_volume"]),
        executed_volume=to_decimal(data["executed_volume"]),
        executed_funds=to_decimal(data["executed_funds"]),
        paid_fee=to_decimal(data["paid_fee"]),
        fills=fills,
    )
