"""A portfolio cycle of 1 and of 50 strategies against a slow exchange and a slow model.

    python benchmarks/bench_portfolio.py [--cycles 3] [--strategies 50] [--markets 10]

Every exchange request takes 100 ms (an async fake Bithumb behind ``httpx.MockTransport``,
reached through the real ``BithumbClient`` with its shared ``RateLimiter``, live mode with
fake keys so orders go through the client too); every model call takes 500 ms (a fake
decider that sleeps). The 50 strategies trade 10 markets; everyone buys in the warm-up
cycle, then half of them keep buying and half reduce, so every market's orders are
netted. Real time, a SQLite file, the real store.

Targets: median cycle wall time for 50 strategies <= 1.5 x that for 1 strategy, and no
rate-limit category ever above Bithumb's per-second limit (counted in the fake over
every sliding one-second window).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import httpx

from bithumb_llm_trader.api_client import BithumbClient, RateLimiter
from bithumb_llm_trader.api_client.endpoints import RATE_LIMITS, Category
from bithumb_llm_trader.bootstrap.engines import order_executor
from bithumb_llm_trader.bootstrap.portfolio import member_engines
from bithumb_llm_trader.clock import SystemClock
from bithumb_llm_trader.config import StrategyConfig
from bithumb_llm_trader.decision import AgentIntent, DecisionOutcome, TradeDecision
from bithumb_llm_trader.domain import Mode
from bithumb_llm_trader.gate import GateRules
from bithumb_llm_trader.market import MarketSnapshot
from bithumb_llm_trader.multi_agent import (
    MemberSpec,
    MultiAgentPortfolioManager,
    PortfolioConfig,
    PortfolioMember,
    SharedMarketData,
)
from bithumb_llm_trader.prompts import Prompt
from bithumb_llm_trader.store import open_store

D = Decimal
KST = timezone(timedelta(hours=9))
EXCHANGE_LATENCY = 0.1
MODEL_LATENCY = 0.5
COINS = ("BTC", "ETH", "XRP", "SOL", "ADA", "DOGE", "DOT", "LINK", "AVAX", "TRX", "ATOM", "ETC")


def encode(value: Any) -> bytes:
    def text(item: Any) -> str:
        if isinstance(item, Decimal):
            return format(item, "f")
        if isinstance(item, dict):
            return "{" + ",".join(f"{json.dumps(k)}:{text(v)}" for k, v in item.items()) + "}"
        if isinstance(item, list):
            return "[" + ",".join(text(v) for v in item) + "]"
        return json.dumps(item)
    return text(value).encode()


def category_of(method: str, path: str) -> Category:
    if path.startswith("/v1/candles/"):
        return Category.PUBLIC_CANDLES
    return {
        "/v1/market/all": Category.PUBLIC_OTHER, "/v1/ticker": Category.PUBLIC_TICKER,
        "/v1/orderbook": Category.PUBLIC_ORDERBOOK,
    }.get(path, Category.PRIVATE_ORDER if method == "POST" else Category.PRIVATE_OTHER)


class SlowBithumb:
    """Just enough of Bithumb for a live cycle; every answer takes ``latency`` seconds."""

    def __init__(self, markets: list[str], latency: float) -> None:
        self.prices = {m: D(100_000_000) / (2 ** k) for k, m in enumerate(markets)}
        self.prices = {m: p.quantize(D(1000)) for m, p in self.prices.items()}
        self.balances = {"KRW": D(0)}
        self.latency = latency
        self.orders: dict[str, dict[str, Any]] = {}
        self.arrivals: dict[Category, list[float]] = defaultdict(list)
        self._candle_bodies: dict[tuple[str, int], bytes] = {}
        """Encoded once: a real exchange's CPU is not the client's, so keep the fake's small."""

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.arrivals[category_of(request.method, path)].append(time.monotonic())
        await asyncio.sleep(self.latency)
        params = request.url.params
        if path.startswith("/v1/candles/"):
            key = (params["market"], int(params["count"]))
            if key not in self._candle_bodies:
                self._candle_bodies[key] = encode(self.candles(*key))
            return httpx.Response(200, content=self._candle_bodies[key],
                                  headers={"content-type": "application/json"})
        if path == "/v1/market/all":
            body: Any = [{"market": m, "korean_name": m, "english_name": m} for m in self.prices]
        elif path == "/v1/ticker":
            body = [{"market": m, "trade_price": self.prices[m], "timestamp": 1772413200000}
                    for m in params["markets"].split(",")]
        elif path == "/v1/orderbook":
            body = [self.book(params["markets"])]
        elif path == "/v1/accounts":
            body = [{"currency": c, "balance": format(v, "f"), "locked": "0",
                     "avg_buy_price": "0", "unit_currency": "KRW"}
                    for c, v in self.balances.items() if v]
        elif path == "/v1/orders/chance":
            body = self.chance(params["market"])
        elif path == "/v2/orders":
            body = self.place(json.loads(request.content, parse_float=Decimal))
        else:  # GET /v1/order
            body = self.orders[params.get("uuid") or params["client_order_id"]]
        return httpx.Response(200, content=encode(body),
                              headers={"content-type": "application/json"})

    def book(self, market: str) -> dict[str, Any]:
        price = self.prices[market]
        tick = max(price / 100_000, D(1)).quantize(D(1))
        units = [{"ask_price": price + tick * i, "bid_price": price - tick * (i + 1),
                  "ask_size": D(1000) / price * 50, "bid_size": D(1000) / price * 50}
                 for i in range(15)]
        units = [{k: (v.quantize(D("0.00000001")) if "size" in k else v)
                  for k, v in u.items()} for u in units]
        return {"market": market, "timestamp": 1772413200000, "orderbook_units": units,
                "total_ask_size": D(1), "total_bid_size": D(1)}

    def candles(self, market: str, count: int) -> list[dict[str, Any]]:
        # The candles end now (the snapshot's sanity check refuses a stale series).
        now = datetime.now(timezone.utc)
        end = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
        end += timedelta(minutes=15)
        price = self.prices[market]
        rows = []
        for i in range(count):
            start = end - timedelta(minutes=15 * (i + 1))
            close = price * (1 + D((i * 37) % 11 - 5) / 1000)
            rows.append({"market": market,
                         "candle_date_time_utc": start.strftime("%Y-%m-%dT%H:%M:%S"),
                         "candle_date_time_kst": start.astimezone(KST).strftime(
                             "%Y-%m-%dT%H:%M:%S"),
                         "opening_price": close, "high_price": close * D("1.002"),
                         "low_price": close * D("0.998"), "trade_price": close,
                         "timestamp": int(start.timestamp() * 1000),
                         "candle_acc_trade_price": close * 3, "candle_acc_trade_volume": D(3),
                         "unit": 15})
        return rows

    def chance(self, market: str) -> dict[str, Any]:
        return {"bid_fee": "0.0025", "ask_fee": "0.0025", "maker_bid_fee": "0.0025",
                "maker_ask_fee": "0.0025",
                "market": {"id": market, "bid": {"currency": "KRW", "min_total": "5000"},
                           "ask": {"currency": market[4:], "min_total": "5000"},
                           "bid_types": ["price"], "ask_types": ["market"],
                           "max_total": "1000000000", "state": "active"}}

    def place(self, body: dict[str, Any]) -> dict[str, Any]:
        market, coin = body["market"], body["market"][4:]
        price = self.prices[market]
        if body["order_type"] == "price":
            volume = (D(body["price"]) / price).quantize(D("0.00000001"), ROUND_DOWN)
        else:
            volume = D(body["volume"])
        funds = price * volume
        fee = (funds * D("0.0025")).quantize(D("0.01"), ROUND_DOWN)
        sign = 1 if body["side"] == "bid" else -1
        self.balances[coin] = self.balances.get(coin, D(0)) + sign * volume
        self.balances["KRW"] -= sign * funds + fee
        order_id = "C" + uuid.uuid4().hex[:19].upper()
        order = {"uuid": order_id, "client_order_id": body["client_order_id"],
                 "market": market, "side": body["side"], "ord_type": body["order_type"],
                 "state": "done", "created_at": "2026-03-02T10:00:00+09:00",
                 "price": body.get("price"), "volume": body.get("volume"),
                 "executed_volume": volume, "executed_funds": funds, "paid_fee": fee,
                 "remaining_volume": D(0),
                 "trades": [{"uuid": f"T{order_id}", "price": price, "volume": volume,
                             "funds": funds, "side": body["side"],
                             "created_at": "2026-03-02T10:00:00+09:00"}]}
        self.orders[order_id] = self.orders[body["client_order_id"]] = order
        return {"order_id": order_id, "client_order_id": body["client_order_id"],
                "market": market, "side": body["side"], "order_type": body["order_type"],
                "created_at": "2026-03-02T10:00:00+09:00"}

    def worst_second(self) -> dict[Category, int]:
        """The most requests of each category inside any one-second window."""
        worst = {}
        for category, times in self.arrivals.items():
            ordered, first, most = sorted(times), 0, 0
            for last, at in enumerate(ordered):
                while at - ordered[first] >= 1.0:
                    first += 1
                most = max(most, last - first + 1)
            worst[category] = most
        return worst


