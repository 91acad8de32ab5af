"""A v2 database (no request-record columns) is upgraded in place: old decisions become
primary (not shadow) rows without stored messages, and new rows carry the full record."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, MetaData, Table, create_engine, insert, select

from bithumb_llm_trader.store import SCHEMA_VERSION, metadata, open_store
from bithumb_llm_trader.store.upgrades import V3_COLUMNS

from .test_schema_race import fresh_url  # noqa: F401  (fixture)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


def v2_metadata() -> MetaData:
    """Today's tables as v2 had them: without the columns v3 added."""
    v2 = MetaData()
    for table in metadata.sorted_tables:
        columns: list[Column[object]] = [
            column._copy() for column in table.columns
            if column.name not in V3_COLUMNS.get(table.name, ())
        ]
        Table(table.name, v2, *columns)
    return v2


def test_a_v2_database_gains_the_request_record(fresh_url: str) -> None:  # noqa: F811
    engine = create_engine(fresh_url)
    v2 = v2_metadata()
    v2.create_all(engine)
    t = v2.tables
    common = {"request_id": "q1", "run_id": "r1", "strategy": "s", "created_at": T0}
    with engine.begin() as conn:
        conn.execute(insert(t["schema_version"]).values(version=2, applied_at=T0))
        conn.execute(insert(t["llm_decision_requests"]).values(
            **common, decider="llm", model="m", base_url=None, prompt_version="v",
            response_format="json_schema", system_prompt="sys", user_prompt="usr",
            prompt_hash="h"))
        conn.execute(insert(t["llm_signals"]).values(
            **common, action="hold", confidence=0, agent_intent="hold", payload_json="{}",
            raw_text=None, parse_errors_json="[]", hold_reason="timeout", attempts=3,
            latency_ms=1, prompt_tokens=0, completion_tokens=0, cost_usd=None,
            response_format=None, fallback_used=False, cached=False))
    engine.dispose()

    store = open_store(fresh_url)
    try:
        with store.engine.connect() as conn:
            versions = conn.execute(select(metadata.tables["schema_version"].c.version))
            assert max(versions.scalars()) == SCHEMA_VERSION == 3
            request = conn.execute(select(metadata.tables["llm_decision_requests"])).one()
            signal = conn.execute(select(metadata.tables["llm_signals"])).one()
        assert request.shadow is False or request.shadow == 0
        assert request.messages_json is None and request.candles_dropped == 0
        assert not signal.shadow and not signal.tokens_estimated and signal.http_json is None
    finally:
        store.close()
