"""The buffered store: answers the engine from memory, writes in batches, keeps apart."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bithumb_llm_trader.backtest import BufferedStore
from bithumb_llm_trader.records import (
    ExecutionRecord,
    FeatureRecord,
    FillRecord,
    OrderRecord,
    PaperBalanceRecord,
    PaperOrderRecord,
    PositionGuardRecord,
    RunRecord,
    RunUpdate,
)
from bithumb_llm_trader.store import open_store

from .helpers import T0, rows

D = Decimal
S = "bt"


def run(run_id: str, minute: int = 0) -> RunRecord:
    return RunRecord(run_id=run_id, strategy=S, market="KRW-BTC", mode="backtest",
                     started_at=T0 + timedelta(minutes=minute))


def execution(run_id: str, method: str) -> ExecutionRecord:
    return ExecutionRecord(execution_id=f"x{run_id}", run_id=run_id, strategy=S,
                           created_at=T0, agent_intent="hold", action="hold", side=None,
                           method=method, status="hold", dry_run=True, mode="dry")


def feature(run_id: str) -> FeatureRecord:
    return FeatureRecord(run_id=run_id, strategy=S, created_at=T0, market="KRW-BTC",
                         last_price=D(1), best_bid=None, best_ask=None, spread_bps=None,
                         features_json={})


def order(client_id: str, state: str, run_id: str = "r1") -> OrderRecord:
    return OrderRecord(client_order_id=client_id, run_id=run_id, strategy=S,
                       market="KRW-BTC", side="bid", order_type="limit", state=state,
                       dry_run=True, mode="dry", created_at=T0, updated_at=T0, price=D(100),
                       volume=D(1))


def fill(client_id: str, trade_id: str, minute: int = 0) -> FillRecord:
    return FillRecord(client_order_id=client_id, trade_id=trade_id, run_id="r1", strategy=S,
                      market="KRW-BTC", side="bid", price=D(100), volume=D("0.5"),
                      funds=D(50), fee=D("0.1"), created_at=T0 + timedelta(minutes=minute),
                      dry_run=True, mode="dry")


@pytest.fixture
def sql(tmp_path: Path) -> Any:
    store = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    yield store
    store.close()


def test_nothing_reaches_the_database_before_a_flush(sql: Any) -> None:
    buffered = BufferedStore(sql)
    buffered.write([run("r1")])
    buffered.update_run("r1", RunUpdate(total_equity_krw=D(100), last_price=D(5)))
    buffered.update_run("r1", RunUpdate(status="ok", finished_at=T0))
    buffered.write([feature("r1")])
    assert rows(sql, "cron_runs") == [] and buffered.pending == 2

    buffered.flush()

    (stored,) = rows(sql, "cron_runs")
    assert (stored["status"], stored["total_equity_krw"], stored["last_price"]) == (
        "ok", D(100), D(5))
    assert len(rows(sql, "cron_features")) == 1 and buffered.pending == 0


def test_the_first_equity_of_the_day_and_the_last_fill_come_from_memory(sql: Any) -> None:
    buffered = BufferedStore(sql)
    for minute, equity in ((0, 100), (10, 90), (20, 95)):
        buffered.write([run(f"r{minute}", minute)])
        buffered.update_run(f"r{minute}", RunUpdate(total_equity_krw=D(equity)))
        buffered.update_run(f"r{minute}", RunUpdate(total_equity_krw=D(1)))  # first counts

    assert buffered.first_equity_since(S, T0, "backtest") == D(100)
    assert buffered.first_equity_since(S, T0 + timedelta(minutes=5), "backtest") == D(90)
    assert buffered.first_equity_since(S, T0 + timedelta(minutes=30), "backtest") is None

    buffered.save_order(order("o1", "wait"))
    buffered.save_fills_and_order(order("o1", "done"), [fill("o1", "t1", 3), fill("o1", "t2", 7)])
    assert buffered.last_trade_at(S, "backtest") == T0 + timedelta(minutes=7)


def test_guards_and_the_paper_wallet_stay_in_memory(sql: Any) -> None:
    buffered = BufferedStore(sql)
    guard = PositionGuardRecord(strategy=S, market="KRW-BTC", mode="backtest",
                                stop_loss_price=D(90),
                                take_profit_price=D(110), entry_price=D(100), run_id="r1",
                                updated_at=T0)
    buffered.save_guard(guard)
    balance = PaperBalanceRecord(strategy=S, currency="KRW", balance=D(10), locked=D(5),
                                 avg_buy_price=D(0), updated_at=T0)
    waiting = PaperOrderRecord(strategy=S, order_id="p1", client_order_id="c1",
                               state="wait", updated_at=T0, order_json={})
    buffered.save_paper_state(S, [balance], [waiting])
    buffered.flush()

    assert buffered.load_guard(S, "KRW-BTC", "backtest") == guard
    assert buffered.load_paper_state(S) == ([balance], [waiting])
    assert buffered.waiting_paper_orders(S) == ["p1"]
    assert buffered.wallet_totals(S) == {"KRW": D(15)}
    assert rows(sql, "position_guards") == [] and rows(sql, "paper_wallets") == []
    assert rows(sql, "paper_orders") == []

    buffered.save_paper_state(S, [balance], [PaperOrderRecord(
        strategy=S, order_id="p1", client_order_id="c1", state="done", updated_at=T0,
        order_json={})])
    buffered.clear_guard(S, "KRW-BTC", "backtest")
    assert buffered.waiting_paper_orders(S) == []
    assert buffered.load_guard(S, "KRW-BTC", "backtest") is None


def test_an_order_written_open_is_updated_later_with_only_its_new_fills(sql: Any) -> None:
    buffered = BufferedStore(sql)
    buffered.save_order(order("o1", "wait"))
    buffered.save_fills_and_order(order("o1", "wait"), [fill("o1", "t1")])
    buffered.flush()
    assert [o["state"] for o in rows(sql, "orders")] == ["wait"]
    assert buffered.unsettled_orders(S, "backtest") == [order("o1", "wait")]

    buffered.save_fills_and_order(order("o1", "done"), [fill("o1", "t1"), fill("o1", "t2")])
    buffered.flush()

    assert [o["state"] for o in rows(sql, "orders")] == ["done"]
    assert sorted(f["trade_id"] for f in rows(sql, "fills")) == ["t1", "t2"]
    assert buffered.unsettled_orders(S, "backtest") == []
    assert buffered.get_order("o1") is not None  # settled and forgotten: read back from SQL


def test_orders_left_open_at_the_end_are_written_cancelled(sql: Any) -> None:
    buffered = BufferedStore(sql)
    buffered.save_order(order("o1", "wait"))
    buffered.save_order(order("o2", "done"))

    assert buffered.close_open_orders(T0, "backtest ended") == ["o1"]
    buffered.flush()
    states = {o["client_order_id"]: (o["state"], o["error"]) for o in rows(sql, "orders")}
    assert states == {"o1": ("cancel", "backtest ended"), "o2": ("done", None)}


@pytest.mark.parametrize(("keep", "runs", "executions"), [
    ("all", ["r1", "r2"], ["r1", "r2"]),
    ("trades", ["r2"], ["r2"]),
    ("none", [], []),
])
def test_keep_chooses_which_cycles_rows_are_written(
    sql: Any, keep: str, runs: list[str], executions: list[str],
) -> None:
    buffered = BufferedStore(sql, keep=keep)
    buffered.write([run("r1"), execution("r1", "none"), feature("r1")])
    buffered.write([run("r2", 1), execution("r2", "order"), feature("r2")])
    buffered.save_fills_and_order(order("o1", "done", run_id="r2"), [fill("o1", "t1")])
    buffered.flush()

    assert sorted(r["run_id"] for r in rows(sql, "cron_runs")) == runs
    assert sorted(r["run_id"] for r in rows(sql, "llm_executions")) == executions
    assert len(rows(sql, "cron_features")) == len(runs)
    assert len(rows(sql, "orders")) == len(rows(sql, "fills")) == 1  # always kept


def test_an_unknown_keep_is_refused(sql: Any) -> None:
    with pytest.raises(ValueError, match="keep must be one of"):
        BufferedStore(sql, keep="some")


class FakeWriter:
    """A background writer that writes in place and notes every call, in order."""

    def __init__(self, store: Any, calls: list[str]) -> None:
        self.store, self.calls = store, calls

    def write(self, records: Any) -> None:
        self.calls.append(f"write {len(records)}")
        self.store.write(records)

    def wait(self) -> None:
        self.calls.append("wait")

    def idle(self) -> bool:
        return True  # it writes in place: nothing is ever in flight

    def close(self) -> None:
        self.calls.append("close")


def test_background_flushes_go_to_the_writer_and_direct_use_waits_for_it(sql: Any) -> None:
    calls: list[str] = []
    store = BufferedStore(sql, background=lambda: FakeWriter(sql, calls))
    store.write([run("r1"), feature("r1")])
    store.flush(in_background=True)
    assert calls == ["write 2"]

    store.get_order("nowhere")  # read from the database: the batch must be there first
    store.cache_get("key")
    store.write([run("r2")])
    store.flush()  # a flush in place also waits for the batch in flight
    assert calls == ["write 2", "wait", "wait", "wait"]
    assert [r["run_id"] for r in rows(sql, "cron_runs")] == ["r1", "r2"]
    store.close()
    assert calls[-1] == "close"


def test_without_a_writer_background_flushes_write_in_place(sql: Any) -> None:
    store = BufferedStore(sql)
    store.write([run("r1")])
    store.flush(in_background=True)
    store.start_background()  # nothing to start
    store.close()
    assert [r["run_id"] for r in rows(sql, "cron_runs")] == ["r1"]


class Counting:
    """A real background writer, counting the batches handed to it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.batches = inner, 0

    def write(self, records: Any) -> None:
        self.batches += 1
        self.inner.write(records)

    def wait(self) -> None:
        self.inner.wait()

    def idle(self) -> bool:
        return bool(self.inner.idle())

    def close(self) -> None:
        self.inner.close()


