"""A v1 database (no ``mode`` on orders, fills, executions, TWAP runs, guards) is upgraded
in place on every backend, each row given the mode of the run that wrote it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Column, MetaData, Table, create_engine, insert, select

from bithumb_llm_trader.store import SCHEMA_VERSION, metadata, open_store
from bithumb_llm_trader.store.upgrades import V3_COLUMNS

from .test_schema_race import fresh_url  # noqa: F401  (fixture)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
NEW_MODE = {"orders", "fills", "llm_executions", "twap_runs", "position_guards"}


def v1_metadata() -> MetaData:
    """Today's tables as v1 had them: without the ``mode`` columns v2 added."""
    v1 = MetaData()
    for table in metadata.sorted_tables:
        columns: list[Column[object]] = [
            column._copy() for column in table.columns
            if not (column.name == "mode" and table.name in NEW_MODE)
            and column.name not in V3_COLUMNS.get(table.name, ())
        ]
        Table(table.name, v1, *columns)
    return v1


def test_a_v1_database_is_upgraded_with_each_rows_mode(fresh_url: str,  # noqa: F811
                                                        tmp_path: Path) -> None:
    engine = create_engine(fresh_url)
    v1 = v1_metadata()
    v1.create_all(engine)
    t = v1.tables
    order = {"run_id": "", "strategy": "s", "market": "KRW-BTC", "side": "bid",
             "order_type": "market", "state": "done", "created_at": T0, "updated_at": T0,
             "executed_volume": 0, "executed_funds": 0, "paid_fee": 0}
    with engine.begin() as conn:
        conn.execute(insert(t["schema_version"]).values(version=1, applied_at=T0))
        conn.execute(insert(t["cron_runs"]), [
            {"run_id": run, "strategy": "s", "market": "KRW-BTC", "mode": mode,
             "started_at": T0, "status": "ok"}
            for run, mode in (("r-dry", "dry"), ("r-live", "live"), ("r-bt", "backtest"))])
        conn.execute(insert(t["orders"]), [
            {**order, "client_order_id": "o-dry", "run_id": "r-dry", "dry_run": True},
            {**order, "client_order_id": "o-live", "run_id": "r-live", "dry_run": False},
            {**order, "client_order_id": "o-bt", "run_id": "r-bt", "dry_run": True}])
        conn.execute(insert(t["position_guards"]).values(
            strategy="s", market="KRW-BTC", stop_loss_price=1, take_profit_price=2,
            entry_price=1, run_id="r-live", updated_at=T0))
    engine.dispose()

    store = open_store(fresh_url)
    try:
        modes = {o: store.get_order(o).mode for o in ("o-dry", "o-live", "o-bt")}  # type: ignore[union-attr]
        assert modes == {"o-dry": "dry", "o-live": "live", "o-bt": "backtest"}
        assert store.load_guard("s", "KRW-BTC", "live") is not None
        assert store.load_guard("s", "KRW-BTC", "dry") is None
        with store.engine.connect() as conn:
            versions = conn.execute(select(metadata.tables["schema_version"].c.version))
            assert max(versions.scalars()) == SCHEMA_VERSION == 3
    finally:
        store.close()
