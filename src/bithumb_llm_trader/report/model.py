"""What a report holds: frozen sections of exact figures, per mode, per strategy and in total.

A report never adds up two modes: paper, live and backtest rows of one strategy are
different accounts, so each mode gets its own sections (``ModeReport``).

Every amount is a ``Decimal`` (never a float) and every count an ``int``; a figure
that cannot be computed (a mean of nothing) is ``None`` rather than a misleading zero.
The renderers (table, JSON, CSV, chart) only format these; nothing is recomputed there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from .period import Period

MODES = ("dry", "live", "backtest")
"""Run modes, in the order a report shows them."""
ACTIONS = ("buy", "sell", "hold")
"""Decision actions always listed."""


@dataclass(frozen=True, slots=True)
class RunSummary:
    """``cron_runs``: how many cycles ran and how they ended."""

    count: int
    failed: int
    by_status: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ActionSummary:
    count: int
    mean_confidence: Decimal | None


@dataclass(frozen=True, slots=True)
class DecisionSummary:
    """``llm_signals``: what the decider answered; HOLDs by why (``invalid_output``...)."""

    count: int
    mean_confidence: Decimal | None
    by_action: Mapping[str, ActionSummary]
    holds_by_reason: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class RiskSummary:
    """``risk_verdicts``: approved, shrunk, and rejected by machine-readable reason."""

    count: int
    approved: int
    shrunk: int
    rejected: int
    rejected_by_reason: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class AllocationSummary:
    """``allocation_proposals``: notional wanted versus allowed, and the caps that bit."""

    count: int
    desired_notional_krw: Decimal
    final_notional_krw: Decimal
    capped: int
    caps_hit: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class ExecutionSummary:
    """``llm_executions``, ``orders``, ``fills`` and ``twap_runs``: what was traded."""

    count: int
    by_status: Mapping[str, int]
    by_method: Mapping[str, int]
    attempted: int
    filled: int
    partial: int
    fill_rate: Decimal | None
    requested_notional_krw: Decimal
    filled_funds_krw: Decimal
    orders: int
    orders_by_state: Mapping[str, int]
    fills: int
    bought_volume: Decimal
    bought_funds_krw: Decimal
    sold_volume: Decimal
    sold_funds_krw: Decimal
    twap_runs: int
    twap_by_status: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class SlippageStats:
    """Signed slippage in bps, positive is worse; nearest-rank percentiles."""

    count: int
    mean_bps: Decimal | None
    p50_bps: Decimal | None
    p95_bps: Decimal | None
    worst_bps: Decimal | None


@dataclass(frozen=True, slots=True)
class SlippageSummary:
    single_vs_snapshot: SlippageStats
    single_vs_arrival: SlippageStats
    twap_vs_snapshot: SlippageStats
    twap_vs_arrival: SlippageStats


@dataclass(frozen=True, slots=True)
class FeeSummary:
    """Fees paid, from ``fills``, split by whether the order was a TWAP child."""

    paid_krw: Decimal
    single_krw: Decimal
    twap_krw: Decimal


@dataclass(frozen=True, slots=True)
class PnlSummary:
    """FIFO realised PnL of the period's sells, unrealised at the last snapshot price.

    Both are before fees (``net_krw`` subtracts the period's fees), rounded to 0.01 KRW.
    ``unmatched_sell_volume`` was sold without a recorded buy to match (e.g. coins the
    paper wallet started with) and is left out of ``realised_krw``.
    """

    realised_krw: Decimal
    unrealised_krw: Decimal
    fees_krw: Decimal
    net_krw: Decimal
    open_volume: Mapping[str, Decimal]
    last_price: Mapping[str, Decimal]
    unmatched_sell_volume: Decimal


@dataclass(frozen=True, slots=True)
class EquitySummary:
    """Equity from ``cron_runs.total_equity_krw`` over the period.

    ``max_drawdown_pct`` is a fraction (0.05 is 5%), the deepest fall from a running
    peak relative to that peak; ``max_drawdown_krw`` the deepest fall in KRW. Both are
    ``None`` in the total of several strategies, whose curves are not aligned in time.
    """

    samples: int
    start_krw: Decimal | None
    end_krw: Decimal | None
    change_krw: Decimal | None
    max_drawdown_krw: Decimal | None
    max_drawdown_pct: Decimal | None


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """Use of one model (or all): ``requests`` counts decisions, ``http_requests`` the
    HTTP requests they took (retries, repairs and format fallbacks included).
    ``cost_usd`` is ``None`` (unknown) when any decision's cost is unknown (a model
    without a price): an unknown cost must not look free; ``cost_unknown`` counts them.
    """

    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: Decimal | None
    mean_latency_ms: Decimal | None
    fallbacks_used: int
    cached: int
    http_requests: int = 0
    cost_unknown: int = 0
    shadow_decisions: int = 0


@dataclass(frozen=True, slots=True)
class ModelSummary:
    """Language-model use (decisions of the ``llm`` decider only), in total and by model."""

    total: ModelUsage
    by_model: Mapping[str, ModelUsage]


@dataclass(frozen=True, slots=True)
class Section:
    """Every figure of the report, for one strategy or for all of them."""

    runs: RunSummary
    decisions: DecisionSummary
    risk: RiskSummary
    allocations: AllocationSummary
    executions: ExecutionSummary
    slippage: SlippageSummary
    fees: FeeSummary
    pnl: PnlSummary
    equity: EquitySummary
    model: ModelSummary


@dataclass(frozen=True, slots=True)
class ChartData:
    """What the chart draws and the JSON leaves out: every slippage against arrival,
    per mode."""

    slippage_bps: Mapping[str, tuple[Decimal, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ModeReport:
    """The sections of one mode: per strategy, and in total over its strategies."""

    strategies: tuple[str, ...]
    total: Section
    by_strategy: Mapping[str, Section]


@dataclass(frozen=True, slots=True)
class BacktestChoice:
    """Which backtest of a strategy the report read (``report.backtests``).

    ``chosen`` is ``requested`` (``--backtest``), ``latest`` (the newest with rows in the
    period; ``recorded`` says how many the strategy has) or ``unrecorded``: backtest
    rows without a recorded result, read together (``backtest_id`` is then None).
    """

    backtest_id: str | None
    ran_at: datetime | None
    chosen: str
    recorded: int


@dataclass(frozen=True, slots=True)
class Report:
    """``by_mode`` holds the modes reported, in ``MODES`` order: the ones asked for, else
    every mode with rows in the period."""

    database: str
    generated_at: datetime
    period: Period
    strategies: tuple[str, ...]
    by_mode: Mapping[str, ModeReport]
    backtests: Mapping[str, BacktestChoice] = field(default_factory=dict)
    chart: ChartData = field(default_factory=ChartData, compare=False)

    @property
    def modes(self) -> tuple[str, ...]:
        return tuple(self.by_mode)

    def only_mode(self) -> ModeReport:
        """The sections of a report of one mode.

        Raises:
            ValueError: the report holds several modes (or none): there is no single
                total, as adding paper, live and backtest figures means nothing.
        """
        if len(self.by_mode) != 1:
            raise ValueError(f"the report holds {len(self.by_mode)} modes, not one")
        return next(iter(self.by_mode.values()))

    @property
    def total(self) -> Section:
        """The total of a report of one mode (``only_mode``)."""
        return self.only_mode().total

    @property
    def by_strategy(self) -> Mapping[str, Section]:
        """The strategies of a report of one mode (``only_mode``)."""
        return self.only_mode().by_strategy
