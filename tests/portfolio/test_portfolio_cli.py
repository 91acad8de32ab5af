"""`bithumb-trader portfolio` end to end: CLI, stand-in Bithumb, mocked model, SQLite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import yaml
from typer.testing import CliRunner

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.main import app
from bithumb_llm_trader.store import open_store

from ..cli.test_run_cli import table_rows
from ..standin import chat_completion
from .helpers import START, D
from .standin_multi import MultiMarketStandIn, placed_orders
from .test_commitments_and_recovery import twap

OPENAI_KEY = "sk-test-openai-key-do-not-print-0123456789"
BITHUMB_KEY = "bithumb-access-key-do-not-print-0123456789"
BITHUMB_SECRET = "bithumb-secret-do-not-print-0123456789abcdef"


def decision(action: str) -> dict[str, Any]:
    intent = {"buy": "enter_long", "sell": "exit", "hold": "hold"}[action]
    return {"action": action, "confidence": 0.8, "risk_pct": 0.01 if action == "buy" else 0,
            "stop_loss_pct": None, "take_profit_pct": None, "order_type": "market",
            "limit_price": None, "agent_intent": intent, "rationale": "test"}


def strategy_file(directory: Path, name: str, *, coin: str = "BTC", role: str = "BUYER",
                  suffix: str = "json", **overrides: Any) -> Path:
    data: dict[str, Any] = {
        "name": name,
        "trading_pair": {"order_currency": coin},
        "strategy": {"decider": "llm", "candle_count": 60, "instructions": f"ROLE:{role}"},
        "risk": {"max_trade_value": 300000, "kill_switch_file": str(directory / f"KILL_{name}")},
        "paper": {"initial_balances": {"KRW": 1000000}},
        "database": {"url": f"sqlite:///{directory / 'portfolio.db'}"},
        "logging": {"file": None},
    }
    data.update(overrides)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{name}.{suffix}"
    if suffix == "json":
        target.write_text(json.dumps(data), encoding="utf-8")
    else:
        target.write_text(yaml.safe_dump(data), encoding="utf-8")
    return target


def invoke(args: list[str], standin: MultiMarketStandIn, clock: ManualClock) -> Any:
    return CliRunner().invoke(app, ["portfolio", *args],
                              obj={"transport": standin.transport(), "clock": clock})


def stand_in(**balances: str) -> tuple[MultiMarketStandIn, ManualClock]:
    clock = ManualClock(START)
    return MultiMarketStandIn(now=START, clock=clock.now,
                              balances=balances or {"KRW": "3000000"}), clock


def scripted_model(respx_mock: respx.MockRouter) -> dict[str, int]:
    """BUYERs always buy; the SELLER buys in its first cycle and sells after."""
    calls = {"BUYER": 0, "SELLER": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        body = request.content.decode("utf-8")
        role = "SELLER" if "ROLE:SELLER" in body else "BUYER"
        calls[role] += 1
        action = "sell" if role == "SELLER" and calls[role] > 1 else "buy"
        return httpx.Response(200, json=chat_completion(json.dumps(decision(action))))

    respx_mock.post("https://api.openai.com/v1/chat/completions").mock(side_effect=answer)
    return calls


def test_a_directory_runs_all_and_isolates_a_bad_file(workdir: Path) -> None:
    strategies = workdir / "strategies"
    for name, coin in (("alpha", "BTC"), ("beta", "BTC"), ("gamma", "ETH")):
        strategy_file(strategies, name, coin=coin,
                      strategy={"decider": "rules", "candle_count": 60})
    (strategies / "broken.json").write_text('{"name": "broken", "risk": {"min_confidence": 7}}',
                                            encoding="utf-8")
    standin, clock = stand_in()
    result = invoke([str(strategies), "--json"], standin, clock)
    assert result.exit_code == 1, result.output  # a strategy failed: the run says so
    out = json.loads(result.stdout)
    assert out["mode"] == "dry" and out["status"] == "partial"
    status = {s["strategy"]: s["status"] for s in out["strategies"]}
    assert status == {"alpha": "ok", "beta": "ok", "gamma": "ok", "broken": "failed"}
    broken = next(s for s in out["strategies"] if s["strategy"] == "broken")
    assert "risk.min_confidence" in broken["error"]
    assert out["equity_krw"] == "2250000"  # 3 x 1,000,000 paper; the broken 25% unowned
    assert out["unallocated_krw"] == "750000"
    assert any("dry run" in note for note in out["notes"])
    assert standin.order_posts == 0
    assert result.stderr == ""


def test_a_portfolio_file_nets_opposite_orders_over_two_cycles(workdir: Path) -> None:
    with respx.mock(assert_all_called=True) as respx_mock:
        calls = scripted_model(respx_mock)
        files = workdir / "s"
        strategy_file(files, "a")
        strategy_file(files, "b", role="SELLER", suffix="yaml")
        strategy_file(files, "c", coin="ETH")
        (workdir / "portfolio.yaml").write_text(
            "name: fund\nstrategies:\n  - {file: s/a.json, weight: 0.4}\n"
            "  - {file: s/b.yaml, weight: 0.4}\n  - {file: s/c.json, weight: 0.2}\n"
            f"kill_switch_file: {workdir / 'FUND_KILL'}\n"
            "paper_initial_balances: {KRW: 5000000}\n", encoding="utf-8")
        standin, clock = stand_in()
        result = invoke([str(workdir / "portfolio.yaml"), "--every", "15m", "--max-cycles",
                         "2", "--json", "--openai-api-key", OPENAI_KEY], standin, clock)
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert calls == {"BUYER": 4, "SELLER": 2}
    assert clock.sleeps == [900.0]
    btc = next(n for n in first["netting"] if n["market"] == "KRW-BTC")
    assert btc["active_side"] == "buy" and len(btc["shares"]) == 2  # a and b: one order
    btc = next(n for n in second["netting"] if n["market"] == "KRW-BTC")
    assert D(btc["cross_volume"]) > 0  # b's sell crossed a's buy inside
    assert {s["strategy"] for s in btc["shares"]} == {"a", "b"}
    b = next(s for s in second["strategies"] if s["strategy"] == "b")
    assert b["positions"] == [] and b["cycle"]["execution"]["status"] == "filled"
    tables = table_rows(workdir / "s" / "portfolio.db")
    netted = [o for o in tables["orders"] if o["strategy"] == "fund"]
    assert len(netted) == 4  # two markets, two cycles: never one per strategy
    assert len([o for o in tables["orders"] if o["strategy"] != "fund"]) == 6
    assert {r["strategy"] for r in tables["cron_runs"]} == {"a", "b", "c", "fund"}
    assert standin.order_posts == 0


def test_live_sends_netted_orders_and_keeps_secrets(workdir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BITHUMB_API_KEY", BITHUMB_KEY)
    monkeypatch.setenv("BITHUMB_API_SECRET", BITHUMB_SECRET)
    with respx.mock as respx_mock:
        scripted_model(respx_mock)
        files = workdir / "live"
        strategy_file(files, "a", dry_run=False)
        strategy_file(files, "b", dry_run=False)
        strategy_file(files, "c", coin="ETH", dry_run=False)
        standin, clock = stand_in(KRW="3000000")
        result = invoke([str(files), "--live", "--openai-api-key", OPENAI_KEY, "-vv"],
                        standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["mode"] == "live"
    bodies = placed_orders(standin)
    assert sorted(b["market"] for b in bodies) == ["KRW-BTC", "KRW-ETH"]
    assert all(b["client_order_id"].startswith("btr-n-") for b in bodies)
    haystacks = [result.stdout, result.stderr]
    for rows in table_rows(files / "portfolio.db").values():
        haystacks.extend(str(value) for row in rows for value in row.values())
    for secret in (OPENAI_KEY, BITHUMB_KEY, BITHUMB_SECRET):
        assert not any(secret in hay for hay in haystacks), "a secret leaked"


@pytest.mark.parametrize(("setup", "args", "message"), [
    ("duplicate", [], "used by both"),
    ("overweight", [], "sum to 1.2"),
    ("directory", ["--frobnicate"], "unexpected arguments"),
    ("directory", ["--every", "0s"], "--every"),
    ("directory", ["--max-cycles", "0"], "--max-cycles"),
    ("live_without_keys", ["--live"], "API keys"),
    ("missing", [], "no such file"),
])
def test_bad_input_exits_2_in_one_line(workdir: Path, setup: str, args: list[str],
                                       message: str) -> None:
    target = workdir / "p"
    if setup == "duplicate":
        strategy_file(target, "same")
        strategy_file(target, "same", suffix="yaml")
    elif setup == "overweight":
        strategy_file(workdir, "a")
        strategy_file(workdir, "b")
        target = workdir / "p.json"
        target.write_text(json.dumps({"strategies": [{"file": "a.json", "weight": 0.6},
                                                     {"file": "b.json", "weight": 0.6}]}),
                          encoding="utf-8")
    elif setup in ("directory", "live_without_keys"):
        strategy_file(target, "a", dry_run=setup == "directory")
    standin, clock = stand_in()
    result = invoke([str(target), *args], standin, clock)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert standin.requests == []


def test_running_twaps_are_read_from_the_database(workdir: Path) -> None:
    store = open_store(f"sqlite:///{workdir / 't.db'}")
    for run in (twap("r1", "x"), twap("p1", "y", status="planned"),
                twap("d1", "z", status="done"), twap("l1", "x", dry_run=False)):
        store.save_twap_run(run)
    assert sorted(r.twap_run_id for r in store.active_twap_runs("dry")) == ["p1", "r1"]
    assert [r.twap_run_id for r in store.active_twap_runs("live")] == ["l1"]
    store.close()
