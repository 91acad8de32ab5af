"""Generate a bithumb-trader database of many cycles, for ``bench_report.py``.

    python benchmarks/report_dbgen.py OUT.db [--cycles 100000] [--strategies 2] [--seed 7]

Rows are the records a real cycle writes (``records.py``), inserted through the real
store (``SqlStore.write``), so types, columns and indexes are exactly the trader's. The
mix, per cycle: about 3% failed runs, 55% HOLDs (some for invalid model output or a
timeout), 15% rejected by risk, the rest orders (a tenth of them partial fills, a few
percent TWAPs of five slices). Prices follow a seeded random walk; the paper wallet is
tracked so equity, fills and PnL are consistent. Text columns have the sizes a real
cycle writes (a 3.5 KB result in ``cron_runs``, 4 KB of prompts, ...): the report never
reads them, but they decide how many pages a scan of a table touches.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from bithumb_llm_trader import records as rec
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import round_krw, round_volume
from bithumb_llm_trader.store import SqlStore, open_store

D = Decimal
START = datetime(2023, 1, 1, tzinfo=timezone.utc)
STEP = timedelta(minutes=15)
FEE = D("0.0025")
REJECTIONS = (["confidence_below_min"], ["cooldown"], ["no_position"],
              ["halted", "daily_loss_limit"], ["reducing_only"])
CAPS: tuple[list[str], ...] = (["max_single_order"], ["max_single_order", "max_trade_value"],
                               ["liquidity"], [])
HOLD_REASONS = (None,) * 18 + ("invalid_output", "timeout")
RUN_RESULT = {"steps": [{"name": f"step{i}", "status": "ok", "detail": "x" * 330}
                        for i in range(9)]}
"""About the 3.5 KB of JSON a real ``CycleResult`` takes."""
SYSTEM_PROMPT = "You are a careful spot trader on Bithumb. " * 45
USER_PROMPT = "Market KRW-BTC; last price, candles, features and position follow. " * 31
FEATURES = {f"feature_{i}": "12345.678901" for i in range(24)}


@dataclass
class Wallet:
    cash: Decimal = field(default_factory=lambda: D(10_000_000))
    coins: Decimal = field(default_factory=lambda: D(0))


class Generator:
    def __init__(self, store: SqlStore, strategies: int, seed: int) -> None:
        self.store = store
        self.random = random.Random(seed)
        self.names = [f"strategy-{chr(ord('a') + i)}" for i in range(strategies)]
        self.wallets = {name: Wallet() for name in self.names}
        self.price = D(50_000_000)
        self.serial = 0

    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:012d}"

    def run(self, cycles: int, batch: int = 2000) -> None:
        pending: list[object] = []
        for index in range(cycles):
            strategy = self.names[index % len(self.names)]
            at = START + STEP * (index // len(self.names))
            self.walk_price()
            pending += self.cycle(strategy, at)
            if (index + 1) % batch == 0:
                self.store.write(pending)  # type: ignore[arg-type]
                pending = []
        if pending:
            self.store.write(pending)  # type: ignore[arg-type]

    def walk_price(self) -> None:
        move = D(self.random.randint(-40, 41)) * 10_000
        self.price = max(D(10_000_000), self.price + move)

    def cycle(self, strategy: str, at: datetime) -> list[object]:
        run_id = self.next_id("run")
        wallet = self.wallets[strategy]
        roll = self.random.random()
        common = {"run_id": run_id, "strategy": strategy}
        out: list[object] = []
        if roll < 0.03:
            out.append(self.run_record(common, at, wallet, failed=True))
            return out
        out.append(self.run_record(common, at, wallet, failed=False))
        out += self.snapshot_records(common, at, wallet)
        action = "hold" if roll < 0.58 else ("buy" if wallet.coins == 0 or roll < 0.78 else "sell")
        out += self.decision_records(common, at, action)
        if action == "hold":
            out.append(self.closing(common, at, "hold", "hold"))
            return out
        if roll < 0.73 and action == "buy":
            out.append(self.verdict(common, at, action, approved=False))
            out.append(self.closing(common, at, action, "rejected"))
            return out
        out += self.trade(common, at, wallet, action)
        return out

    def run_record(self, common: dict[str, Any], at: datetime, wallet: Wallet, *,
                   failed: bool) -> rec.RunRecord:
        equity = None if failed else wallet.cash + wallet.coins * self.price
        return rec.RunRecord(
            **common, market="KRW-BTC", mode="dry", started_at=at,
            status="failed" if failed else "ok", finished_at=at + timedelta(seconds=2),
            total_equity_krw=equity,
            reserved_pool_krw=None if equity is None else equity * D("0.2"),
            cash_krw=None if failed else wallet.cash,
            position_value_krw=None if failed else wallet.coins * self.price,
            last_price=None if failed else self.price, trading_state="active",
            error="snapshot: NetworkError: timed out" if failed else None,
            result_json=RUN_RESULT,
        )

    def snapshot_records(self, common: dict[str, Any], at: datetime,
                         wallet: Wallet) -> list[object]:
        return [
            rec.PositionRecord(**common, created_at=at, currency="KRW", size=wallet.cash,
                               locked=D(0), avg_price=D(0), price_krw=D(1),
                               value_krw=wallet.cash, unrealized_pnl_krw=None),
            rec.FeatureRecord(**common, created_at=at, market="KRW-BTC", last_price=self.price,
                              best_bid=self.price - 1000, best_ask=self.price,
                              spread_bps=D("0.2"), features_json=FEATURES),
        ]

    def decision_records(self, common: dict[str, Any], at: datetime,
                         action: str) -> list[object]:
        request_id = self.next_id("req")
        hold_reason = self.random.choice(HOLD_REASONS) if action == "hold" else None
        intent = {"buy": "enter_long", "sell": "exit", "hold": "hold"}[action]
        confidence = D(self.random.randint(40, 95)) / 100 if action != "hold" else D(0)
        return [
            rec.DecisionRequestRecord(
                **common, request_id=request_id, created_at=at, decider="llm",
                model="gpt-4o-mini", base_url="https://api.openai.com/v1",
                prompt_version="v3", response_format="json_schema",
                system_prompt=SYSTEM_PROMPT, user_prompt=USER_PROMPT, prompt_hash="h" * 64),
            rec.SignalRecord(
                **common, request_id=request_id, created_at=at, action=action,
                confidence=confidence, agent_intent=intent,
                payload_json={"action": action, "rationale": "r" * 150},
                raw_text='{"action": "' + action + '", "rationale": "' + "r" * 220 + '"}',
                hold_reason=hold_reason,
                latency_ms=self.random.randint(300, 2500),
                prompt_tokens=self.random.randint(900, 1400),
                completion_tokens=self.random.randint(60, 160), cost_usd=D("0.00021"),
                response_format="json_schema", fallback_used=self.random.random() < 0.02,
                cached=self.random.random() < 0.05),
        ]

    def verdict(self, common: dict[str, Any], at: datetime, action: str, *, approved: bool,
                shrunk: bool = False) -> rec.RiskVerdictRecord:
        reasons = [] if approved else self.random.choice(REJECTIONS)
        return rec.RiskVerdictRecord(
            **common, created_at=at, action=action, approved=approved, shrunk=shrunk,
            reasons_json=list(reasons), trading_state="active",
            stop_loss_price=self.price * D("0.98"), take_profit_price=self.price * D("1.04"))

    def closing(self, common: dict[str, Any], at: datetime, action: str,
                status: str) -> rec.ExecutionRecord:
        return rec.ExecutionRecord(
            **common, execution_id=self.next_id("ex"), created_at=at,
            agent_intent="hold" if action == "hold" else "enter_long", action=action,
            side=None, method="none", status=status, dry_run=True, mode="dry",
            result_json={"reasons": [status], "events": ["e" * 330]})

    def trade(self, common: dict[str, Any], at: datetime, wallet: Wallet,
              action: str) -> list[object]:
        side = "bid" if action == "buy" else "ask"
        caps = self.random.choice(CAPS)
        equity = wallet.cash + wallet.coins * self.price
        if side == "bid":
            notional = round_krw(min(equity * D("0.1"), wallet.cash / D("1.01")))
        else:
            notional = round_krw(wallet.coins * (self.price - 1000))
        arrival = self.price if side == "bid" else self.price - 1000
        out: list[object] = [
            rec.AllocationRecord(
                **common, created_at=at, side=side, desired_notional=notional * 2 if caps
                else notional, final_notional=notional, volume=round_volume(notional / arrival),
                scale_factor=D("0.5") if caps else D(1), caps_hit_json=list(caps),
                expected_slippage_bps=D("0.5"), fee_rate=FEE, fee_estimate=notional * FEE,
                use_twap=False, reference_price=arrival, equity_krw=equity),
            self.verdict(common, at, action, approved=True, shrunk=bool(caps)),
        ]
        if notional < 5000:
            out.append(self.closing(common, at, action, "no_order"))
            return out
        if self.random.random() < 0.04:
            return out + self.twap(common, at, wallet, side, notional, arrival)
        partial = self.random.random() < 0.1
        volume, funds, fee, fills = self.order(common, at, side, notional, arrival, None, None,
                                               partial=partial)
        out += fills
        self.settle(wallet, side, volume, funds, fee)
        out.append(rec.ExecutionRecord(
            **common, execution_id=self.next_id("ex"), created_at=at,
            agent_intent="enter_long" if side == "bid" else "exit", action=action, side=side,
            method="order", status="partial" if partial else "filled", dry_run=True, mode="dry",
            client_order_id=fills[0].client_order_id,  # type: ignore[attr-defined]
            requested_notional=notional, requested_volume=round_volume(notional / arrival),
            filled_volume=volume, filled_funds=funds, avg_price=(funds / volume).quantize(
                D("0.00000001")), fee=fee, reference_price=self.price, arrival_price=arrival,
            result_json={"events": ["e" * 330]}))
        return out

    def order(self, common: dict[str, Any], at: datetime, side: str, notional: Decimal,
              arrival: Decimal, twap_run_id: str | None, slice_no: int | None, *,
              partial: bool) -> tuple[Decimal, Decimal, Decimal, list[object]]:
        """One market order filled over one to three levels; returns volume, funds, fee."""
        client_order_id = self.next_id("bt-")
        levels = self.random.randint(1, 3)
        left, volume, funds, fee = notional * (D("0.6") if partial else 1), D(0), D(0), D(0)
        fills: list[object] = []
        for level in range(levels):
            price = arrival + (1000 * level if side == "bid" else -1000 * level)
            take = round_volume(left / levels / price) if level < levels - 1 else round_volume(
                (left - funds) / price)
            if take <= 0:
                continue
            fill_funds = take * price
            fill_fee = (fill_funds * FEE).quantize(D("0.01"))
            fills.append(rec.FillRecord(
                client_order_id=client_order_id, trade_id=f"t{level}", **common,
                market="KRW-BTC", side=side, price=price, volume=take, funds=fill_funds,
                fee=fill_fee, created_at=at, dry_run=True, mode="dry"))
            volume, funds, fee = volume + take, funds + fill_funds, fee + fill_fee
        order = rec.OrderRecord(
            client_order_id=client_order_id, **common, market="KRW-BTC", side=side,
            order_type="market", state="cancel" if partial else "done", dry_run=True, mode="dry",
            created_at=at, updated_at=at, order_id="paper-" + client_order_id,
            notional=notional if side == "bid" else None,
            volume=None if side == "bid" else round_volume(notional / arrival),
            executed_volume=volume, executed_funds=funds, paid_fee=fee,
            twap_run_id=twap_run_id, slice_no=slice_no)
        return volume, funds, fee, [order, *fills]

    def twap(self, common: dict[str, Any], at: datetime, wallet: Wallet, side: str,
             notional: Decimal, arrival: Decimal) -> list[object]:
        twap_run_id = self.next_id("tw")
        out: list[object] = []
        volume = funds = fee = D(0)
        slices = 5
        for number in range(1, slices + 1):
            part = round_krw(notional / slices)
            sent = at + timedelta(minutes=number)
            v, f, c, rows = self.order(common, sent, side, part, arrival, twap_run_id, number,
                                       partial=False)
            out += rows
            volume, funds, fee = volume + v, funds + f, fee + c
            out.append(rec.TwapSliceRecord(
                twap_run_id=twap_run_id, slice_no=number, planned_at=sent, status="filled",
                client_order_id=rows[0].client_order_id,  # type: ignore[attr-defined]
                planned_notional=part, sent_at=sent, filled_volume=v, filled_funds=f,
                avg_price=(f / v).quantize(D("0.00000001")) if v else None, fee=c))
        self.settle(wallet, side, volume, funds, fee)
        avg = (funds / volume).quantize(D("0.00000001")) if volume else None
        out.insert(0, rec.TwapRunRecord(
            twap_run_id=twap_run_id, strategy=common["strategy"], market="KRW-BTC", side=side,
            status="done", dry_run=True, mode="dry", created_at=at,
            updated_at=at + timedelta(minutes=5),
            duration_s=300, slice_count=slices, run_id=common["run_id"],
            total_notional=notional, arrival_price=arrival, filled_volume=volume,
            filled_funds=funds, avg_price=avg, fees=fee))
        out.append(rec.ExecutionRecord(
            **common, execution_id=self.next_id("ex"), created_at=at,
            agent_intent="enter_long" if side == "bid" else "exit",
            action="buy" if side == "bid" else "sell", side=side, method="twap",
            status="filled", dry_run=True, mode="dry", twap_run_id=twap_run_id,
            requested_notional=notional, filled_volume=volume, filled_funds=funds,
            avg_price=avg, fee=fee, reference_price=self.price, arrival_price=arrival,
            result_json={"events": ["e" * 330]}))
        return out

    @staticmethod
    def settle(wallet: Wallet, side: str, volume: Decimal, funds: Decimal,
               fee: Decimal) -> None:
        if side == "bid":
            wallet.cash -= funds + fee
            wallet.coins += volume
        else:
            wallet.cash += funds - fee
            wallet.coins -= volume


def generate(path: Path, cycles: int, strategies: int = 2, seed: int = 7) -> None:
    """Write ``cycles`` cycles into a new SQLite database at ``path``."""
    if path.exists():
        raise SystemExit(f"{path} exists; give a new file")
    store = open_store(f"sqlite:///{path}", clock=ManualClock(START))
    try:
        Generator(store, strategies, seed).run(cycles)
    finally:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--cycles", type=int, default=100_000)
    parser.add_argument("--strategies", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.perf_counter()
    generate(args.out, args.cycles, args.strategies, args.seed)
    size = args.out.stat().st_size / 1e6
    print(f"{args.cycles} cycles -> {args.out} ({size:.0f} MB) in "
          f"{time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
