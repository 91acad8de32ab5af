"""A cycle's writes must stay cheap on the default backend (a file SQLite database).

The budget is 5 ms per cycle; the assertion allows several times that so a busy CI
machine does not fail it, while a regression to one fsync per write (tens of ms) would.
"""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from bithumb_llm_trader import records as r
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.store import SqlStore, open_store

from . import samples as sm

CYCLES = 40
BUDGET_MS = 25.0


def one_cycle(store: SqlStore, n: int) -> None:
    """The writes ``TradingEngine.run_cycle`` makes for a cycle that places one order."""
    run_id, coid = f"run-{n}", f"coid-{n}"
    store.write([sm.run(run_id, started=n)])
    store.write([sm.position(run_id), replace(sm.position(run_id), currency="KRW"),
                 sm.feature(run_id)])
    store.update_run(run_id, r.RunUpdate(total_equity_krw=Decimal("1000000"),
                                         last_price=Decimal("143500000")))
    store.first_equity_since("alpha", sm.at(0), "dry")
    store.last_trade_at("alpha", "dry")
    store.update_run(run_id, r.RunUpdate(trading_state="ACTIVE"))
    store.write([sm.request(run_id), sm.signal(run_id)])
    store.write([sm.verdict(run_id), sm.allocation(run_id)])
    store.save_order(sm.order(coid))
    store.save_fills_and_order(sm.order(coid, state="done"), [sm.fill(f"t-{n}", coid)])
    store.write([replace(sm.execution(run_id), client_order_id=coid)])
    store.update_run(run_id, r.RunUpdate(status="ok", finished_at=sm.at(n + 1),
                                         result_json={"steps": list(range(9))}))


def test_a_cycle_of_writes_takes_a_few_milliseconds(tmp_path: Path, clock: ManualClock) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'perf.db'}", clock=clock)
    one_cycle(store, 0)  # warm the statement cache and the pool
    started = time.perf_counter()
    for n in range(1, CYCLES + 1):
        one_cycle(store, n)
    per_cycle_ms = (time.perf_counter() - started) * 1000 / CYCLES
    store.close()
    print(f"\nSQLite file store: {per_cycle_ms:.2f} ms per cycle of writes")
    assert per_cycle_ms < BUDGET_MS