def test_a_replay_written_from_a_second_process_stores_the_same_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bithumb_llm_trader.backtest import replay, runner
    from bithumb_llm_trader.store.schema import metadata

    from .helpers import (
        HOLD,
        ScriptedDecider,
        buy,
        candle_rows,
        config,
        run_backtest,
        sell,
        walk_prices,
        write_csv,
    )

    data = write_csv(tmp_path / "c.csv", candle_rows(walk_prices(240)))
    script = [HOLD] * 30 + [buy(), *[HOLD] * 40, sell(), *[HOLD] * 20, buy()]
    monkeypatch.setattr(replay, "FLUSH_EVERY", 16)  # fifteen batches, not one
    monkeypatch.setattr(runner, "BACKGROUND_FROM_CYCLES", 0)
    started: list[Counting] = []
    make_writer = runner.background_writer

    def spy(store: Any) -> Any:
        factory = make_writer(store)
        assert factory is not None
        return lambda: started.append(Counting(factory())) or started[-1]

    monkeypatch.setattr(runner, "background_writer", spy)
    background, store_b = run_backtest(config(), data, ScriptedDecider(list(script)),
                                       db=tmp_path / "b.db")
    monkeypatch.setattr(runner, "background_writer", lambda store: None)
    in_place, store_p = run_backtest(config(), data, ScriptedDecider(list(script)),
                                     db=tmp_path / "p.db")

    assert len(started) == 1 and started[0].batches >= 10  # the child wrote the batches
    assert background.to_dict()["results"] == in_place.to_dict()["results"]
    for table in metadata.sorted_tables:
        if table.name != "schema_version":  # stamped when each file was created
            assert rows(store_b, table.name) == rows(store_p, table.name), table.name
    assert len(rows(store_b, "fills")) >= 2 and len(rows(store_b, "cron_runs")) > 200
    store_b.close()
    store_p.close()