class SlowModel:
    """A language model that takes ``latency`` seconds; buys first, then buys or reduces."""

    name = "slow-model"
    needs_prompt = True

    def __init__(self, buys: bool, latency: float) -> None:
        self.buys = buys
        self.latency = latency
        self.calls = 0

    async def decide(self, prompt: Prompt, snapshot: MarketSnapshot) -> DecisionOutcome:
        await asyncio.sleep(self.latency)
        self.calls += 1
        if self.buys or self.calls == 1:
            decision = TradeDecision(action="buy", confidence=D("0.8"), risk_pct=D("0.01"),
                                     agent_intent=AgentIntent.ENTER_LONG)
        else:
            decision = TradeDecision(action="sell", confidence=D("0.8"),
                                     agent_intent=AgentIntent.REDUCE)
        return DecisionOutcome(decision=decision, decider="llm", model="fake")


def members_of(strategies: int, markets: list[str], fake: SlowBithumb, db: Path
               ) -> tuple[list[MemberSpec], dict[str, SlowModel]]:
    """``strategies`` live strategies spread over ``markets``, each with 10,000,000 KRW."""
    weight = (D(1) / strategies).quantize(D("0.000001"), ROUND_DOWN)
    members, deciders = [], {}
    for k in range(strategies):
        market = markets[k % len(markets)]
        config = StrategyConfig.model_validate({
            "name": f"s{k:02d}", "dry_run": False,
            "trading_pair": {"order_currency": market[4:]},
            "strategy": {"decider": "llm", "candle_count": 200},
            "risk": {"kill_switch_file": None, "max_trade_value": 1_000_000,
                     "max_position_krw": 100_000_000},
        })
        members.append(MemberSpec(config, weight, db.parent / f"s{k:02d}.json"))
        deciders[config.name] = SlowModel(buys=k % 2 == 0 or strategies == 1,
                                          latency=MODEL_LATENCY)
        fake.balances["KRW"] += D(10_000_000)
    return members, deciders


