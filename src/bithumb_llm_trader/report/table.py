"""The report as rich tables, laid out to read well in a 100-column terminal.

Small tables side by side rather than one wide one: each fits in about 50 columns,
and a grid puts two on a line. Amounts are printed exactly, with thousands separators
(``1,234,567.5``), never rounded for display; several strategies add a comparison
table with one column per strategy. Each mode is printed under its own heading, with
its own total: paper, live and backtest figures are never added up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal

from rich import box
from rich.console import Console, Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..store.types import plain_decimal_text
from .model import BacktestChoice, ModelUsage, ModeReport, Report, Section, SlippageStats
from .stats import ratio

DASH = "-"
TOP = 6
"""Reasons and caps shown per table; the JSON has all of them."""
MODE_TITLES = {"dry": "Paper trading", "live": "Live trading", "backtest": "Backtest"}


def render_table(report: Report, console: Console) -> None:
    """Print the whole report: the header, then per mode its heading, the sections of
    its total and the comparison of its strategies."""
    console.print(header(report))
    if not report.by_mode:
        console.print(Text("\nnothing recorded in this period"))
    for mode, part in report.by_mode.items():
        console.print()
        console.print(Rule(mode_heading(mode, part), align="left", style="bold"))
        console.print(section_view(part.total))
        if len(part.strategies) > 1:
            console.print()
            console.print(comparison(part))


def mode_heading(mode: str, part: ModeReport) -> Text:
    names = ", ".join(part.strategies) or "none"
    return Text(f"{MODE_TITLES.get(mode, mode)} (mode {mode}): {names}", style="bold")


def header(report: Report) -> Text:
    start = report.period.start.isoformat() if report.period.start else "the first run"
    end = report.period.end.isoformat() if report.period.end else report.generated_at.isoformat()
    names = ", ".join(report.strategies) or "none in this period"
    text = Text()
    text.append("bithumb-trader report", style="bold")
    text.append(f"  {report.database}\n")
    text.append(f"period: {start} .. {end} (UTC)\nstrategies: {names}")
    text.append(f"\nmodes: {', '.join(report.modes) or 'none in this period'}")
    for strategy, choice in report.backtests.items():
        text.append(f"\nbacktest of {strategy}: {backtest_note(choice)}")
    return text


def backtest_note(choice: BacktestChoice) -> str:
    """Which backtest a strategy's backtest figures are of, in words."""
    if choice.backtest_id is None:
        return "rows without a recorded backtest result, read together"
    ran = choice.ran_at.isoformat() if choice.ran_at else "?"
    text = f"{choice.backtest_id} (ran {ran})"
    if choice.chosen == "latest" and choice.recorded > 1:
        text += f", the latest of {choice.recorded}"
    return text


def krw(value: Decimal | None) -> str:
    """An amount, exact, with thousands separators; ``-`` when there is none."""
    return DASH if value is None else format(Decimal(plain_decimal_text(value)), ",f")


def number(value: Decimal | int | None) -> str:
    if value is None:
        return DASH
    return f"{value:,}" if isinstance(value, int) else plain_decimal_text(value)


def percent(fraction: Decimal | None) -> str:
    return DASH if fraction is None else plain_decimal_text(fraction * 100) + "%"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False, min_width=len(title) + 2)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    return table


def _pairs(title: str, rows: Iterable[tuple[str, str]]) -> Table:
    table = _table(title, "", "")
    table.show_header = False
    for label, value in rows:
        table.add_row(label, value)
    return table


def _counts(title: str, label: str, counts: Mapping[str, int]) -> Table:
    table = _table(title, label, "count")
    shown = list(counts.items())
    for name, count in shown[:TOP]:
        table.add_row(name, number(count))
    if len(shown) > TOP:
        table.add_row(f"{len(shown) - TOP} more", number(sum(c for _, c in shown[TOP:])))
    if not shown:
        table.add_row("none", "0")
    return table


def _side_by_side(*tables: RenderableType) -> Table:
    grid = Table.grid(padding=(0, 4))
    grid.add_row(*tables)
    return grid


def section_view(section: Section) -> Group:
    """Every section of one strategy, or of the total, as a group of tables."""
    parts: list[RenderableType] = [
        _side_by_side(_runs(section), _decisions(section)),
        _side_by_side(_counts("HOLD reasons", "reason", section.decisions.holds_by_reason),
                      _risk(section)),
        _side_by_side(_allocations(section), _counts("Caps that bit", "cap",
                                                     section.allocations.caps_hit)),
        _side_by_side(_executions(section), _counts("Executions by status", "status",
                                                    section.executions.by_status)),
        _slippage(section),
        _side_by_side(_pnl(section), _equity(section)),
        _model(section),
    ]
    spaced: list[RenderableType] = []
    for part in parts:
        spaced += [Text(""), part]
    return Group(*spaced)


def _runs(section: Section) -> Table:
    runs = section.runs
    rows = [("runs", number(runs.count)), ("failed", number(runs.failed))]
    return _pairs("Runs", rows)


def _decisions(section: Section) -> Table:
    decisions = section.decisions
    table = _table("Decisions", "action", "count", "mean confidence")
    for action, summary in decisions.by_action.items():
        table.add_row(action, number(summary.count), number(summary.mean_confidence))
    table.add_row("all", number(decisions.count), number(decisions.mean_confidence),
                  style="bold")
    return table


def _risk(section: Section) -> Group:
    risk = section.risk
    verdicts = _pairs("Risk verdicts", [
        ("verdicts", number(risk.count)), ("approved", number(risk.approved)),
        ("  of which shrunk", number(risk.shrunk)), ("rejected", number(risk.rejected)),
    ])
    return Group(verdicts, _counts("Rejected by reason", "reason", risk.rejected_by_reason))


