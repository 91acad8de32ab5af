"""`bithumb-trader twap` end to end: CLI, stand-in Bithumb market data, fake clock, SQLite."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bithumb_llm_trader.bootstrap import build_runtime, twap_executor
from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.config import load_config
from bithumb_llm_trader.domain import Side
from bithumb_llm_trader.main import app
from bithumb_llm_trader.store import open_store
from bithumb_llm_trader.twap import TwapParams

from ..standin import BithumbStandIn
from .helpers import START, Gateway, PowerCut

D = Decimal
KEY = "bithumb-access-key-do-not-print-0123456789"
SECRET = "bithumb-secret-do-not-print-0123456789abcdef"


def write_config(path: Path, name: str = "strategy.json", **overrides: Any) -> Path:
    data: dict[str, Any] = {
        "name": "twap-cli",
        "twap": {"duration": "4m", "slices": 4},
        "allocation": {"max_slippage_bps": 25},
        # Caps wide enough for these TWAPs; test_gate_paths.py tests the gate's refusals.
        "risk": {"max_trade_value": 50_000_000, "max_position_krw": 500_000_000},
        "paper": {"initial_balances": {"KRW": 10_000_000, "BTC": 1}},
        "database": {"url": f"sqlite:///{path / 'twap.db'}"},
    }
    data.update(overrides)
    target = path / name
    target.write_text(json.dumps(data), encoding="utf-8")
    return target


def stand_in() -> tuple[BithumbStandIn, ManualClock]:
    clock = ManualClock(START)
    return BithumbStandIn(now=START, clock=clock.now), clock


def invoke(args: list[str], standin: BithumbStandIn, clock: ManualClock) -> Any:
    return CliRunner().invoke(app, ["twap", *args],
                              obj={"transport": standin.transport(), "clock": clock})


def test_dry_twap_end_to_end(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir)
    result = invoke([str(config), "--side", "buy", "--notional", "1000000", "--duration",
                     "10m", "--slices", "10", "--no-log-file"], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "done" and out["mode"] == "dry"
    assert out["slices_sent"] == 10 and D(out["remaining"]) < 10
    assert D(out["filled_funds"]) + D(out["remaining"]) == D(1_000_000)
    assert out["arrival_price"] == "100000000"
    assert out["guard_price"] == "100250000"  # allocation.max_slippage_bps 25 as fallback
    assert any("dry run" in note for note in out["notes"])
    assert "TWAP" in result.stderr and "KRW" in result.stderr  # the progress bar
    assert "slip" in result.stderr
    assert standin.order_posts == 0  # dry: the paper exchange filled everything
    assert clock.now() == START + timedelta(minutes=9)
    tables = {t: rows_of(workdir, t) for t in ("twap_runs", "twap_slices", "orders")}
    assert tables["twap_runs"][0]["status"] == "done"
    assert len(tables["twap_slices"]) == 10 and len(tables["orders"]) == 10
    assert {o["twap_run_id"] for o in tables["orders"]} == {out["twap_run_id"]}


def test_defaults_come_from_the_twap_section(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir)
    result = invoke([str(config), "--side", "sell", "--volume", "0.004", "--json",
                     "--no-log-file"], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["slices_planned"] == 4 and out["unit"] == "volume"
    assert out["filled_volume"] == "0.004"
    assert clock.now() == START + timedelta(minutes=3)  # 4 slices over 4 minutes
    assert result.stderr == ""  # --json: nothing but JSON


@pytest.mark.parametrize(("args", "message"), [
    (["--side", "buy"], "exactly one of --notional"),
    (["--side", "buy", "--notional", "100000", "--volume", "1"], "exactly one of --notional"),
    (["--side", "hold", "--notional", "100000"], "--side must be buy or sell"),
    (["--notional", "100000"], "--side must be buy or sell"),
    (["--side", "buy", "--notional", "100000", "--slices", "2", "--interval", "1m"],
     "not both"),
    (["--side", "buy", "--notional", "100000.5"], "whole won"),
    (["--side", "buy", "--notional", "abc"], "not a number"),
    (["--side", "buy", "--notional", "100000", "--duration", "soon"], "--duration"),
    (["--side", "buy", "--notional", "100000", "--jitter", "0.9"], "jitter"),
    (["--side", "buy", "--notional", "4000"], "below the minimum order"),
    (["--side", "buy", "--notional", "100000", "--slices", "0"], "1 to 1000 slices"),
    (["--side", "buy", "--notional", "100000", "--duration", "7d", "--interval", "1s"],
     "1 to 1000 slices"),
    (["--side", "buy", "--notional", "100000", "--limit-price", "-5"], "limit price"),
    (["--side", "buy", "--notional", "100000", "--extra"], "unexpected arguments"),
])
def test_bad_arguments_exit_2_with_a_clear_message(workdir: Path, args: list[str],
                                                   message: str) -> None:
    standin, clock = stand_in()
    config = write_config(workdir)
    result = invoke([str(config), *args, "--no-log-file"], standin, clock)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_resume_errors_exit_2(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir)
    no_db = invoke(["--resume", "0123456789ab", str(config), "--no-log-file"], standin, clock)
    assert no_db.exit_code == 2 and "no database at" in no_db.stderr
    assert not (workdir / "twap.db").exists()  # the failed lookup created nothing
    open_store(f"sqlite:///{workdir / 'twap.db'}").close()
    unknown = invoke(["--resume", "0123456789ab", str(config), "--no-log-file"], standin, clock)
    assert unknown.exit_code == 2 and "no TWAP run" in unknown.stderr
    no_config = invoke(["--resume", "0123456789ab", "--db", f"sqlite:///{workdir / 'x.db'}",
                        "--no-log-file"], standin, clock)
    assert no_config.exit_code == 2 and "no database at" in no_config.stderr
    assert not (workdir / "x.db").exists()
    mixed = invoke(["--resume", "0123456789ab", "--side", "buy"], standin, clock)
    assert mixed.exit_code == 2 and "drop --side" in mixed.stderr
    missing = invoke(["--side", "buy", "--notional", "100000"], standin, clock)
    assert missing.exit_code == 2 and "strategy file" in missing.stderr


async def crash_during_slice_3(config_path: Path, standin: BithumbStandIn,
                               clock: ManualClock) -> Gateway:
    """A first process runs the TWAP through the same wiring and dies at slice 3."""
    config = load_config(str(config_path))
    runtime = build_runtime(config, clock=clock, transport=standin.transport())
    gateway = Gateway(runtime.exchange, clock)  # type: ignore[arg-type]
    gateway.faults[3] = "crash_before"
    executor = twap_executor(config, exchange=gateway, store=runtime.store, clock=clock,  # type: ignore[arg-type]
                             mode=runtime.mode)
    try:
        with pytest.raises(PowerCut):
            await executor.run(TwapParams.from_config(config, side=Side.BUY,
                                                      notional=D(400_000)))
    finally:
        await runtime.aclose()
    return gateway


@pytest.mark.parametrize("with_config", [True, False])
def test_resume_after_a_crash_sends_only_the_unsent_slices(
    workdir: Path, with_config: bool,
) -> None:
    standin, clock = stand_in()
    # No coins to start with: resumed without its file, the run meets the default caps.
    config_path = write_config(workdir, paper={"initial_balances": {"KRW": 10_000_000}})
    gateway = asyncio.run(crash_during_slice_3(config_path, standin, clock))
    (twap_run_id,) = {r["twap_run_id"] for r in rows_of(workdir, "twap_runs")}
    assert gateway.posted_slices() == [1, 2]

    args = ["--resume", twap_run_id, "--no-log-file"]
    args += [str(config_path)] if with_config else ["--db", f"sqlite:///{workdir / 'twap.db'}"]
    result = invoke(args, standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "done" and out["twap_run_id"] == twap_run_id
    assert out["slices_sent"] == 4 and out["remaining"] == "0"
    orders = rows_of(workdir, "orders")
    assert sorted(o["slice_no"] for o in orders) == [1, 2, 3, 4]  # each slice once
    assert any(e["event"] == "resumed" for e in out["events"])


def test_live_needs_the_flag_the_file_and_keys(workdir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    standin, clock = stand_in()
    config = write_config(workdir, dry_run=False)
    trade = ["--side", "buy", "--notional", "200000", "--slices", "2", "--duration", "2m",
             "--no-log-file"]
    dry = invoke([str(config), *trade, "--json"], standin, clock)
    assert dry.exit_code == 0 and json.loads(dry.stdout)["mode"] == "dry"
    assert any("--live was not given" in n for n in json.loads(dry.stdout)["notes"])
    refused = invoke([str(config), *trade, "--live"], standin, clock)
    assert refused.exit_code == 2 and "API keys" in refused.stderr
    assert standin.order_posts == 0
    monkeypatch.setenv("BITHUMB_API_KEY", KEY)
    monkeypatch.setenv("BITHUMB_API_SECRET", SECRET)
    live = invoke([str(config), *trade, "--live", "--json"], standin, clock)
    out = json.loads(live.stdout)
    # Nothing filled: the TWAP says so and the exit code is not 0.
    assert live.exit_code == 1 and out["status"] == "incomplete", live.output
    assert out["mode"] == "live" and out["dry_run"] is False
    # The stand-in rests every limit order: each slice is sent once, then cancelled.
    assert standin.order_posts == 2 and standin.count("DELETE", "/v2/order") == 2
    assert all(o.state == "cancel" for o in standin.orders.values())
    sent = [json.loads(r.content) for r in standin.requests if r.method == "POST"]
    assert [b["client_order_id"] for b in sent] == [
        f"btr-s-{out['twap_run_id'][:20]}-1", f"btr-s-{out['twap_run_id'][:20]}-2"]
    assert {b["order_type"] for b in sent} == {"limit"}
    assert {b["price"] for b in sent} == {"100250000"}
    for secret in (KEY, SECRET):
        assert secret not in live.output


def rows_of(workdir: Path, table: str) -> list[dict[str, Any]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{workdir / 'twap.db'}")
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(f"SELECT * FROM {table}"))]
    finally:
        engine.dispose()


def test_ctrl_c_stops_after_the_current_slice_and_resume_finishes(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir)
    books = {"count": 0}
    serve = standin.handle

    def press_ctrl_c_during_slice_1(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/orderbook":
            books["count"] += 1
            if books["count"] == 3:  # arrival, sizing slice 1, the paper fill of slice 1
                os.kill(os.getpid(), signal.SIGINT)
        return serve(request)

    result = CliRunner().invoke(
        app, ["twap", str(config), "--side", "buy", "--notional", "1000000", "--slices",
              "10", "--duration", "10m", "--no-log-file"],
        obj={"transport": httpx.MockTransport(press_ctrl_c_during_slice_1), "clock": clock})
    assert result.exit_code == 130, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "stopped" and out["slices_sent"] == 1  # slice 1 finished
    assert "--resume" in result.stderr
    resumed = invoke(["--resume", out["twap_run_id"], str(config), "--json", "--no-log-file"],
                     standin, clock)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["status"] == "done"
    assert sorted(o["slice_no"] for o in rows_of(workdir, "orders")) == list(range(1, 11))


def test_small_totals_use_fewer_slices_and_say_so(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir)
    result = invoke([str(config), "--side", "buy", "--notional", "20000", "--slices", "10",
                     "--json", "--no-log-file"], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["slices_planned"] == 4 and out["filled_funds"] == "20000"
    assert any("4 slices instead of 10" in note for note in out["notes"])
    assert any("dry run" in note for note in out["notes"])
