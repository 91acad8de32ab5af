"""``report --models`` (issue 18): a primary and a shadow model compared on the same
cycles; shadow decisions are recorded but never traded nor counted as decisions; a
model without a price shows its cost as unknown, not 0."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.decision import DecisionOutcome, TradeDecision
from bithumb_llm_trader.main import app
from bithumb_llm_trader.report import Scope, build_report, open_report_source, parse_period
from bithumb_llm_trader.report.models import compare_models, comparisons
from bithumb_llm_trader.store import open_store

from .conftest import NOW
from .helpers import START, llm, trader

HOLD = TradeDecision.hold("quiet market")


def _shadow(outcome: DecisionOutcome, model: str = "smollm2") -> DecisionOutcome:
    return dataclasses.replace(outcome, model=model, shadow=True, cost_usd=None,
                               base_url="http://127.0.0.1:8089/v1")


@pytest.fixture(scope="module")
def models_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Four dry cycles of one strategy, each with a shadow: the shadow agrees twice,
    fails once (invalid output) and differs once; it has no price."""
    tmp_path = tmp_path_factory.mktemp("models")
    url = f"sqlite:///{tmp_path / 'models.db'}"
    clock = ManualClock(START)
    store = open_store(url, clock=clock)
    alpha = trader(Path(tmp_path), store, clock, "alpha")
    primary = llm(HOLD)
    invalid = llm(TradeDecision.hold("invalid_output: x"), hold_reason="invalid_output")
    differs = llm(TradeDecision(action="buy", confidence=0.6, risk_pct=0.01,
                                agent_intent="enter_long"))
    shadows = [_shadow(primary), _shadow(primary), _shadow(invalid), _shadow(differs)]

    async def run() -> None:
        for shadow in shadows:
            await alpha.cycle(dataclasses.replace(
                primary, shadows=(dataclasses.replace(shadow, attempts=2),)))
            clock.advance(900)

    try:
        asyncio.run(run())
    finally:
        store.close()
    return url


def _scope() -> Scope:
    return Scope(period=parse_period(since=None, start=None, end=None, now=NOW))


def test_the_comparison_per_model(models_db: str) -> None:
    source = open_report_source(models_db)
    try:
        primary, shadow = compare_models(source, _scope())
    finally:
        source.close()
    assert (primary.model, primary.role, primary.decisions) == ("gpt-4o-mini", "primary", 4)
    assert primary.valid_rate == 1 and primary.agreement is None
    assert primary.cost_usd is not None and primary.cost_usd > 0
    assert (shadow.model, shadow.role, shadow.decisions) == ("smollm2", "shadow", 4)
    assert shadow.valid == 3  # the invalid_output HOLD is no valid decision
    assert (shadow.compared, shadow.agreed) == (4, 3)  # two holds and the invalid HOLD
    assert shadow.agreement is not None and float(shadow.agreement) == 0.75
    assert shadow.http_requests == 8
    assert shadow.cost_usd is None  # no price: unknown, never 0
    assert shadow.mean_latency_ms is not None


def test_shadow_decisions_are_not_counted_as_decisions(models_db: str) -> None:
    source = open_report_source(models_db)
    try:
        report = build_report(source, _scope(), now=NOW)
    finally:
        source.close()
    section = report.by_mode["dry"].by_strategy["alpha"]
    assert section.decisions.count == 4  # the primary's only
    usage = section.model
    assert usage.by_model["smollm2"].shadow_decisions == 4
    assert usage.by_model["smollm2"].cost_usd is None
    assert usage.by_model["smollm2"].http_requests == 8
    assert usage.total.cost_usd is None  # one unknown cost makes the total unknown
    assert usage.total.requests == 8 and usage.total.http_requests == 12


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(app, ["report", *args], obj={"clock": ManualClock(NOW)})


def test_report_models_prints_the_comparison(models_db: str) -> None:
    result = _invoke(["--db", models_db, "--models"])
    assert result.exit_code == 0, result.output
    assert "Models (primary and shadow)" in result.stdout
    assert "smollm2" in result.stdout and "75.0%" in result.stdout
    assert "unknown" in result.stdout

    as_json = _invoke(["--db", models_db, "--models", "--format", "json"])
    assert as_json.exit_code == 0, as_json.output
    models = json.loads(as_json.stdout)["models"]
    assert [m["role"] for m in models] == ["primary", "shadow"]
    assert models[1]["cost_usd"] is None and float(models[1]["agreement"]) == 0.75
    # the primary held throughout: flat, no change; the shadow bought once, on its last cycle
    assert (float(models[0]["signal_return"]), models[0]["switches"]) == (0.0, 0)
    assert (float(models[1]["signal_return"]), models[1]["switches"]) == (0.0, 1)


def test_the_usual_report_shows_unknown_cost(models_db: str) -> None:
    result = _invoke(["--db", models_db])
    assert result.exit_code == 0, result.output
    assert "unknown" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


def test_models_refuses_csv(models_db: str) -> None:
    result = _invoke(["--db", models_db, "--models", "--format", "csv"])
    assert result.exit_code == 2


def _row(run: str, model: str, shadow: bool, action: str, price: str | None,
         strategy: str = "alpha", mode: str = "dry") -> tuple[Any, ...]:
    """A ``model_rows_stmt`` row: only what the signal return reads is not a filler."""
    return (run, model, shadow, action, None, 0, 0, None, 0, 1, False, None, strategy,
            None if price is None else Decimal(price), mode)


def test_the_signal_return_follows_each_models_decisions_alike() -> None:
    rows = [  # the primary buys at 100 and sells at 120; the shadow buys at 110, holds on
        _row("r1", "big", False, "buy", "100"), _row("r1", "small", True, "hold", "100"),
        _row("r2", "big", False, "hold", "110"), _row("r2", "small", True, "buy", "110"),
        _row("r3", "big", False, "sell", "120"), _row("r3", "small", True, "buy", "120"),
        _row("r4", "big", False, "hold", None), _row("r4", "small", True, "hold", None),
        _row("r5", "big", False, "sell", "90"), _row("r5", "small", True, "hold", "90"),
    ]
    primary, shadow = comparisons(rows)
    assert (primary.signal_return, primary.switches) == (Decimal("0.2"), 2)  # 100 -> 120
    # long from 110 to 90 (a second buy adds nothing, a cycle with no price marks nothing)
    assert shadow.switches == 1
    assert shadow.signal_return == Decimal("-0.181818")  # 90 / 110 - 1, to 6 places


def test_the_signal_return_of_several_strategies_is_their_mean() -> None:
    rows = [_row("a1", "m", False, "buy", "100", "a"), _row("a2", "m", False, "hold", "110", "a"),
            _row("b1", "m", False, "hold", "50", "b"), _row("b2", "m", False, "hold", "60", "b")]
    (only,) = comparisons(rows)
    assert only.signal_return == Decimal("0.05")  # (+10% + 0%) / 2
    assert comparisons([_row("a1", "m", False, "buy", None)])[0].signal_return is None


def test_a_dry_run_and_a_live_run_are_followed_apart() -> None:
    """The same strategy in two modes: a dry cycle's price never marks the live position."""
    rows = [_row("d1", "m", False, "buy", "100", mode="dry"),
            _row("l1", "m", False, "hold", "200", mode="live"),
            _row("d2", "m", False, "hold", "110", mode="dry"),
            _row("l2", "m", False, "hold", "100", mode="live")]
    (only,) = comparisons(rows)
    assert only.signal_return == Decimal("0.05")  # dry +10%, live flat: their mean
