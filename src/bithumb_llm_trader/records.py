"""Rows the trading core hands to the store, one dataclass per table.

The core builds these and the ``Store`` port writes them; neither side needs the
other's types. Each record names its table in ``TABLE``. Money fields are ``Decimal``;
``*_json`` payloads are plain dicts or lists whose numbers are Decimals or ints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from .fast_init import fast_init

JsonDict = dict[str, Any]

PORTFOLIO_MARKET = "*"
"""The market a portfolio records on its own ``cron_runs`` rows: it trades all of its
members' markets, and its rows aggregate theirs (reports leave them out of totals)."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    """One cycle of one strategy (``cron_runs``); updated in place as it proceeds."""

    TABLE: ClassVar[str] = "cron_runs"
    run_id: str
    strategy: str
    market: str
    mode: str  # "dry", "live" or "backtest"
    started_at: datetime
    status: str = "running"  # running, ok, failed
    finished_at: datetime | None = None
    total_equity_krw: Decimal | None = None
    reserved_pool_krw: Decimal | None = None
    cash_krw: Decimal | None = None
    position_value_krw: Decimal | None = None
    last_price: Decimal | None = None
    trading_state: str | None = None
    error: str | None = None
    result_json: JsonDict | None = None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RunUpdate:
    """Fields of a ``cron_runs`` row to change; ``None`` leaves a field as it is."""

    status: str | None = None
    finished_at: datetime | None = None
    total_equity_krw: Decimal | None = None
    reserved_pool_krw: Decimal | None = None
    cash_krw: Decimal | None = None
    position_value_krw: Decimal | None = None
    last_price: Decimal | None = None
    trading_state: str | None = None
    error: str | None = None
    result_json: JsonDict | None = None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PositionRecord:
    """A holding seen at the start of a cycle (``cron_positions``)."""

    TABLE: ClassVar[str] = "cron_positions"
    run_id: str
    strategy: str
    created_at: datetime
    currency: str
    size: Decimal
    locked: Decimal
    avg_price: Decimal
    price_krw: Decimal | None  # None: no KRW market, left out of equity
    value_krw: Decimal | None
    unrealized_pnl_krw: Decimal | None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureRecord:
    """Market features the decision saw (``cron_features``)."""

    TABLE: ClassVar[str] = "cron_features"
    run_id: str
    strategy: str
    created_at: datetime
    market: str
    last_price: Decimal
    best_bid: Decimal | None
    best_ask: Decimal | None
    spread_bps: Decimal | None
    features_json: JsonDict


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRequestRecord:
    """What was asked of the decider (``llm_decision_requests``)."""

    TABLE: ClassVar[str] = "llm_decision_requests"
    request_id: str
    run_id: str
    strategy: str
    created_at: datetime
    decider: str  # "llm" or "rules"
    model: str | None
    base_url: str | None  # never with credentials in it
    prompt_version: str
    response_format: str | None
    system_prompt: str  # as sent (schema text of a fallback format included)
    user_prompt: str  # as sent (fewer candles when shrunk to fit the context)
    prompt_hash: str
    shadow: bool = False  # a shadow model's request: recorded, never traded
    server_kind: str | None = None
    messages_json: list[Any] | None = None  # every message sent, per response format
    prompt_candles: int | None = None
    candles_dropped: int = 0
    estimated_tokens: int | None = None
    context_tokens: int | None = None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SignalRecord:
    """What the decider answered and what it cost (``llm_signals``)."""

    TABLE: ClassVar[str] = "llm_signals"
    request_id: str
    run_id: str
    strategy: str
    created_at: datetime
    action: str
    confidence: Decimal
    agent_intent: str
    payload_json: JsonDict  # the validated decision (HOLD on any fault)
    raw_text: str | None
    parse_errors_json: list[str] = field(default_factory=list)
    hold_reason: str | None = None
    attempts: int = 1
    latency_ms: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: Decimal | None = None
    response_format: str | None = None
    fallback_used: bool = False
    cached: bool = False
    shadow: bool = False
    http_json: list[Any] | None = None  # per HTTP request: status, latency, tokens, answer
    tokens_estimated: bool = False  # some tokens are estimates (abandoned requests)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RiskVerdictRecord:
    """The risk manager's verdict on a decision (``risk_verdicts``)."""

    TABLE: ClassVar[str] = "risk_verdicts"
    run_id: str
    strategy: str
    created_at: datetime
    action: str
    approved: bool
    shrunk: bool
    reasons_json: list[str]
    trading_state: str
    stop_loss_price: Decimal | None
    take_profit_price: Decimal | None
    details_json: JsonDict = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AllocationRecord:
    """How an approved trade was sized (``allocation_proposals``)."""

    TABLE: ClassVar[str] = "allocation_proposals"
    run_id: str
    strategy: str
    created_at: datetime
    side: str
    desired_notional: Decimal
    final_notional: Decimal
    volume: Decimal
    scale_factor: Decimal
    caps_hit_json: list[str]
    expected_slippage_bps: Decimal | None
    fee_rate: Decimal
    fee_estimate: Decimal
    use_twap: bool
    reference_price: Decimal
    equity_krw: Decimal
    reason: str | None = None  # why there is no order, when there is none
    details_json: JsonDict = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionRecord:
    """What execution did with a proposal (``llm_executions``)."""

    TABLE: ClassVar[str] = "llm_executions"
    execution_id: str
    run_id: str
    strategy: str
    created_at: datetime
    agent_intent: str
    action: str
    side: str | None
    method: str  # "order", "twap" or "none"
    status: str  # filled, partial, open, skipped, rejected, failed, unknown
    dry_run: bool
    mode: str  # dry, live or backtest (``domain.Mode``)
    client_order_id: str | None = None
    twap_run_id: str | None = None
    requested_notional: Decimal | None = None
    requested_volume: Decimal | None = None
    filled_volume: Decimal = Decimal(0)
    filled_funds: Decimal = Decimal(0)
    avg_price: Decimal | None = None
    fee: Decimal = Decimal(0)
    reference_price: Decimal | None = None  # the decision's snapshot price
    arrival_price: Decimal | None = None  # best opposite quote when sending
    slippage_bps: Decimal | None = None  # versus arrival, signed: positive is worse
    result_json: JsonDict = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    """An order as we know it (``orders``); saved before it is sent, then updated."""

    TABLE: ClassVar[str] = "orders"
    client_order_id: str
    run_id: str
    strategy: str
    market: str
    side: str
    order_type: str
    state: str
    dry_run: bool
    mode: str
    created_at: datetime
    updated_at: datetime
    order_id: str | None = None
    price: Decimal | None = None
    volume: Decimal | None = None
    notional: Decimal | None = None
    executed_volume: Decimal = Decimal(0)
    executed_funds: Decimal = Decimal(0)
    paid_fee: Decimal = Decimal(0)
    twap_run_id: str | None = None
    slice_no: int | None = None
    error: str | None = None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class FillRecord:
    """One execution of an order (``fills``); unique per (client_order_id, trade_id)."""

    TABLE: ClassVar[str] = "fills"
    client_order_id: str
    trade_id: str
    run_id: str
    strategy: str
    market: str
    side: str
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal
    created_at: datetime
    dry_run: bool
    mode: str


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class TwapRunRecord:
    """A parent TWAP order (``twap_runs``)."""

    TABLE: ClassVar[str] = "twap_runs"
    twap_run_id: str
    strategy: str
    market: str
    side: str
    status: str  # planned, running, stopped, done, incomplete, refused, failed
    dry_run: bool
    mode: str
    created_at: datetime
    updated_at: datetime
    duration_s: int
    slice_count: int
    run_id: str | None = None
    total_notional: Decimal | None = None
    total_volume: Decimal | None = None
    limit_price: Decimal | None = None
    max_slippage_bps: Decimal | None = None
    arrival_price: Decimal | None = None
    filled_volume: Decimal = Decimal(0)
    filled_funds: Decimal = Decimal(0)
    avg_price: Decimal | None = None
    slippage_bps: Decimal | None = None
    fees: Decimal = Decimal(0)
    error: str | None = None
    params_json: JsonDict = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class TwapSliceRecord:
    """One planned child of a TWAP (``twap_slices``), unique per (twap_run_id, slice_no)."""

    TABLE: ClassVar[str] = "twap_slices"
    twap_run_id: str
    slice_no: int
    planned_at: datetime
    status: str  # planned, sent, filled, partial, skipped, failed
    client_order_id: str
    planned_notional: Decimal | None = None
    planned_volume: Decimal | None = None
    sent_at: datetime | None = None
    filled_volume: Decimal = Decimal(0)
    filled_funds: Decimal = Decimal(0)
    avg_price: Decimal | None = None
    fee: Decimal = Decimal(0)
    slippage_bps: Decimal | None = None
    note: str | None = None


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PaperBalanceRecord:
    """One currency of a strategy's paper wallet (``paper_wallets``)."""

    TABLE: ClassVar[str] = "paper_wallets"
    strategy: str
    currency: str
    balance: Decimal
    locked: Decimal
    avg_buy_price: Decimal
    updated_at: datetime


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PaperOrderRecord:
    """An order of the paper exchange (``paper_orders``), so it can be looked up later."""

    TABLE: ClassVar[str] = "paper_orders"
    strategy: str
    order_id: str
    client_order_id: str
    state: str
    updated_at: datetime
    order_json: JsonDict


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PositionGuardRecord:
    """Stop-loss and take-profit prices protecting an open position (``position_guards``)."""

    TABLE: ClassVar[str] = "position_guards"
    strategy: str
    market: str
    mode: str  # a dry run's stops never fire a live sell, nor the other way round
    stop_loss_price: Decimal | None
    take_profit_price: Decimal | None
    entry_price: Decimal | None
    run_id: str
    updated_at: datetime


Record = (
    RunRecord
    | PositionRecord
    | FeatureRecord
    | DecisionRequestRecord
    | SignalRecord
    | RiskVerdictRecord
    | AllocationRecord
    | ExecutionRecord
    | OrderRecord
    | FillRecord
    | TwapRunRecord
    | TwapSliceRecord
)
"""Records that are only ever inserted, in batches, through ``Store.write``."""
