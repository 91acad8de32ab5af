"""`bithumb-trader backtest` end to end: files in, JSON out, a result row stored."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from typer.testing import CliRunner

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.main import app
from bithumb_llm_trader.store import open_store

from .helpers import MINUTE_FILE, UTC, candle_rows, rows, shared, walk_prices, write_csv

LLM_URL = "https://llm.test/v1"
SAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "config.sample.json"
HOLD_ANSWER = {"action": "hold", "agent_intent": "hold", "confidence": 0.5, "risk_pct": 0,
               "stop_loss_pct": None, "take_profit_pct": None, "order_type": "market",
               "limit_price": None, "rationale": "nothing to do"}


def strategy_file(path: Path, **overrides: Any) -> Path:
    data: dict[str, Any] = {
        "name": "cli-bt",
        # The rules from before costs were weighed (issue 22): these tests need trades.
        "strategy": {"decider": "rules", "candle_interval": "1m",
                     "rules": {"cost_filter": False, "min_hold": "0s",
                               "reentry_cooldown": "0s"}},
        "risk": {"kill_switch_file": None},
        "database": {"url": f"sqlite:///{path / 'bt.db'}"},
    }
    data.update(overrides)
    target = path / "strategy.json"
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


def invoke(*args: str) -> Any:
    clock = ManualClock(datetime(2026, 1, 2, tzinfo=UTC))
    return CliRunner().invoke(app, ["backtest", *args], obj={"clock": clock})


def test_a_backtest_prints_json_and_stores_its_result(workdir: Path) -> None:
    data = write_csv(workdir / "upbit_candles.csv", candle_rows(walk_prices(120)))
    result = invoke(str(strategy_file(workdir)), "--data", str(data))

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["kind"] == "backtest" and document["strategy"] == "cli-bt"
    assert document["data"]["source_exchange"] == "upbit"
    assert "stand" in document["data"]["note"]  # Upbit data stands in for Bithumb's
    assert document["cycles"]["decision_cycles"] == 119
    for key in ("total_return", "max_drawdown", "sharpe", "sortino", "trades", "win_rate",
                "exposure", "fees_krw", "model_cost_usd", "buy_and_hold_return"):
        assert key in document["results"]
    assert "backtest cli-bt KRW-BTC on upbit data" in result.stderr  # the summary table

    store = open_store(f"sqlite:///{workdir / 'bt.db'}")
    (summary,) = [r for r in rows(store, "cron_runs") if r["run_id"] == document["backtest_id"]]
    assert summary["mode"] == "backtest" and summary["status"] == "ok"
    stored = summary["result_json"]  # read back with every fraction as a Decimal
    assert stored["results"]["total_return"] == document["results"]["total_return"]
    assert stored["results"]["sharpe"] == Decimal(str(document["results"]["sharpe"]))
    assert summary["started_at"] == datetime(2026, 1, 2, tzinfo=UTC)  # when it ran


def test_json_only_records_and_the_window_options(workdir: Path) -> None:
    data = write_csv(workdir / "c.csv", candle_rows(walk_prices(30)))
    result = invoke(str(strategy_file(workdir)), "--data", str(data), "--json",
                    "--records", "none", "--from", "2025-09-01T00:10:00",
                    "--to", "2025-09-01T09:20:00+09:00", "--decide-every", "5m",
                    "--db", f"sqlite:///{workdir / 'other.db'}")

    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert document["window"] == {"start": "2025-09-01T00:10:00+00:00",
                                  "end": "2025-09-01T00:20:00+00:00"}
    assert document["cycles"]["decision_cycles"] == 1  # 00:15; 00:20's next is outside
    assert document["settings"]["records"] == "none"
    store = open_store(f"sqlite:///{workdir / 'other.db'}")
    assert [r["run_id"] for r in rows(store, "cron_runs")] == [document["backtest_id"]]


@pytest.mark.parametrize(("args", "message"), [
    (["--records", "some"], "--records must be one of"),
    (["--decider", "oracle"], "--decider must be rules or llm"),
    (["--from", "yesterday"], "--from must be an ISO date"),
    (["--decide-every", "soon"], "--decide-every"),
    (["--surprise"], "unexpected arguments"),
    (["--decider", "llm"], "needs an OpenAI key"),
])
def test_bad_options_exit_2_with_one_line(workdir: Path, args: list[str], message: str) -> None:
    data = write_csv(workdir / "c.csv", candle_rows(walk_prices(5)))
    result = invoke(str(strategy_file(workdir)), "--data", str(data), *args)

    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_a_missing_data_file_is_a_usage_error(workdir: Path) -> None:
    result = invoke(str(strategy_file(workdir)), "--data", str(workdir / "none.csv"))
    assert result.exit_code == 2 and "cannot read candle file" in result.stderr


@respx.mock
def test_an_llm_backtest_run_twice_asks_the_model_only_the_first_time(workdir: Path) -> None:
    answer = {"id": "c", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
              "choices": [{"index": 0, "finish_reason": "stop", "message": {
                  "role": "assistant", "content": json.dumps(HOLD_ANSWER)}}],
              "usage": {"prompt_tokens": 1000, "completion_tokens": 50, "total_tokens": 1050}}
    route = respx.post(f"{LLM_URL}/chat/completions").mock(
        return_value=httpx.Response(200, json=answer))
    config = strategy_file(workdir, strategy={"decider": "llm", "candle_interval": "1m"},
                           llm={"base_url": LLM_URL, "knowledge_cutoff": "2025-10-01"})
    data = write_csv(workdir / "c.csv", candle_rows(walk_prices(6)))
    args = (str(config), "--data", str(data), "--openai-api-key", "sk-test-key-0123456789")

    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert route.call_count == 5  # one question per decision
    first_doc = json.loads(first.stdout)
    assert first_doc["decisions"]["model_requests"] == 5
    assert first_doc["results"]["model_cost_usd"] == "0.00090000"  # 5 x 1,000 in + 50 out
    assert any("knowledge cutoff 2025-10-01" in w for w in first_doc["warnings"])
    assert "may know the outcome" in first.stderr

    second = invoke(*args)
    assert second.exit_code == 0, second.output
    assert route.call_count == 5  # the rerun is answered from the decision cache
    decisions = json.loads(second.stdout)["decisions"]
    assert (decisions["cached_decisions"], decisions["model_requests"]) == (5, 0)
    assert json.loads(second.stdout)["results"]["model_cost_usd"] == "0"
    assert "sk-test-key" not in first.output + second.output


def test_the_sample_config_runs_on_the_real_minute_file(workdir: Path) -> None:
    data = shared(MINUTE_FILE)
    result = invoke(str(SAMPLE_CONFIG), "--data", str(data), "--decider", "rules",
                    "--db", f"sqlite:///{workdir / 'real.db'}", "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["data"]["candles_read"] == 47_598
    assert document["data"]["gaps"] == 2
    assert document["data"]["source_exchange"] == "upbit"
    assert document["cycles"]["decision_cycles"] == 3_173  # every 15 minutes
    assert document["cycles"]["failed_cycles"] == 0
    assert document["results"]["trades"] > 0
