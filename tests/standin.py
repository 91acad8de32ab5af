"""A stand-in Bithumb for end-to-end tests, served through ``httpx.MockTransport``.

It answers the public and private endpoints the client uses with bodies shaped like the
fixtures in ``tests/fixtures/bithumb``, keeps balances and orders, fills market orders
against its own orderbook, checks that private calls carry a JWT, counts every request,
and can inject the faults a real network produces on an order POST.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import httpx

KST = timezone(timedelta(hours=9))
UTC = timezone.utc
D = Decimal


def _raw_json(data: Any) -> bytes:
    """JSON with Decimals written as exact number literals (no float round trip)."""

    def encode(value: Any) -> str:
        if isinstance(value, Decimal):
            return format(value, "f")
        if isinstance(value, dict):
            return "{" + ",".join(f"{json.dumps(k)}:{encode(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ",".join(encode(v) for v in value) + "]"
        return json.dumps(value, ensure_ascii=False)

    return encode(data).encode("utf-8")


@dataclass
class StandInOrder:
    uuid: str
    client_order_id: str
    market: str
    side: str
    ord_type: str
    price: Decimal | None
    volume: Decimal | None
    state: str
    created_at: datetime
    trades: list[dict[str, Any]] = field(default_factory=list)
    paid_fee: Decimal = Decimal(0)

    def executed(self) -> tuple[Decimal, Decimal]:
        volume = sum((D(t["volume"]) for t in self.trades), D(0))
        funds = sum((D(t["funds"]) for t in self.trades), D(0))
        return volume, funds

    def to_v1(self) -> dict[str, Any]:
        volume, funds = self.executed()
        return {
            "uuid": self.uuid,
            "client_order_id": self.client_order_id,
            "side": self.side,
            "ord_type": self.ord_type,
            "price": None if self.price is None else format(self.price, "f"),
            "state": self.state,
            "market": self.market,
            "created_at": self.created_at.astimezone(KST).isoformat(timespec="seconds"),
            "volume": None if self.volume is None else format(self.volume, "f"),
            "remaining_volume": format((self.volume or D(0)) - volume, "f")
            if self.volume is not None else "0",
            "reserved_fee": "0",
            "remaining_fee": "0",
            "paid_fee": format(self.paid_fee, "f"),
            "locked": "0",
            "executed_volume": format(volume, "f"),
            "executed_funds": format(funds, "f"),
            "trades_count": len(self.trades),
            "trades": self.trades,
        }


class BithumbStandIn:
    """State and request handler of the stand-in exchange.

    ``post_faults`` is consumed one per order POST: ``"timeout_after"`` (accepted, then
    the answer is lost), ``"timeout_before"``, ``"500"`` or ``None``.
    """

    def __init__(
        self,
        *,
        price: str = "100000000",
        balances: dict[str, str] | None = None,
        fee: str = "0.0025",
        now: datetime | None = None,
        clock: Callable[[], datetime] | None = None,
        levels: int = 30,
        level_size: str = "0.05",
    ) -> None:
        self.price = D(price)
        self.balances = {k: D(v) for k, v in (balances or {"KRW": "1000000"}).items()}
        self.avg_prices: dict[str, Decimal] = {}
        self.fee = D(fee)
        self._fixed_now = now or datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
        self._clock = clock
        self.levels = levels
        self.level_size = D(level_size)
        self.orders: dict[str, StandInOrder] = {}
        self.requests: list[httpx.Request] = []
        self.post_faults: list[str | None] = []
        self.other_markets: dict[str, Decimal] = {}

    # -- plumbing ------------------------------------------------------------------
    def now(self) -> datetime:
        return self._clock() if self._clock else self._fixed_now

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.path == path)

    @property
    def order_posts(self) -> int:
        return self.count("POST", "/v2/orders")

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path in _PRIVATE and not request.headers.get("authorization", "").startswith("Bearer "):
            return self._error(401, "jwt_verification", "Jwt 토큰 검증에 실패했습니다.")
        route = _ROUTES.get((request.method, path))
        if route is None and path.startswith("/v1/candles/"):
            route = BithumbStandIn._candles
        if route is None:
            return self._error(404, "not_found", f"no route {request.method} {path}")
        return route(self, request)

    def _json(self, data: Any, status: int = 200) -> httpx.Response:
        return httpx.Response(status, content=_raw_json(data),
                              headers={"content-type": "application/json"})

    def _error(self, status: int, name: str, message: str) -> httpx.Response:
        return self._json({"error": {"name": name, "message": message}}, status)

    # -- public --------------------------------------------------------------------
    def book_levels(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        asks = [(self.price + 1000 * i, self.level_size * (i + 1)) for i in range(self.levels)]
        bids = [(self.price - 1000 * (i + 1), self.level_size * (i + 1))
                for i in range(self.levels)]
        return asks, bids

    def _markets(self, request: httpx.Request) -> httpx.Response:
        markets = ["KRW-BTC", *self.other_markets]
        return self._json([{"market": m, "korean_name": m, "english_name": m} for m in markets])

    def _ticker(self, request: httpx.Request) -> httpx.Response:
        wanted = request.url.params.get("markets", "KRW-BTC").split(",")
        prices = {"KRW-BTC": self.price, **self.other_markets}
        stamp = int(self.now().timestamp() * 1000)
        return self._json([
            {"market": m, "trade_price": prices[m], "timestamp": stamp,
             "signed_change_rate": D("0.01"), "acc_trade_volume_24h": D("1234.5")}
            for m in wanted if m in prices
        ])

    def _orderbook(self, request: httpx.Request) -> httpx.Response:
        asks, bids = self.book_levels()
        units = [{"ask_price": a[0], "bid_price": b[0], "ask_size": a[1], "bid_size": b[1]}
                 for a, b in zip(asks, bids, strict=True)]
        return self._json([{
            "market": "KRW-BTC", "timestamp": int(self.now().timestamp() * 1000),
            "total_ask_size": sum((a[1] for a in asks), D(0)),
            "total_bid_size": sum((b[1] for b in bids), D(0)),
            "orderbook_units": units,
        }])

    def _candles(self, request: httpx.Request) -> httpx.Response:
        unit = request.url.path.rsplit("/", 1)[-1]
        minutes = int(unit) if unit.isdigit() else 1440
        count = int(request.url.params.get("count", "200"))
        to = request.url.params.get("to")
        end = self.now()
        if to:
            end = datetime.fromisoformat(to).replace(tzinfo=KST).astimezone(UTC)
        step = timedelta(minutes=minutes)
        last_start = datetime.fromtimestamp(
            (int(end.timestamp()) // (minutes * 60)) * minutes * 60, UTC)
        if to:
            last_start -= step
        candles = []
        for i in range(count):
            start = last_start - i * step
            index = int(start.timestamp() // (minutes * 60))
            close = self.price + D(((index * 7919) % 41) - 20) * 10_000
            candles.append({
                "market": "KRW-BTC",
                "candle_date_time_utc": start.strftime("%Y-%m-%dT%H:%M:%S"),
                "candle_date_time_kst": start.astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S"),
                "opening_price": close - 50_000, "high_price": close + 100_000,
                "low_price": close - 100_000, "trade_price": close,
                "timestamp": int(start.timestamp() * 1000),
                "candle_acc_trade_price": close * 3, "candle_acc_trade_volume": D(3),
                "unit": minutes,
            })
        return self._json(candles)

    # -- private -------------------------------------------------------------------
    def _accounts(self, request: httpx.Request) -> httpx.Response:
        return self._json([
            {"currency": c, "balance": format(b, "f"), "locked": "0",
             "avg_buy_price": format(self.avg_prices.get(c, D(0)), "f"),
             "avg_buy_price_modified": False, "unit_currency": "KRW"}
            for c, b in self.balances.items() if b
        ])

    def _chance(self, request: httpx.Request) -> httpx.Response:
        fee = format(self.fee, "f")
        return self._json({
            "bid_fee": fee, "ask_fee": fee, "maker_bid_fee": fee, "maker_ask_fee": fee,
            "market": {"id": "KRW-BTC", "name": "BTC/KRW", "order_types": ["limit"],
                       "order_sides": ["ask", "bid"], "bid_types": ["limit", "price"],
                       "ask_types": ["limit", "market"],
                       "bid": {"currency": "KRW", "price_unit": None, "min_total": "5000"},
                       "ask": {"currency": "BTC", "price_unit": None, "min_total": "5000"},
                       "max_total": "1000000000", "state": "active"},
        })

    def _place(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content, parse_float=Decimal)
        fault = self.post_faults.pop(0) if self.post_faults else None
        if fault == "timeout_before":
            raise httpx.ReadTimeout("stand-in: timed out before arrival", request=request)
        if fault == "500":
            return self._error(500, "server_error", "일시적인 오류")
        cid = body["client_order_id"]
        if any(o.client_order_id == cid for o in self.orders.values()):
            return self._error(400, "duplicate_client_order_id", "중복된 주문 ID")
        order = StandInOrder(
            uuid="C" + uuid.uuid4().hex[:19].upper(), client_order_id=cid,
            market=body["market"], side=body["side"], ord_type=body["order_type"],
            price=D(body["price"]) if body.get("price") else None,
            volume=D(body["volume"]) if body.get("volume") else None,
            state="wait", created_at=self.now(),
        )
        self._fill(order)
        self.orders[order.uuid] = order
        if fault == "timeout_after":
            raise httpx.ReadTimeout("stand-in: answer lost after acceptance", request=request)
        return self._json({
            "client_order_id": cid, "order_id": order.uuid, "market": order.market,
            "side": order.side, "order_type": order.ord_type,
            "created_at": order.created_at.astimezone(KST).isoformat(timespec="seconds"),
        }, 201)

    def _fill(self, order: StandInOrder) -> None:
        asks, bids = self.book_levels()
        if order.ord_type == "price":  # market buy of a KRW total at the best ask
            price = asks[0][0]
            volume = (order.price or D(0)) / price
            volume = volume.quantize(D("0.00000001"), rounding="ROUND_DOWN")
        elif order.ord_type == "market":
            price, volume = bids[0][0], order.volume or D(0)
        else:
            return  # limits rest
        funds = price * volume
        fee = (funds * self.fee).quantize(D("0.01"), rounding="ROUND_DOWN")
        if order.side == "bid":
            held = self.balances.get("BTC", D(0))
            cost = held * self.avg_prices.get("BTC", D(0)) + funds
            self.balances["KRW"] -= funds + fee
            self.balances["BTC"] = held + volume
            self.avg_prices["BTC"] = (cost / (held + volume)).quantize(D("0.00000001"))
        else:
            self.balances["BTC"] -= volume
            self.balances["KRW"] += funds - fee
        order.trades.append({
            "market": order.market, "uuid": "T" + uuid.uuid4().hex[:19].upper(),
            "price": format(price, "f"), "volume": format(volume, "f"),
            "funds": format(funds, "f"), "side": order.side,
            "created_at": self.now().astimezone(KST).isoformat(timespec="seconds"),
        })
        order.paid_fee = fee
        order.state = "done"

    def _get_order(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        found = None
        if "uuid" in params:
            found = self.orders.get(params["uuid"])
        elif "client_order_id" in params:
            found = next((o for o in self.orders.values()
                          if o.client_order_id == params["client_order_id"]), None)
        if found is None:
            return self._error(404, "order_not_found", "주문을 찾지 못했습니다.")
        return self._json(found.to_v1())

    def _open_orders(self, request: httpx.Request) -> httpx.Response:
        return self._json([o.to_v1() for o in self.orders.values() if o.state == "wait"])

    def _cancel(self, request: httpx.Request) -> httpx.Response:
        order = self.orders.get(request.url.params.get("order_id", ""))
        if order is None:
            return self._error(404, "order_not_found", "주문을 찾지 못했습니다.")
        order.state = "cancel"
        return self._json({"order_id": order.uuid,
                           "created_at": order.created_at.astimezone(KST).isoformat()})


_ROUTES: dict[tuple[str, str], Callable[[BithumbStandIn, httpx.Request], httpx.Response]] = {
    ("GET", "/v1/market/all"): BithumbStandIn._markets,
    ("GET", "/v1/ticker"): BithumbStandIn._ticker,
    ("GET", "/v1/orderbook"): BithumbStandIn._orderbook,
    ("GET", "/v1/accounts"): BithumbStandIn._accounts,
    ("GET", "/v1/orders/chance"): BithumbStandIn._chance,
    ("POST", "/v2/orders"): BithumbStandIn._place,
    ("GET", "/v1/order"): BithumbStandIn._get_order,
    ("GET", "/v1/orders"): BithumbStandIn._open_orders,
    ("DELETE", "/v2/order"): BithumbStandIn._cancel,
}
_PRIVATE = {"/v1/accounts", "/v1/orders/chance", "/v2/orders", "/v1/order", "/v1/orders",
            "/v2/order"}
ORDER_PATHS = {"/v2/orders", "/v2/order", "/v1/orders", "/v2/orders/batch",
               "/v2/orders/cancel"}


def chat_completion(content: str | None, *, model: str = "gpt-4o-mini",
                    finish_reason: str = "stop", prompt_tokens: int = 900,
                    completion_tokens: int = 80) -> dict[str, Any]:
    """An OpenAI chat-completions answer carrying ``content``."""
    return {
        "id": "chatcmpl-standin", "object": "chat.completion", "created": 1772413200,
        "model": model,
        "choices": [{"index": 0, "finish_reason": finish_reason,
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }
