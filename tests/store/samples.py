"""Records as one trading cycle would produce them, with awkward but valid values."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select

from bithumb_llm_trader import records as r
from bithumb_llm_trader.store import SqlStore
from bithumb_llm_trader.store.schema import RECORD_FIELDS, table_for

KST = timezone(timedelta(hours=9))
T0 = datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=timezone.utc)
"""A start time with microseconds, which MariaDB drops unless asked to keep them."""

T = TypeVar("T")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(run_id: str = "run-1", *, strategy: str = "alpha", started: float = 0, **kw: Any
        ) -> r.RunRecord:
    base = r.RunRecord(
        run_id=run_id, strategy=strategy, market="KRW-BTC", mode="dry", started_at=at(started),
    )
    return replace(base, **kw)


def position(run_id: str = "run-1") -> r.PositionRecord:
    return r.PositionRecord(
        run_id=run_id, strategy="alpha", created_at=at(1), currency="BTC",
        size=Decimal("0.00012345"), locked=Decimal(0), avg_price=Decimal("143250000"),
        price_krw=Decimal("143500000.5"), value_krw=Decimal("17715.07500617"),
        unrealized_pnl_krw=Decimal("-0.12345678"),
    )


def feature(run_id: str = "run-1") -> r.FeatureRecord:
    return r.FeatureRecord(
        run_id=run_id, strategy="alpha", created_at=at(1), market="KRW-BTC",
        last_price=Decimal("143500000"), best_bid=Decimal("143499000"),
        best_ask=Decimal("143501000"), spread_bps=Decimal("0.14"),
        features_json={"rsi": Decimal("55.123456789"), "ema": [Decimal("1.10"), 2],
                       "note": "상승 추세", "at": at(1)},
    )


def request(run_id: str = "run-1") -> r.DecisionRequestRecord:
    return r.DecisionRequestRecord(
        request_id="req-1", run_id=run_id, strategy="alpha", created_at=at(2), decider="llm",
        model="gpt-4o-mini", base_url="https://api.openai.com/v1", prompt_version="trade-v1",
        response_format="json_schema", system_prompt="You trade. " * 2000,
        user_prompt="시장 데이터 " * 3000, prompt_hash="ab" * 32,
    )


def signal(run_id: str = "run-1") -> r.SignalRecord:
    return r.SignalRecord(
        request_id="req-1", run_id=run_id, strategy="alpha", created_at=at(3), action="BUY",
        confidence=Decimal("0.75"), agent_intent="open", payload_json={"action": "BUY"},
        raw_text='{"action": "BUY"}', parse_errors_json=["first try: not JSON"],
        attempts=2, latency_ms=812, prompt_tokens=1500, completion_tokens=80,
        cost_usd=Decimal("0.000273"), fallback_used=False, cached=True,
    )


def verdict(run_id: str = "run-1") -> r.RiskVerdictRecord:
    return r.RiskVerdictRecord(
        run_id=run_id, strategy="alpha", created_at=at(4), action="BUY", approved=True,
        shrunk=False, reasons_json=[], trading_state="ACTIVE",
        stop_loss_price=Decimal("140630000"), take_profit_price=None,
    )


def allocation(run_id: str = "run-1") -> r.AllocationRecord:
    return r.AllocationRecord(
        run_id=run_id, strategy="alpha", created_at=at(5), side="bid",
        desired_notional=Decimal("100000"), final_notional=Decimal("50000"),
        volume=Decimal("0.00034843"), scale_factor=Decimal("0.5"),
        caps_hit_json=["max_trade_value"], expected_slippage_bps=Decimal("1.25"),
        fee_rate=Decimal("0.0004"), fee_estimate=Decimal("20"), use_twap=False,
        reference_price=Decimal("143500000"), equity_krw=Decimal("1000000"),
    )


def execution(run_id: str = "run-1") -> r.ExecutionRecord:
    return r.ExecutionRecord(
        execution_id="exe-1", run_id=run_id, strategy="alpha", created_at=at(7),
        agent_intent="open", action="BUY", side="bid", method="order", status="filled",
        dry_run=True, mode="dry", client_order_id="coid-1", requested_notional=Decimal("50000"),
        filled_volume=Decimal("0.00034843"), filled_funds=Decimal("49999.705"),
        avg_price=Decimal("143500000"), fee=Decimal("19.999882"),
        result_json={"fills": 1, "slippage_bps": Decimal("0.00")},
    )


def order(client_order_id: str = "coid-1", *, state: str = "pending", created: float = 6,
          strategy: str = "alpha", **kw: Any) -> r.OrderRecord:
    base = r.OrderRecord(
        client_order_id=client_order_id, run_id="run-1", strategy=strategy, market="KRW-BTC",
        side="bid", order_type="market", state=state, dry_run=True, mode="dry",
        created_at=at(created),
        updated_at=at(created), notional=Decimal("50000"),
    )
    return replace(base, **kw)


def fill(trade_id: str, client_order_id: str = "coid-1", *, created: float = 7,
         strategy: str = "alpha") -> r.FillRecord:
    return r.FillRecord(
        client_order_id=client_order_id, trade_id=trade_id, run_id="run-1", strategy=strategy,
        market="KRW-BTC", side="bid", price=Decimal("143500000"), volume=Decimal("0.0001"),
        funds=Decimal("14350"), fee=Decimal("5.74"), created_at=at(created), dry_run=True,
        mode="dry",
    )


def twap_run(twap_run_id: str = "twap-1", **kw: Any) -> r.TwapRunRecord:
    base = r.TwapRunRecord(
        twap_run_id=twap_run_id, strategy="alpha", market="KRW-BTC", side="bid",
        status="planned", dry_run=True, mode="dry", created_at=at(10), updated_at=at(10),
        duration_s=1800, slice_count=3, total_notional=Decimal("3000000"),
        params_json={"slices": 3},
    )
    return replace(base, **kw)


def twap_slice(slice_no: int, twap_run_id: str = "twap-1", **kw: Any) -> r.TwapSliceRecord:
    base = r.TwapSliceRecord(
        twap_run_id=twap_run_id, slice_no=slice_no, planned_at=at(10 + 600 * slice_no),
        status="planned", client_order_id=f"{twap_run_id}-{slice_no}",
        planned_notional=Decimal("1000000"),
    )
    return replace(base, **kw)


def cycle_batch(run_id: str = "run-1") -> list[Any]:
    """Everything ``Store.write`` takes, in an order the foreign keys would not allow."""
    return [
        fill("t-1"), order(), twap_slice(0), twap_run(), position(run_id), feature(run_id),
        request(run_id), signal(run_id), verdict(run_id), allocation(run_id),
        execution(run_id), run(run_id),
    ]


def read_all(store: SqlStore, record_type: type[T]) -> list[T]:
    """Every stored row of ``record_type``'s table, rebuilt, in insertion-ish order."""
    table = table_for(record_type)
    order_by = [table.c.id] if "id" in table.c else list(table.primary_key.columns)
    with store.engine.connect() as conn:
        rows = conn.execute(select(table).order_by(*order_by)).mappings().all()
    names = RECORD_FIELDS[record_type]
    return [record_type(**{name: row[name] for name in names}) for row in rows]


def json_form(value: Any) -> Any:
    """What a JSON payload looks like read back: Decimals and datetimes as strings."""
    if isinstance(value, dict):
        return {key: json_form(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_form(item) for item in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def with_json_as_read(record: T) -> T:
    """``record`` with each ``*_json`` field in the form it has after a round trip."""
    changes = {name: json_form(getattr(record, name))
               for name in RECORD_FIELDS[type(record)] if name.endswith("_json")}
    return replace(record, **changes)  # type: ignore[type-var]