def test_a_top_level_script_is_not_run_again_by_the_writer(tmp_path: Path) -> None:
    """A user's script with no ``__main__`` guard: the writer must not re-import it (a
    ``multiprocessing`` child would, and run the backtest a second time)."""
    import subprocess
    import sys

    from .helpers import candle_rows, walk_prices, write_csv

    data = write_csv(tmp_path / "c.csv", candle_rows(walk_prices(120)))
    marker = tmp_path / "runs.txt"
    script = tmp_path / "my_backtest.py"
    script.write_text(f"""
import asyncio, datetime
from pathlib import Path
from bithumb_llm_trader.backtest import Backtest, BacktestSettings, replay, runner
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config import StrategyConfig
from bithumb_llm_trader.decision import RuleBasedDecider
from bithumb_llm_trader.store import open_store

with open({str(marker)!r}, "a") as out:
    out.write("ran\\n")
replay.FLUSH_EVERY = 16
runner.BACKGROUND_FROM_CYCLES = 0
from bithumb_llm_trader.bootstrap.backtest import replay_engine
config = StrategyConfig.model_validate({{"name": "script", "strategy": {{"decider": "rules",
    "candle_interval": "1m"}}, "risk": {{"kill_switch_file": None}}}})
store = open_store("sqlite:///{tmp_path / 'script.db'}")
result = asyncio.run(Backtest(config, BacktestSettings(data=Path({str(data)!r})),
    decider=RuleBasedDecider(config.strategy.rules), engines=replay_engine, store=store,
    wall_clock=ManualClock(datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc))).run())
print(result.to_dict()["cycles"]["decision_cycles"])
""", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 100
    assert marker.read_text() == "ran\n"  # once: the writer did not run the script again


def test_a_writer_that_cannot_start_leaves_the_writes_in_place(
        sql: Any, caplog: pytest.LogCaptureFixture) -> None:
    def no_interpreter() -> Any:
        raise FileNotFoundError("python3: not found")

    store = BufferedStore(sql, background=no_interpreter)
    store.start_background()
    store.write([run("r1")])
    store.flush(in_background=True)
    store.close()
    assert [r["run_id"] for r in rows(sql, "cron_runs")] == ["r1"]
    assert "writes in place" in caplog.text


def background_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                       estimate: bool) -> tuple[list[int], Any, Any]:
    """A 240-candle replay with batches of 16 cycles (4 in the last stretch) handed to an
    always idle writer: the cycles in each batch, the result and the store."""
    from bithumb_llm_trader.backtest import replay, runner
    from bithumb_llm_trader.records import RunRecord

    from .helpers import (
        HOLD,
        ScriptedDecider,
        candle_rows,
        config,
        run_backtest,
        walk_prices,
        write_csv,
    )

    data = write_csv(tmp_path / "c.csv", candle_rows(walk_prices(240)))
    monkeypatch.setattr(replay, "FLUSH_EVERY", 16)
    monkeypatch.setattr(replay, "LAST_BATCHES", 4)
    monkeypatch.setattr(runner, "BACKGROUND_FROM_CYCLES", 0)
    if not estimate:  # as for a JSON file
        monkeypatch.setattr(runner, "expected_cycles", lambda *args: None)
    sizes: list[int] = []

    class IdleWriter(FakeWriter):
        def write(self, records: Any) -> None:
            sizes.append(sum(isinstance(record, RunRecord) for record in records))
            super().write(records)

    monkeypatch.setattr(runner, "background_writer",
                        lambda store: lambda: IdleWriter(store, []))
    result, store = run_backtest(config(), data, ScriptedDecider([HOLD] * 300),
                                 db=tmp_path / "b.db")
    return sizes, result, store


def test_the_last_batches_of_a_replay_written_in_the_background_are_small(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay's end waits for the batch in flight: over the last stretch (as
    estimated), batches go as soon as they hold ``LAST_BATCHES`` cycles and the writer
    is idle, so that wait is for a small one."""
    sizes, result, store = background_batches(tmp_path, monkeypatch, estimate=True)

    first_small = sizes.index(4)
    assert sizes[:first_small] == [16] * first_small and first_small >= 10
    assert set(sizes[first_small:]) == {4} and len(sizes) - first_small >= 3
    cycles = result.to_dict()["cycles"]["decision_cycles"]
    assert len(rows(store, "cron_runs")) == cycles + 1  # every cycle stored, and the result
    store.close()


def test_without_an_estimate_of_the_end_every_batch_is_full(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No estimate (a JSON file): no last stretch, so no small batches all replay long."""
    sizes, _, store = background_batches(tmp_path, monkeypatch, estimate=False)

    assert len(sizes) >= 10 and set(sizes) == {16}  # the writer started at the first batch
    store.close()
