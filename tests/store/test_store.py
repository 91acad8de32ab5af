"""Every ``Store`` method, on every configured backend."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from bithumb_llm_trader import records as r
from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.ports import Store
from bithumb_llm_trader.store import SqlStore, money_sum
from bithumb_llm_trader.store import schema as s

from . import samples as sm
from .samples import KST, at


def count(store: SqlStore, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(s.metadata.tables[table]))
                   .scalar_one())


def test_is_a_store(store: SqlStore) -> None:
    implementation: Store = store  # mypy checks the protocol; this checks it at run time
    assert callable(implementation.write)
    assert store.dialect_name in {"sqlite", "mysql", "mariadb", "postgresql"}
    assert store.engine is not None


# -- write -------------------------------------------------------------------------------
def test_write_inserts_a_mixed_batch_and_rows_rebuild_the_records(store: SqlStore) -> None:
    batch = sm.cycle_batch()
    store.write(batch)
    for record in batch:
        stored = sm.read_all(store, type(record))
        assert stored == [sm.with_json_as_read(record)], type(record).__name__


def test_write_keeps_several_rows_of_one_table_in_order(store: SqlStore) -> None:
    positions = [replace(sm.position(), currency=c) for c in ("BTC", "ETH", "XRP")]
    store.write([sm.run(), *positions])
    assert [p.currency for p in sm.read_all(store, r.PositionRecord)] == ["BTC", "ETH", "XRP"]


def test_write_is_all_or_nothing(store: SqlStore) -> None:
    store.write([sm.run("run-1")])
    with pytest.raises(StoreError):
        store.write([sm.position(), sm.feature(), sm.run("run-1")])  # duplicate run id
    assert count(store, "cron_positions") == 0
    assert count(store, "cron_features") == 0


def test_write_refuses_an_inexact_amount_and_writes_nothing(store: SqlStore) -> None:
    bad = replace(sm.position(), size=Decimal("0.0000000000000000001"))  # 19 decimals
    with pytest.raises(StoreError, match="more than 18 decimal places"):
        store.write([sm.run(), bad])
    assert count(store, "cron_runs") == 0


def test_write_refuses_a_float_amount(store: SqlStore) -> None:
    bad = replace(sm.position(), size=0.1)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="float"):
        store.write([bad])


def test_write_refuses_a_string_longer_than_its_column_on_every_backend(store: SqlStore) -> None:
    with pytest.raises(StoreError, match=r"cron_runs.strategy: 65 characters, at most 64"):
        store.write([sm.run(strategy="s" * 65)])
    assert count(store, "cron_runs") == 0


def test_write_of_nothing_is_fine(store: SqlStore) -> None:
    store.write([])
    assert count(store, "cron_runs") == 0


def test_write_refuses_what_is_not_a_record(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="not a record"):
        store.write([object()])  # type: ignore[list-item]


# -- update_run --------------------------------------------------------------------------
def test_update_run_changes_only_the_given_fields(store: SqlStore) -> None:
    store.write([sm.run(total_equity_krw=Decimal("1000000"))])
    store.update_run("run-1", r.RunUpdate(trading_state="ACTIVE"))
    store.update_run("run-1", r.RunUpdate(
        status="ok", finished_at=at(60), error="partial: 거래소 timeout",
        result_json={"steps": [{"name": "decide", "ms": 12.5}], "pnl": Decimal("-1.50")},
    ))
    [stored] = sm.read_all(store, r.RunRecord)
    assert stored.total_equity_krw == Decimal("1000000")
    assert stored.trading_state == "ACTIVE"
    assert (stored.status, stored.finished_at, stored.error) == (
        "ok", at(60), "partial: 거래소 timeout")
    assert stored.result_json == {"pnl": "-1.5", "steps": [{"ms": Decimal("12.5"),
                                                            "name": "decide"}]}


def test_update_run_of_an_unknown_run_is_an_error(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="no run 'nope'"):
        store.update_run("nope", r.RunUpdate(status="ok"))


def test_update_run_with_nothing_to_change_does_nothing(store: SqlStore) -> None:
    store.write([sm.run()])
    store.update_run("run-1", r.RunUpdate())
    assert sm.read_all(store, r.RunRecord) == [sm.run()]


# -- orders and fills --------------------------------------------------------------------
def test_save_order_inserts_then_replaces(store: SqlStore) -> None:
    assert store.get_order("coid-1") is None
    store.save_order(sm.order())
    assert store.get_order("coid-1") == sm.order()
    sent = replace(sm.order(), state="wait", order_id="ex-9", updated_at=at(9),
                   executed_volume=Decimal("0.00010000"))
    store.save_order(sent)
    assert store.get_order("coid-1") == sent
    assert count(store, "orders") == 1


def test_unsettled_orders_are_the_open_ones_of_the_strategy_oldest_first(
    store: SqlStore,
) -> None:
    for coid, state, created in [
        ("late", "wait", 30), ("done", "done", 1), ("early", "pending", 10),
        ("unknown", "unknown", 20), ("cancel", "cancel", 2), ("rejected", "rejected", 3),
        ("not-sent", "not_sent", 4), ("watch", "watch", 25),
    ]:
        store.save_order(sm.order(coid, state=state, created=created))
    store.save_order(sm.order("other", state="wait", strategy="beta"))
    unsettled = store.unsettled_orders("alpha", "dry")
    assert [o.client_order_id for o in unsettled] == ["early", "unknown", "watch", "late"]
    assert store.unsettled_orders("nobody", "dry") == []


def test_save_fills_and_order_skips_fills_already_stored(store: SqlStore) -> None:
    store.save_order(sm.order())
    partial = replace(sm.order(), state="wait", executed_volume=Decimal("0.0001"))
    store.save_fills_and_order(partial, [sm.fill("t-1")])
    done = replace(sm.order(), state="done", executed_volume=Decimal("0.0002"))
    store.save_fills_and_order(done, [sm.fill("t-1"), sm.fill("t-2"), sm.fill("t-2")])
    assert store.get_order("coid-1") == done
    assert [f.trade_id for f in sm.read_all(store, r.FillRecord)] == ["t-1", "t-2"]


def test_save_fills_and_order_creates_the_order_when_new(store: SqlStore) -> None:
    store.save_fills_and_order(sm.order(state="done"), [sm.fill("t-1")])
    assert store.get_order("coid-1") == sm.order(state="done")
    assert sm.read_all(store, r.FillRecord) == [sm.fill("t-1")]


def test_save_fills_and_order_is_one_transaction(store: SqlStore) -> None:
    store.save_order(sm.order())
    bad_fill = replace(sm.fill("t-2"), trade_id="x" * 65)
    with pytest.raises(StoreError):
        store.save_fills_and_order(replace(sm.order(), state="done"), [sm.fill("t-1"), bad_fill])
    assert store.get_order("coid-1") == sm.order()
    assert count(store, "fills") == 0


def test_a_fill_needs_its_order(store: SqlStore) -> None:
    with pytest.raises(StoreError):
        store.write([sm.fill("t-1", "no-such-order")])


def test_last_trade_at_is_the_latest_fill_of_the_strategy(store: SqlStore) -> None:
    assert store.last_trade_at("alpha", "dry") is None
    store.save_fills_and_order(sm.order(), [sm.fill("t-1", created=7), sm.fill("t-2", created=9)])
    store.save_fills_and_order(sm.order("b", strategy="beta"),
                               [sm.fill("t-3", "b", created=99, strategy="beta")])
    last = store.last_trade_at("alpha", "dry")
    assert last == at(9)
    assert last is not None and last.utcoffset() == timedelta(0)


# -- equity ------------------------------------------------------------------------------
def test_first_equity_since_takes_the_earliest_run_with_equity(store: SqlStore) -> None:
    store.write([
        sm.run("yesterday", started=-3600, total_equity_krw=Decimal("900000")),
        sm.run("no-equity", started=10),
        sm.run("first", started=20, total_equity_krw=Decimal("1000000.5"), status="failed"),
        sm.run("second", started=30, total_equity_krw=Decimal("1100000")),
        sm.run("other", strategy="beta", started=15, total_equity_krw=Decimal("5")),
    ])
    assert store.first_equity_since("alpha", at(0), "dry") == Decimal("1000000.5")
    assert store.first_equity_since("alpha", at(20), "dry") == Decimal("1000000.5")
    assert store.first_equity_since("alpha", at(21), "dry") == Decimal("1100000")
    assert store.first_equity_since("alpha", at(31), "dry") is None
    assert store.first_equity_since("alpha", at(0).astimezone(KST),
                                    "dry") == Decimal("1000000.5")


def test_first_equity_since_refuses_a_naive_time(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="naive"):
        store.first_equity_since("alpha", datetime(2026, 3, 2), "dry")


# -- guards ------------------------------------------------------------------------------
def test_guards_save_load_replace_clear(store: SqlStore) -> None:
    guard = r.PositionGuardRecord(
        strategy="alpha", market="KRW-BTC", mode="dry", stop_loss_price=Decimal("140000000"),
        take_profit_price=Decimal("150000000.5"), entry_price=None, run_id="run-1",
        updated_at=at(0),
    )
    assert store.load_guard("alpha", "KRW-BTC", "dry") is None
    store.save_guard(guard)
    assert store.load_guard("alpha", "KRW-BTC", "dry") == guard
    moved = replace(guard, stop_loss_price=Decimal("145000000"), updated_at=at(60))
    store.save_guard(moved)
    store.save_guard(replace(guard, market="KRW-ETH"))
    assert store.load_guard("alpha", "KRW-BTC", "dry") == moved
    store.clear_guard("alpha", "KRW-BTC", "dry")
    store.clear_guard("alpha", "KRW-BTC", "dry")  # clearing twice is fine
    assert store.load_guard("alpha", "KRW-BTC", "dry") is None
    assert store.load_guard("alpha", "KRW-ETH", "dry") == replace(guard, market="KRW-ETH")


# -- paper state -------------------------------------------------------------------------
def _balance(currency: str, amount: str, strategy: str = "alpha") -> r.PaperBalanceRecord:
    return r.PaperBalanceRecord(strategy=strategy, currency=currency, balance=Decimal(amount),
                                locked=Decimal(0), avg_buy_price=Decimal(0), updated_at=at(0))


def _paper_order(order_id: str, state: str, strategy: str = "alpha") -> r.PaperOrderRecord:
    return r.PaperOrderRecord(
        strategy=strategy, order_id=order_id, client_order_id=f"{strategy}-{order_id}",
        state=state, updated_at=at(len(order_id)),
        order_json={"order_id": order_id, "price": "143500000", "fills": []},
    )


def test_paper_state_round_trips_replaces_the_wallet_and_upserts_orders(store: SqlStore) -> None:
    assert store.load_paper_state("alpha") == ([], [])
    store.save_paper_state("beta", [_balance("KRW", "5", "beta")], [])
    store.save_paper_state("alpha", [_balance("KRW", "1000000"), _balance("BTC", "0")],
                           [_paper_order("o1", "wait")])
    store.save_paper_state("alpha", [_balance("KRW", "950000.12345678")],
                           [_paper_order("o1", "done"), _paper_order("o22", "wait")])
    balances, orders = store.load_paper_state("alpha")
    assert balances == [_balance("KRW", "950000.12345678")]
    assert orders == [_paper_order("o1", "done"), _paper_order("o22", "wait")]
    assert store.load_paper_state("beta") == ([_balance("KRW", "5", "beta")], [])


def test_reset_paper_state_forgets_only_that_strategy(store: SqlStore) -> None:
    store.save_paper_state("alpha", [_balance("KRW", "1")], [_paper_order("o1", "wait")])
    store.save_paper_state("beta", [_balance("KRW", "2", "beta")],
                           [_paper_order("o1", "wait", "beta")])
    store.reset_paper_state("alpha")
    assert store.load_paper_state("alpha") == ([], [])
    assert store.load_paper_state("beta")[0] == [_balance("KRW", "2", "beta")]


def test_save_paper_state_refuses_rows_of_another_strategy(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="strategy 'beta'"):
        store.save_paper_state("alpha", [_balance("KRW", "1", "beta")], [])


# -- decision cache ----------------------------------------------------------------------
def test_cache_put_get_and_put_again(store: SqlStore) -> None:
    assert store.cache_get("k") is None
    store.cache_put("k", "gpt-4o-mini", '{"action": "HOLD"}')
    assert store.cache_get("k") == '{"action": "HOLD"}'
    store.cache_put("k", "gpt-4o-mini", '{"action": "BUY"}')
    assert store.cache_get("k") == '{"action": "BUY"}'
    assert count(store, "decision_cache") == 1
    with store.engine.connect() as conn:
        created = conn.execute(select(s.decision_cache.c.created_at)).scalar_one()
    assert created == datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)  # the injected clock


# -- TWAP --------------------------------------------------------------------------------
def test_twap_run_and_slices_upsert_and_load(store: SqlStore) -> None:
    assert store.load_twap_run("twap-1") is None
    assert store.load_twap_slices("twap-1") == []
    store.save_twap_run(sm.twap_run())
    store.save_twap_slice(sm.twap_slice(1))
    store.save_twap_slice(sm.twap_slice(0))
    running = sm.twap_run(status="running", filled_volume=Decimal("0.00697"),
                          arrival_price=Decimal("143500000"))
    store.save_twap_run(replace(running, updated_at=at(700)))
    sent = sm.twap_slice(0, status="filled", sent_at=at(10).astimezone(KST),
                         filled_funds=Decimal("999999.99"), note="filled in 2 trades")
    store.save_twap_slice(sent)
    assert store.load_twap_run("twap-1") == replace(running, updated_at=at(700))
    assert store.load_twap_slices("twap-1") == [sent, sm.twap_slice(1)]


def test_a_slice_needs_its_twap_run(store: SqlStore) -> None:
    with pytest.raises(StoreError):
        store.save_twap_slice(sm.twap_slice(0, "no-such-run"))


# -- time and JSON -----------------------------------------------------------------------
def test_datetimes_come_back_as_the_same_instant_in_utc(store: SqlStore) -> None:
    korean = datetime(2026, 3, 2, 18, 0, 0, 999999, tzinfo=KST)
    store.write([sm.run(), replace(sm.feature(), created_at=korean)])
    [stored] = sm.read_all(store, r.FeatureRecord)
    assert stored.created_at == korean
    assert stored.created_at.tzinfo == timezone.utc
    assert stored.created_at.hour == 9 and stored.created_at.microsecond == 999999


def test_naive_datetimes_are_refused(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="naive datetime"):
        store.write([replace(sm.run(), started_at=datetime(2026, 3, 2, 9))])
    assert count(store, "cron_runs") == 0


def test_json_payloads_round_trip_with_decimals_exact(store: SqlStore) -> None:
    payload = {
        "zeta": [Decimal("0.10000000000000000001"), Decimal("-5E+3"), 7, 1.5, None, True],
        "alpha": {"when": at(0).astimezone(KST), "why": "손절 stop", "tuple": ("a", "b")},
    }
    store.write([sm.run(), replace(sm.feature(), features_json=payload)])
    [stored] = sm.read_all(store, r.FeatureRecord)
    assert stored.features_json == {
        "alpha": {"tuple": ["a", "b"], "when": "2026-03-02T18:00:00.123456+09:00",
                  "why": "손절 stop"},
        "zeta": ["0.10000000000000000001", "-5000", 7, Decimal("1.5"), None, True],
    }
    with store.engine.connect() as conn:
        raw = conn.execute(text("SELECT features_json FROM cron_features")).scalar_one()
    assert raw.startswith('{"alpha":{"tuple":["a","b"],"when":')  # sorted keys, compact


def test_unserialisable_json_is_refused(store: SqlStore) -> None:
    with pytest.raises(StoreError, match="JSON"):
        store.write([sm.run(), replace(sm.feature(), features_json={"x": object()})])


# -- money in SQL ------------------------------------------------------------------------
def test_money_sum_adds_stored_amounts_exactly(store: SqlStore) -> None:
    store.save_order(sm.order())
    fees = ["0.1", "0.2", "0.000000000000000001", "99999999999999999999", "-0.3"]
    fills = [replace(sm.fill(f"t-{i}"), fee=Decimal(fee)) for i, fee in enumerate(fees)]
    store.save_fills_and_order(sm.order(), fills)
    total_fee = money_sum(s.fills.c.fee, store.dialect_name)
    with store.engine.connect() as conn:
        total = conn.execute(select(total_fee)).scalar_one()
        nothing = conn.execute(
            select(total_fee).where(s.fills.c.strategy == "nobody")).scalar_one()
    assert total == Decimal("99999999999999999999.000000000000000001")
    assert str(total) == "99999999999999999999.000000000000000001"
    assert nothing is None


def test_close_releases_the_engine(store: SqlStore) -> None:
    store.save_order(sm.order())
    store.close()
    assert store.get_order("coid-1") == sm.order()  # the pool reconnects when used again


def test_saving_an_unchanged_record_again_is_not_a_new_row(store: SqlStore) -> None:
    # MariaDB reports changed rows, not matched ones, unless told otherwise; an upsert
    # trusting the wrong count would insert a duplicate and fail here.
    store.write([sm.run()])
    for _ in range(2):
        store.update_run("run-1", r.RunUpdate(status="ok"))
        store.save_order(sm.order())
        store.save_twap_run(sm.twap_run())
        store.save_twap_slice(sm.twap_slice(0))
        store.cache_put("k", "m", "v")
        store.save_paper_state("alpha", [], [_paper_order("o1", "wait")])
    assert [count(store, t) for t in ("orders", "twap_slices", "decision_cache",
                                      "paper_orders")] == [1, 1, 1, 1]


def test_the_store_can_be_used_from_another_thread(store: SqlStore) -> None:
    store.save_order(sm.order())
    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(store.get_order("coid-1")))
    worker.start()
    worker.join()
    assert seen == [sm.order()]


def test_ids_and_names_are_case_sensitive_on_every_backend(store: SqlStore) -> None:
    store.save_order(sm.order("coid-a"))
    store.save_order(sm.order("COID-A", strategy="Alpha"))
    assert store.get_order("coid-a") == sm.order("coid-a")
    assert store.get_order("COID-A") == sm.order("COID-A", strategy="Alpha")
    assert [o.client_order_id for o in store.unsettled_orders("alpha", "dry")] == ["coid-a"]



def test_backtest_rows_never_set_live_baselines(store: SqlStore) -> None:
    store.write([sm.run("bt-run", mode="backtest", total_equity_krw=Decimal(1))])
    store.write([sm.run("live-run", mode="dry", started=1, total_equity_krw=Decimal(2))])
    assert store.first_equity_since("alpha", at(-86_400), "dry") == Decimal(2)
    order = replace(sm.order("bt-order", state="done", run_id="bt-run"), mode="backtest")
    store.save_order(order)
    backtest_fill = replace(sm.fill("t1", "bt-order"), run_id="bt-run", mode="backtest")
    store.save_fills_and_order(order, [backtest_fill])
    assert store.last_trade_at("alpha", "dry") is None
    assert store.last_trade_at("alpha", "backtest") is not None


def test_every_read_that_decides_sees_only_its_own_mode(store: SqlStore) -> None:
    # A dry run first (a paper wallet of 1,000,000), then live with 48,000,000.
    store.write([sm.run("dry-run", mode="dry", total_equity_krw=Decimal(1_000_000))])
    store.write([sm.run("live-run", mode="live", started=1,
                        total_equity_krw=Decimal(48_000_000))])
    assert store.first_equity_since("alpha", at(-86_400), "live") == Decimal(48_000_000)
    assert store.first_equity_since("alpha", at(-86_400), "dry") == Decimal(1_000_000)
    store.save_order(replace(sm.order("dry-open"), mode="dry"))
    assert store.unsettled_orders("alpha", "live") == []
    assert [o.client_order_id for o in store.unsettled_orders("alpha", "dry")] == ["dry-open"]
    guard = r.PositionGuardRecord(strategy="alpha", market="KRW-BTC", mode="dry",
                                  stop_loss_price=Decimal(1), take_profit_price=None,
                                  entry_price=None, run_id="dry-run", updated_at=at(0))
    store.save_guard(guard)
    assert store.load_guard("alpha", "KRW-BTC", "live") is None
    store.clear_guard("alpha", "KRW-BTC", "live")
    assert store.load_guard("alpha", "KRW-BTC", "dry") == guard