def _allocations(section: Section) -> Table:
    allocations = section.allocations
    share = ratio(allocations.final_notional_krw, allocations.desired_notional_krw)
    return _pairs("Allocations", [
        ("proposals", number(allocations.count)),
        ("desired KRW", krw(allocations.desired_notional_krw)),
        ("final KRW", krw(allocations.final_notional_krw)),
        ("final / desired", percent(share)),
        ("capped", number(allocations.capped)),
    ])


def _executions(section: Section) -> Table:
    ex = section.executions
    return _pairs("Executions", [
        ("orders sent (decisions)", number(ex.attempted)),
        ("filled / partial", f"{number(ex.filled)} / {number(ex.partial)}"),
        ("fill rate", percent(ex.fill_rate)),
        ("requested KRW", krw(ex.requested_notional_krw)),
        ("filled KRW", krw(ex.filled_funds_krw)),
        ("orders / fills", f"{number(ex.orders)} / {number(ex.fills)}"),
        ("bought / sold volume", f"{number(ex.bought_volume)} / {number(ex.sold_volume)}"),
        ("TWAP runs", number(ex.twap_runs)),
    ])


def _slippage(section: Section) -> Table:
    table = _table("Slippage (bps, positive is worse)", "", "n", "mean", "p50", "p95", "worst")
    s = section.slippage
    rows: Sequence[tuple[str, SlippageStats]] = (
        ("single orders vs snapshot", s.single_vs_snapshot),
        ("single orders vs arrival", s.single_vs_arrival),
        ("TWAPs vs snapshot", s.twap_vs_snapshot),
        ("TWAPs vs arrival", s.twap_vs_arrival),
    )
    for label, stats in rows:
        table.add_row(label, number(stats.count), number(stats.mean_bps),
                      number(stats.p50_bps), number(stats.p95_bps), number(stats.worst_bps))
    return table


def _pnl(section: Section) -> Table:
    pnl, fees = section.pnl, section.fees
    rows = [
        ("fees paid KRW", krw(fees.paid_krw)),
        ("  single / TWAP", f"{krw(fees.single_krw)} / {krw(fees.twap_krw)}"),
        ("realised PnL KRW (FIFO)", krw(pnl.realised_krw)),
        ("unrealised PnL KRW", krw(pnl.unrealised_krw)),
        ("net PnL KRW (after fees)", krw(pnl.net_krw)),
    ]
    rows += [(f"open {market}", number(volume)) for market, volume in pnl.open_volume.items()]
    rows += [(f"last price {market}", krw(price)) for market, price in pnl.last_price.items()]
    if pnl.unmatched_sell_volume:
        rows.append(("sold without a recorded buy", number(pnl.unmatched_sell_volume)))
    return _pairs("Fees and PnL", rows)


def _equity(section: Section) -> Table:
    equity = section.equity
    return _pairs("Equity", [
        ("start KRW", krw(equity.start_krw)), ("end KRW", krw(equity.end_krw)),
        ("change KRW", krw(equity.change_krw)),
        ("max drawdown KRW", krw(equity.max_drawdown_krw)),
        ("max drawdown", percent(equity.max_drawdown_pct)),
        ("samples", number(equity.samples)),
    ])


def _model(section: Section) -> Table:
    table = _table("Model usage", "model", "decisions", "HTTP", "in tok", "out tok",
                   "cost USD", "mean ms", "fallbacks", "cached")
    rows = [*section.model.by_model.items()]
    if len(rows) != 1:
        rows.append(("all", section.model.total))
    for name, usage in rows:
        table.add_row(name, *_usage_cells(usage))
    return table


def _usage_cells(usage: ModelUsage) -> list[str]:
    return [number(usage.requests), number(usage.http_requests), number(usage.prompt_tokens),
            number(usage.completion_tokens), _cost(usage),
            number(usage.mean_latency_ms), number(usage.fallbacks_used), number(usage.cached)]


def _cost(usage: ModelUsage) -> str:
    """The cost, or "unknown" (never 0) when a decision's model has no price."""
    return "unknown" if usage.cost_usd is None else number(usage.cost_usd)


def comparison(report: ModeReport) -> Table:
    """Key figures of one mode side by side, one column per strategy and one for the
    total."""
    names = list(report.strategies)
    table = _table("By strategy", "", *names, "total")
    sections = [report.by_strategy[name] for name in names] + [report.total]
    lines: list[tuple[str, Callable[[Section], str]]] = [
        ("runs / failed", lambda s: f"{number(s.runs.count)} / {number(s.runs.failed)}"),
        ("decisions", lambda s: number(s.decisions.count)),
        ("rejected", lambda s: number(s.risk.rejected)),
        ("orders sent", lambda s: number(s.executions.attempted)),
        ("fill rate", lambda s: percent(s.executions.fill_rate)),
        ("slippage p50 bps", lambda s: number(s.slippage.single_vs_arrival.p50_bps)),
        ("fees KRW", lambda s: krw(s.fees.paid_krw)),
        ("realised KRW", lambda s: krw(s.pnl.realised_krw)),
        ("unrealised KRW", lambda s: krw(s.pnl.unrealised_krw)),
        ("equity end KRW", lambda s: krw(s.equity.end_krw)),
        ("max drawdown", lambda s: percent(s.equity.max_drawdown_pct)),
        ("model cost USD", lambda s: _cost(s.model.total)),
    ]
    for label, cell in lines:
        table.add_row(label, *(cell(section) for section in sections))
    return table
