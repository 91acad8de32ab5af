"""Opening a database: create, keep, upgrade, or refuse it untouched."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, insert, inspect, select, text

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.errors import StoreError
from bithumb_llm_trader.store import SCHEMA_VERSION, ensure_schema, metadata, open_store
from bithumb_llm_trader.store.schema import schema_version

OUR_TABLES = set(metadata.tables)


@pytest.fixture
def engine(empty_url: str) -> Iterator[Engine]:
    engine = create_engine(empty_url)
    yield engine
    engine.dispose()


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def versions(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(schema_version.c.version)
                                 .order_by(schema_version.c.version)).scalars())


def test_an_empty_database_gets_every_table_and_the_version(
    empty_url: str, engine: Engine, clock: ManualClock
) -> None:
    open_store(empty_url, clock=clock).close()
    assert tables(engine) == OUR_TABLES
    assert versions(engine) == [SCHEMA_VERSION]
    with engine.connect() as conn:
        applied = conn.execute(select(schema_version.c.applied_at)).scalar_one()
    assert applied == clock.now()
    assert {"cron_runs", "cron_positions", "cron_features", "llm_decision_requests",
            "llm_signals", "risk_verdicts", "allocation_proposals", "llm_executions",
            "orders", "fills", "twap_runs", "twap_slices", "paper_wallets", "paper_orders",
            "position_guards", "decision_cache", "schema_version"} == OUR_TABLES


def test_a_current_database_is_left_as_it_is(
    empty_url: str, engine: Engine, clock: ManualClock
) -> None:
    open_store(empty_url, clock=clock).close()
    clock.advance(60)
    open_store(empty_url, clock=clock).close()
    assert versions(engine) == [SCHEMA_VERSION]


def test_an_older_database_runs_the_registered_steps_in_order(
    empty_url: str, engine: Engine, clock: ManualClock
) -> None:
    open_store(empty_url, clock=clock).close()
    ran: list[int] = []

    def add_probe_table(conn: Connection) -> None:
        ran.append(SCHEMA_VERSION)
        conn.execute(text("CREATE TABLE upgrade_probe (id INTEGER PRIMARY KEY)"))

    def fill_probe_table(conn: Connection) -> None:
        ran.append(SCHEMA_VERSION + 1)
        conn.execute(text("INSERT INTO upgrade_probe (id) VALUES (7)"))

    target = SCHEMA_VERSION + 2
    found = ensure_schema(engine, clock=clock, label="test", target=target,
                          steps={SCHEMA_VERSION + 1: fill_probe_table,
                                 SCHEMA_VERSION: add_probe_table})
    assert found == target
    assert ran == [SCHEMA_VERSION, SCHEMA_VERSION + 1]
    assert versions(engine) == [SCHEMA_VERSION, SCHEMA_VERSION + 1, target]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM upgrade_probe")).scalar_one() == 7


def test_a_missing_step_refuses_before_changing_anything(
    empty_url: str, engine: Engine, clock: ManualClock
) -> None:
    open_store(empty_url, clock=clock).close()
    ran: list[int] = []
    with pytest.raises(StoreError, match=f"no upgrade step from v{SCHEMA_VERSION + 1}"):
        ensure_schema(engine, clock=clock, label="test", target=SCHEMA_VERSION + 2,
                      steps={SCHEMA_VERSION: lambda conn: ran.append(1)})
    assert ran == []
    assert versions(engine) == [SCHEMA_VERSION]


def test_a_failing_step_does_not_record_its_version(
    empty_url: str, engine: Engine, clock: ManualClock
) -> None:
    open_store(empty_url, clock=clock).close()

    def broken(conn: Connection) -> None:
        raise RuntimeError("step failed")

    with pytest.raises(RuntimeError):
        ensure_schema(engine, clock=clock, label="test", target=SCHEMA_VERSION + 1,
                      steps={SCHEMA_VERSION: broken})
    assert versions(engine) == [SCHEMA_VERSION]


def test_a_newer_database_is_refused(
    empty_url: str, engine: Engine, clock: ManualClock
) -> None:
    open_store(empty_url, clock=clock).close()
    with engine.begin() as conn:
        conn.execute(insert(schema_version).values(version=SCHEMA_VERSION + 1,
                                                   applied_at=clock.now()))
    with pytest.raises(StoreError) as caught:
        open_store(empty_url, clock=clock)
    assert str(caught.value).startswith(
        f"database schema v{SCHEMA_VERSION + 1} is newer than this bithumb-trader "
        f"(v{SCHEMA_VERSION}); upgrade the tool")


def test_another_tools_database_is_refused_and_left_untouched(
    empty_url: str, engine: Engine, clock: ManualClock
) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE legacy_trades (id INTEGER PRIMARY KEY)"))
        conn.execute(text("CREATE TABLE cron_runs (id INTEGER PRIMARY KEY, note TEXT)"))
    with pytest.raises(StoreError, match=r"is not a bithumb-trader database "
                                         r"\(found tables: cron_runs, legacy_trades\)"):
        open_store(empty_url, clock=clock)
    assert tables(engine) == {"cron_runs", "legacy_trades"}
    with engine.begin() as conn:  # cron_runs is ours by name only; drop it before teardown
        conn.execute(text("DROP TABLE cron_runs"))


def test_an_interrupted_creation_is_finished(
    empty_url: str, engine: Engine, clock: ManualClock
) -> None:
    with engine.begin() as conn:
        schema_version.create(conn)
        metadata.tables["orders"].create(conn)
    open_store(empty_url, clock=clock).close()
    assert tables(engine) == OUR_TABLES
    assert versions(engine) == [SCHEMA_VERSION]


def test_an_empty_version_table_beside_foreign_tables_is_refused(
    empty_url: str, engine: Engine, clock: ManualClock
) -> None:
    with engine.begin() as conn:
        schema_version.create(conn)
        conn.execute(text("CREATE TABLE legacy_trades (id INTEGER PRIMARY KEY)"))
    with pytest.raises(StoreError, match="legacy_trades"):
        open_store(empty_url, clock=clock)
    assert tables(engine) == {"schema_version", "legacy_trades"}
