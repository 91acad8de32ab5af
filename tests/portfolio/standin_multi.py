"""The stand-in Bithumb with more than one market (KRW-BTC and KRW-ETH by default).

A subclass of ``tests.standin.BithumbStandIn``: the base class routes the orderbook,
candles and fees to KRW-BTC only, so those three, and the fills of market orders, are
answered here per market. Everything else (accounts, placing, looking up, faults) is
the base class's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from typing import Any

import httpx

from ..standin import _PRIVATE, KST, BithumbStandIn, StandInOrder

D = Decimal
PRICES = {"KRW-BTC": "100000000", "KRW-ETH": "5000000"}


class MultiMarketStandIn(BithumbStandIn):
    """Several markets, each with its own price, book, candles and fills."""

    def __init__(self, *, prices: dict[str, str] | None = None, **kwargs: Any) -> None:
        chosen = {m: D(p) for m, p in (prices or PRICES).items()}
        super().__init__(price=str(chosen["KRW-BTC"]), **kwargs)
        self.prices = chosen
        self.other_markets = {m: p for m, p in chosen.items() if m != "KRW-BTC"}
        self.get_order_faults = 0
        """How many GET /v1/order requests still answer 503 (an order lookup outage)."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        route = _ROUTES.get((request.method, path))
        if route is None and path.startswith("/v1/candles/"):
            route = MultiMarketStandIn._market_candles
        if route is None:
            if path == "/v1/order" and self.get_order_faults > 0:
                self.requests.append(request)
                self.get_order_faults -= 1
                return self._error(503, "server_error", "점검 중")
            return super().handle(request)
        self.requests.append(request)
        if path in _PRIVATE and not request.headers.get("authorization", "").startswith("Bearer "):
            return self._error(401, "jwt_verification", "Jwt 토큰 검증에 실패했습니다.")
        return route(self, request)

    def requests_for(self, method: str, path: str, market: str) -> int:
        """Requests of ``path`` whose ``market`` or ``markets`` parameter names ``market``."""
        return sum(1 for r in self.requests if r.method == method and r.url.path == path
                   and market in (r.url.params.get("market"), r.url.params.get("markets")))

    def levels_of(self, market: str) -> tuple[list[tuple[Decimal, Decimal]],
                                              list[tuple[Decimal, Decimal]]]:
        price = self.prices[market]
        asks = [(price + 1000 * i, self.level_size * (i + 1)) for i in range(self.levels)]
        bids = [(price - 1000 * (i + 1), self.level_size * (i + 1)) for i in range(self.levels)]
        return asks, bids

    def _market_orderbook(self, request: httpx.Request) -> httpx.Response:
        market = request.url.params.get("markets", "KRW-BTC")
        asks, bids = self.levels_of(market)
        units = [{"ask_price": a[0], "bid_price": b[0], "ask_size": a[1], "bid_size": b[1]}
                 for a, b in zip(asks, bids, strict=True)]
        return self._json([{
            "market": market, "timestamp": int(self.now().timestamp() * 1000),
            "total_ask_size": sum((a[1] for a in asks), D(0)),
            "total_bid_size": sum((b[1] for b in bids), D(0)),
            "orderbook_units": units,
        }])

    def _market_candles(self, request: httpx.Request) -> httpx.Response:
        market = request.url.params.get("market", "KRW-BTC")
        unit = request.url.path.rsplit("/", 1)[-1]
        minutes = int(unit) if unit.isdigit() else 1440
        count = int(request.url.params.get("count", "200"))
        step = timedelta(minutes=minutes)
        end = self.now()
        period = minutes * 60
        last = datetime.fromtimestamp((int(end.timestamp()) // period) * period, timezone.utc)
        base = self.prices[market]
        candles = []
        for i in range(count):
            start = last - i * step
            wiggle = D(((int(start.timestamp() // (minutes * 60)) * 7919) % 41) - 20)
            close = base + wiggle * base / 10_000
            candles.append({
                "market": market,
                "candle_date_time_utc": start.strftime("%Y-%m-%dT%H:%M:%S"),
                "candle_date_time_kst": start.astimezone(KST).strftime("%Y-%m-%dT%H:%M:%S"),
                "opening_price": close, "high_price": close + base / 1000,
                "low_price": close - base / 1000, "trade_price": close,
                "timestamp": int(start.timestamp() * 1000),
                "candle_acc_trade_price": close * 3, "candle_acc_trade_volume": D(3),
                "unit": minutes,
            })
        return self._json(candles)

    def _market_chance(self, request: httpx.Request) -> httpx.Response:
        market = request.url.params.get("market", "KRW-BTC")
        coin = market.split("-")[1]
        fee = format(self.fee, "f")
        return self._json({
            "bid_fee": fee, "ask_fee": fee, "maker_bid_fee": fee, "maker_ask_fee": fee,
            "market": {"id": market, "name": f"{coin}/KRW", "order_types": ["limit"],
                       "order_sides": ["ask", "bid"], "bid_types": ["limit", "price"],
                       "ask_types": ["limit", "market"],
                       "bid": {"currency": "KRW", "price_unit": None, "min_total": "5000"},
                       "ask": {"currency": coin, "price_unit": None, "min_total": "5000"},
                       "max_total": "1000000000", "state": "active"},
        })

    def _fill(self, order: StandInOrder) -> None:
        """Market orders fill at the best quote of their own market."""
        asks, bids = self.levels_of(order.market)
        coin = order.market.split("-")[1]
        if order.ord_type == "price":
            price = asks[0][0]
            volume = ((order.price or D(0)) / price).quantize(D("0.00000001"), ROUND_DOWN)
        elif order.ord_type == "market":
            price, volume = bids[0][0], order.volume or D(0)
        else:
            return
        funds = price * volume
        fee = (funds * self.fee).quantize(D("0.01"), rounding=ROUND_DOWN)
        held = self.balances.get(coin, D(0))
        if order.side == "bid":
            cost = held * self.avg_prices.get(coin, D(0)) + funds
            self.balances["KRW"] -= funds + fee
            self.balances[coin] = held + volume
            self.avg_prices[coin] = (cost / (held + volume)).quantize(D("0.00000001"))
        else:
            self.balances[coin] = held - volume
            self.balances["KRW"] += funds - fee
        order.trades.append({
            "market": order.market, "uuid": f"T{len(self.orders)}{order.uuid[-8:]}",
            "price": format(price, "f"), "volume": format(volume, "f"),
            "funds": format(funds, "f"), "side": order.side,
            "created_at": self.now().astimezone(KST).isoformat(timespec="seconds"),
        })
        order.paid_fee = fee
        order.state = "done"


def placed_orders(standin: BithumbStandIn) -> list[dict[str, Any]]:
    """The bodies of every order POST the stand-in received."""
    return [json.loads(r.content, parse_float=Decimal) for r in standin.requests
            if r.method == "POST" and r.url.path == "/v2/orders"]


_ROUTES: dict[tuple[str, str], Callable[[MultiMarketStandIn, httpx.Request], httpx.Response]] = {
    ("GET", "/v1/orderbook"): MultiMarketStandIn._market_orderbook,
    ("GET", "/v1/orders/chance"): MultiMarketStandIn._market_chance,
}
