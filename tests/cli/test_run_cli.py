"""`bithumb-trader run` end to end: CLI, stand-in Bithumb, mocked model, SQLite."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import create_engine, inspect, text
from typer.testing import CliRunner

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.main import app, legacy_argv

from ..standin import ORDER_PATHS, BithumbStandIn, chat_completion

START = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
OPENAI_KEY = "sk-test-openai-key-do-not-print-0123456789"
BITHUMB_KEY = "bithumb-access-key-do-not-print-0123456789"
BITHUMB_SECRET = "bithumb-secret-do-not-print-0123456789abcdef"
BUY = {"action": "buy", "confidence": 0.8, "risk_pct": 0.01, "stop_loss_pct": 0.02,
       "take_profit_pct": 0.04, "order_type": "market", "limit_price": None,
       "agent_intent": "enter_long", "rationale": "trend up, RSI moderate"}


def write_config(path: Path, file_name: str = "strategy.json", **overrides: Any) -> Path:
    data: dict[str, Any] = {
        "name": "cli-e2e",
        "dry_run": True,
        "strategy": {"decider": "llm", "candle_interval": "15m", "candle_count": 60},
        "risk": {"max_trade_value": 100000, "kill_switch_file": str(path / "KILL")},
        "paper": {"initial_balances": {"KRW": 1000000}},
        "database": {"url": f"sqlite:///{path / 'cli.db'}"},
    }
    data.update(overrides)
    target = path / file_name
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


def invoke(args: list[str], standin: BithumbStandIn, clock: ManualClock) -> Any:
    runner = CliRunner()
    return runner.invoke(app, args, obj={"transport": standin.transport(), "clock": clock})


def table_rows(db: Path) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        tables = inspect(connection).get_table_names()
        return {t: [dict(r._mapping) for r in connection.execute(text(f"SELECT * FROM {t}"))]
                for t in tables}


def stand_in() -> tuple[BithumbStandIn, ManualClock]:
    clock = ManualClock(START)
    return BithumbStandIn(now=START, clock=clock.now), clock


@respx.mock(assert_all_called=True)
def test_run_dry_cycle_with_the_model(workdir: Path, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://api.openai.com/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=chat_completion(json.dumps(BUY))))
    standin, clock = stand_in()
    config = write_config(workdir)
    result = invoke(["run", str(config), "--openai-api-key", OPENAI_KEY], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "ok" and out["mode"] == "dry"
    assert out["decision"]["action"] == "buy" and out["decision"]["decider"] == "llm"
    assert out["execution"]["status"] == "filled"
    assert any("dry run" in note for note in out["notes"])
    assert route.called
    sent = json.loads(route.calls.last.request.content)
    assert sent["model"] == "gpt-4o-mini"
    assert sent["response_format"]["type"] == "json_schema"
    assert standin.order_posts == 0
    tables = table_rows(workdir / "cli.db")
    for table in ("cron_runs", "cron_positions", "cron_features", "llm_decision_requests",
                  "llm_signals", "allocation_proposals", "risk_verdicts", "llm_executions",
                  "orders", "fills"):
        assert tables[table], f"{table} is empty"
    assert tables["cron_runs"][0]["run_id"] == out["run_id"]
    signal = tables["llm_signals"][0]
    assert signal["prompt_tokens"] == 900 and Decimal(signal["cost_usd"]) > 0
    assert tables["llm_decision_requests"][0]["base_url"] == "https://api.openai.com/v1"
    assert "summary" not in result.stdout  # the rich summary goes to stderr
    assert "decision" in result.stderr


def test_run_every_three_cycles_on_a_fake_clock(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir, strategy={"decider": "rules", "candle_count": 60})
    result = invoke(["run", str(config), "--every", "15m", "--max-cycles", "3", "--json"],
                    standin, clock)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    starts = [datetime.fromisoformat(line["started_at"]) for line in lines]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(starts)] == [900.0, 900.0]
    assert clock.sleeps == [900.0, 900.0]
    assert len(table_rows(workdir / "cli.db")["cron_runs"]) == 3
    assert result.stderr == ""  # --json: nothing but JSON


def test_without_an_openai_key_a_dry_run_uses_rules(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir)
    result = invoke(["run", str(config)], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert any("rule-based" in note for note in out["notes"])
    assert out["decision"]["decider"] == "rules"


def test_live_needs_the_flag_the_file_and_keys(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir, dry_run=False)
    # dry_run: false without --live stays dry and says so
    result = invoke(["run", str(config), "--json"], standin, clock)
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["mode"] == "dry"
    assert any("--live was not given" in note for note in out["notes"])
    # --live with dry_run: true stays dry
    dry = write_config(workdir, "dry.json", dry_run=True)
    out = json.loads(invoke(["run", str(dry), "--live", "--json"], standin, clock).stdout)
    assert out["mode"] == "dry"
    # --live and dry_run: false, but no keys: refused before any connection
    refused = invoke(["run", str(config), "--live"], standin, clock)
    assert refused.exit_code == 2
    assert "API keys" in refused.stderr
    assert not any(r.url.path in ORDER_PATHS for r in standin.requests)


def test_live_with_rules_sends_one_real_order(workdir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    standin, clock = stand_in()
    monkeypatch.setenv("BITHUMB_API_KEY", BITHUMB_KEY)
    monkeypatch.setenv("BITHUMB_API_SECRET", BITHUMB_SECRET)
    config = write_config(workdir, dry_run=False,
                          strategy={"decider": "rules", "candle_count": 60})
    result = invoke(["run", str(config), "--live", "--json"], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mode"] == "live"
    assert standin.count("GET", "/v1/accounts") == 1
    assert standin.order_posts == (1 if out["execution"]["method"] == "order" else 0)


@respx.mock
def test_secrets_never_appear_anywhere(workdir: Path, respx_mock: respx.MockRouter,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    respx_mock.post("https://api.openai.com/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=chat_completion(json.dumps(BUY))))
    monkeypatch.setenv("BITHUMB_API_KEY", BITHUMB_KEY)
    monkeypatch.setenv("BITHUMB_API_SECRET", BITHUMB_SECRET)
    standin, clock = stand_in()
    config = write_config(workdir)
    result = invoke(["run", str(config), "-vv", "--openai-api-key", OPENAI_KEY], standin, clock)
    assert result.exit_code == 0, result.output
    haystacks = [result.stdout, result.stderr]
    log_file = workdir / "logs" / "bithumb-trader.log"
    assert log_file.is_file()
    haystacks.append(log_file.read_text(encoding="utf-8"))
    for rows in table_rows(workdir / "cli.db").values():
        haystacks.extend(str(value) for row in rows for value in row.values())
    for secret in (OPENAI_KEY, BITHUMB_KEY, BITHUMB_SECRET):
        assert not any(secret in hay for hay in haystacks), "a secret leaked"
    # The dry run read the account's real fees with the keys, but never posted an order.
    assert standin.count("GET", "/v1/orders/chance") == 1
    assert not any(r.method in ("POST", "DELETE") for r in standin.requests)


def test_config_errors_exit_2_in_one_line(workdir: Path) -> None:
    standin, clock = stand_in()
    bad = workdir / "bad.json"
    bad.write_text('{"risk": {"min_confidence": 7}}', encoding="utf-8")
    result = invoke(["run", str(bad)], standin, clock)
    assert result.exit_code == 2
    assert "risk.min_confidence" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2
    validate = CliRunner().invoke(app, ["validate", str(bad)])
    assert validate.exit_code == 2 and "risk.min_confidence" in validate.stderr


def test_unreachable_exchange_fails_the_run_cleanly(workdir: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("name resolution failed", request=request)

    config = write_config(workdir, strategy={"decider": "rules"})
    clock = ManualClock(START)
    result = CliRunner().invoke(app, ["run", str(config), "--json"],
                                obj={"transport": httpx.MockTransport(refuse), "clock": clock})
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["status"] == "failed" and "NetworkError" in out["error"]
    assert "Traceback" not in result.output


def test_legacy_command_form() -> None:
    assert legacy_argv(["cfg.json", "--verbose"]) == ["run", "cfg.json", "--verbose"]
    assert legacy_argv(["run", "cfg.json"]) == ["run", "cfg.json"]
    assert legacy_argv(["--help"]) == ["--help"]


def test_validate_the_samples() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    for suffix in ("json", "yaml", "toml"):
        result = CliRunner().invoke(app, ["validate", str(examples / f"config.sample.{suffix}")])
        assert result.exit_code == 0, result.output
        assert "KRW-BTC" in result.stdout


def test_an_interrupted_run_exits_130_without_a_traceback(workdir: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import asyncio

    from bithumb_llm_trader.engine import TradingEngine

    async def cancelled(self: TradingEngine) -> None:
        raise asyncio.CancelledError

    monkeypatch.setattr(TradingEngine, "run_cycle", cancelled)
    standin, clock = stand_in()
    config = write_config(workdir, strategy={"decider": "rules"})
    result = invoke(["run", str(config), "--json"], standin, clock)
    assert result.exit_code == 130
    assert "interrupted" in result.stderr and "Traceback" not in result.output