async def run(strategies: int, markets: int, cycles: int, db: Path) -> dict[str, Any]:
    """Median cycle wall time (after one warm-up cycle) and the worst second per category."""
    names = [f"KRW-{coin}" for coin in COINS[:markets]]
    fake = SlowBithumb(names, EXCHANGE_LATENCY)
    clock = SystemClock()
    client = BithumbClient(api_key="bench-access-key",
                           api_secret="bench-secret-key-0123456789abcdef0123456789",
                           transport=fake.transport(), clock=clock,
                           rate_limiter=RateLimiter(clock))
    store = open_store(f"sqlite:///{db}", clock=clock)
    members, deciders = members_of(strategies, names, fake, db)
    portfolio = PortfolioConfig(
        name="bench", dry_run=False, kill_switch_file=None,
        strategies=tuple(PortfolioMember(file=m.source.name, weight=m.weight) for m in members))
    data = SharedMarketData(client)
    # As bootstrap.portfolio wires it: one gate for the netted orders, live mode.
    rules = GateRules(owner=portfolio.name, mode=Mode.LIVE, kill_switch=lambda: False)
    executor = order_executor(client, market_data=data, account=client, store=store,
                              clock=clock, rules=rules)
    manager = MultiAgentPortfolioManager(
        portfolio, members, deciders=dict(deciders), market_data=data, account=client,
        executor=executor, engines=member_engines(store, clock, Mode.LIVE), store=store,
        clock=clock)
    walls = []
    for cycle in range(cycles + 1):
        started = time.perf_counter()
        result = await manager.run_cycle()
        if cycle:
            walls.append(time.perf_counter() - started)
        if not result.ok:
            raise SystemExit(f"cycle failed: {[s.error for s in result.strategies if s.error]}")
    await client.aclose()
    store.close()
    return {"wall": statistics.median(walls), "walls": walls, "netted": len(result.netting),
            "worst": fake.worst_second(), "requests": sum(map(len, fake.arrivals.values()))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--strategies", type=int, default=50)
    parser.add_argument("--markets", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one = asyncio.run(run(1, 1, args.cycles, Path(tmp) / "one.db"))
        many = asyncio.run(run(args.strategies, args.markets, args.cycles, Path(tmp) / "many.db"))
    ratio = many["wall"] / one["wall"]
    print(f"exchange {EXCHANGE_LATENCY * 1000:.0f} ms per request, model "
          f"{MODEL_LATENCY * 1000:.0f} ms per call, {args.cycles} cycles after a warm-up")
    for label, run_ in (("1 strategy", one), (f"{args.strategies} strategies", many)):
        walls = ", ".join(f"{w:.3f}" for w in run_["walls"])
        print(f"  {label:>14}: median {run_['wall']:.3f} s per cycle ({walls}); "
              f"{run_['requests']} requests in all; {run_['netted']} netted orders per cycle")
    print(f"  ratio {ratio:.2f}   target <= 1.5")
    over = []
    print("  busiest second per category (limit):")
    for category, count in sorted(many["worst"].items(), key=lambda kv: kv[0].value):
        limit = RATE_LIMITS[category].requests
        print(f"    {category.value:<18} {count:>4} ({limit})")
        if count > limit:
            over.append(category.value)
    return 0 if ratio <= 1.5 and not over else 1


if __name__ == "__main__":
    sys.exit(main())
