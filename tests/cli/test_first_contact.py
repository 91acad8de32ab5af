"""Issue 17, "first contact is clean": what a new user sees on the terminal.

Numbers read as money, prices, volumes and percentages (never ``999743.779680000`` or
``None``); ``twap`` on a terminal prints a table, not its JSON; ``--help`` has examples
and no type noise; a mistyped command lists the commands; the kill switch costs no
model tokens.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import respx
from typer.testing import CliRunner

from bithumb_llm_trader.cli import numbers as n
from bithumb_llm_trader.cli import twap_cmd
from bithumb_llm_trader.main import COMMANDS, app, legacy_argv

from ..backtest.helpers import candle_rows, walk_prices, write_csv
from ..backtest.test_cli import invoke as invoke_backtest
from ..backtest.test_cli import strategy_file as backtest_strategy
from ..portfolio.test_portfolio_cli import invoke as invoke_portfolio
from ..portfolio.test_portfolio_cli import scripted_model, strategy_file
from ..portfolio.test_portfolio_cli import stand_in as portfolio_stand_in
from ..standin import chat_completion
from ..twap import test_cli as twap_cli
from .test_run_cli import BUY, OPENAI_KEY, invoke, stand_in, write_config

D = Decimal
LONG_DECIMAL = re.compile(r"\d\.\d{9,}|\d{7,}\.\d")  # 999743.779680000, 64202000.00000000
TABLE_LINE = re.compile(r"^[┌│├└]")


def assert_readable(text: str) -> None:
    """No raw Decimal strings, no ``None`` in a summary meant for people."""
    assert "None" not in text, text
    assert not LONG_DECIMAL.search(text), text


def test_the_numbers_module_formats_decimals_exactly() -> None:
    assert n.krw(D("999743.779680000")) == "999,744"
    assert n.krw(D("399.895"), 2) == "399.90"
    assert n.price(D("64202000.00000000")) == "64,202,000"
    assert n.price(D("512.345")) == "512"  # tick 1 between 100 and 5,000 KRW
    assert n.price(D("0.123456")) == "0.1235"  # tick 0.0001 below 1 KRW
    assert n.volume(D("0.001557")) == "0.00155700"
    assert n.volume(D("0.123456789")) == "0.12345678"  # rounded down: never more coins
    assert n.percent(D("0.0234")) == "2.34%" and n.percent("-0.0127") == "-1.27%"
    assert n.percent(0.666667) == "66.67%"  # a backtest ratio (a rounded float)
    assert n.ratio(D("-0.0001")) == "0.00"  # no "-0.00"
    for shown in (n.krw(None), n.price(None), n.volume(None), n.percent(None), n.bps(None)):
        assert shown == n.MISSING == "-"


@respx.mock
def test_run_summary_shows_readable_numbers_and_cash_before_and_after(
        workdir: Path, respx_mock: respx.MockRouter) -> None:
    respx_mock.post("https://api.openai.com/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=chat_completion(json.dumps(BUY))))
    standin, clock = stand_in()
    config = write_config(workdir)
    result = invoke(["run", str(config), "--openai-api-key", OPENAI_KEY, "--no-log-file"],
                    standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["execution"]["status"] == "filled"
    # The JSON keeps exact strings and its keys; the after-trade values are new keys.
    assert out["cash_krw"] == out["cash_krw_before"] == "1000000"
    assert D(out["cash_krw_after"]) == D(1_000_000) - D(out["execution"]["filled_funds"]) - D(
        out["execution"]["fee"])
    assert D(out["position_size_after"]) == D(out["execution"]["filled_volume"]) > 0
    summary = result.stderr
    assert_readable(summary)
    assert "1,000,000  (reserve 200,000)" in summary
    assert "conf 80%" in summary
    avg = n.price(out["execution"]["avg_price"])
    assert f"filled {n.volume(out['execution']['filled_volume'])} @ {avg}" in summary
    assert re.search(r"cash KRW before\s+│ 1,000,000 ", summary)
    assert re.search(rf"cash KRW after\s+│ {n.krw(out['cash_krw_after'])} ", summary)
    assert re.search(r"position after\s+│ 0\.\d{8} BTC", summary)


def test_run_every_keeps_the_table_width(workdir: Path) -> None:
    standin, clock = stand_in()
    config = write_config(workdir, strategy={"decider": "rules", "candle_count": 60})
    (workdir / "KILL").touch()  # the second cycle is different: halted
    first = invoke(["run", str(config), "--no-log-file"], standin, clock)
    (workdir / "KILL").unlink()
    repeated = invoke(["run", str(config), "--every", "15m", "--max-cycles", "3",
                       "--no-log-file"], standin, clock)
    assert first.exit_code == 0 and repeated.exit_code == 0, repeated.output
    lines = [line for result in (first, repeated) for line in result.stderr.splitlines()
             if TABLE_LINE.match(line)]
    assert len({len(line.rstrip()) for line in lines}) == 1, lines
    assert sum(line.startswith("┌") for line in lines) == 4
    assert_readable(first.stderr + repeated.stderr)


@respx.mock
def test_the_kill_switch_does_not_call_the_model(workdir: Path,
                                                 respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("https://api.openai.com/v1/chat/completions").mock(
        return_value=httpx.Response(200, json=chat_completion(json.dumps(BUY))))
    standin, clock = stand_in()
    config = write_config(workdir)
    (workdir / "KILL").touch()
    result = invoke(["run", str(config), "--openai-api-key", OPENAI_KEY, "--no-log-file"],
                    standin, clock)
    assert result.exit_code == 0, result.output
    assert not route.called  # no tokens spent while halted
    out = json.loads(result.stdout)
    steps = {s["name"]: s for s in out["steps"]}
    assert steps["prompt"]["status"] == steps["decide"]["status"] == "skipped"
    assert steps["decide"]["detail"] == {"reason": "kill_switch"}
    assert out["execution"]["status"] == "halted" and out["trading_state"] == "halted"
    assert "halted: kill_switch" in result.stderr and "the model was not asked" in result.stderr


def test_portfolio_summary_shows_readable_numbers(workdir: Path) -> None:
    with respx.mock() as respx_mock:
        scripted_model(respx_mock)
        files = workdir / "s"
        strategy_file(files, "a")
        strategy_file(files, "b", role="SELLER")
        (workdir / "portfolio.yaml").write_text(
            "name: fund\nstrategies:\n  - {file: s/a.json, weight: 0.5}\n"
            "  - {file: s/b.json, weight: 0.5}\n"
            f"kill_switch_file: {workdir / 'FUND_KILL'}\n", encoding="utf-8")
        standin, clock = portfolio_stand_in()
        result = invoke_portfolio([str(workdir / "portfolio.yaml"), "--openai-api-key",
                                   OPENAI_KEY], standin, clock)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert_readable(result.stderr)
    for item in out["strategies"]:
        assert n.krw(item["equity_krw"]) in result.stderr
        assert n.krw(item["cash_krw"]) in result.stderr
    assert f"account {n.krw(out['account_equity_krw'])}" in result.stderr
    assert n.price(out["netting"][0]["cross_price"]) in result.stderr


def test_backtest_summary_shows_percentages_and_dashes(workdir: Path) -> None:
    data = write_csv(workdir / "c.csv", candle_rows(walk_prices(30)))
    result = invoke_backtest(str(backtest_strategy(workdir)), "--data", str(data))
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)["results"]
    assert figures["win_rate"] is None  # no round trip in 30 candles: nothing to rate
    assert_readable(result.stderr)
    assert re.search(r"win rate\s+│ - ", result.stderr)
    assert re.search(rf"total return\s+│ {re.escape(n.percent(figures['total_return']))} ",
                     result.stderr)
    assert re.search(r"total return\s+│ -?\d+\.\d\d% ", result.stderr)
    assert f"{n.krw(figures['initial_equity_krw'])} → " in result.stderr


def twap_args(workdir: Path, *extra: str) -> list[str]:
    config = twap_cli.write_config(workdir)
    return [str(config), "--side", "buy", "--notional", "1000000", "--duration", "10m",
            "--slices", "10", "--no-log-file", *extra]


def test_twap_on_a_terminal_prints_a_table_not_json(workdir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(twap_cmd, "stdout_is_terminal", lambda: True)
    standin, clock = twap_cli.stand_in()
    result = twap_cli.invoke(twap_args(workdir), standin, clock)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # a person reads this terminal: no 150 lines of JSON
    assert "TWAP KRW-BTC buy · dry · done" in result.stderr
    assert re.search(r"avg price\s+│ 100,000,000 ", result.stderr)
    assert re.search(r"slices\s+│ 10 sent, 0 skipped, 0 failed of 10", result.stderr)
    assert_readable(result.stderr)
    standin, clock = twap_cli.stand_in()
    asked = twap_cli.invoke(twap_args(workdir, "--json"), standin, clock)
    assert json.loads(asked.stdout)["status"] == "done" and asked.stderr == ""


def test_twap_resume_hint_names_the_db(workdir: Path) -> None:
    standin, clock = twap_cli.stand_in()
    real_sleep = clock.sleep

    async def sleep_then_kill(seconds: float) -> None:  # the kill switch stops the TWAP
        await real_sleep(seconds)
        (workdir / "KILL_SWITCH").touch()  # the default kill_switch_file, in the cwd

    clock.sleep = sleep_then_kill  # type: ignore[method-assign]
    db = f"sqlite:///{workdir / 'elsewhere.db'}"
    result = twap_cli.invoke(twap_args(workdir, "--db", db), standin, clock)
    assert result.exit_code == 130, result.output
    out = json.loads(result.stdout)  # not a terminal: the JSON is there for a pipe
    assert out["status"] == "stopped"
    hint = f"twap --resume {out['twap_run_id']} --db {db} {workdir / 'strategy.json'}"
    assert hint in result.stderr.replace("\n", "")


def test_a_failed_resume_lookup_creates_no_database(workdir: Path) -> None:
    standin, clock = twap_cli.stand_in()
    result = twap_cli.invoke(["--resume", "0123456789ab", "--db",
                              f"sqlite:///{workdir / 'typo.db'}", "--no-log-file"],
                             standin, clock)
    assert result.exit_code == 2
    assert "no database at" in result.stderr and "typo.db" in result.stderr
    assert not (workdir / "typo.db").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example_and_no_type_noise(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "Example" in result.stdout and f"bithumb-trader {command}" in result.stdout
    assert "<bool>" not in result.stdout and "<str>" not in result.stdout
    assert "<int>" not in result.stdout
    verbose = [line for line in result.stdout.splitlines() if "--verbose" in line]
    assert all("-vv debug" in line for line in verbose), verbose


def test_root_help_has_no_type_noise() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0 and "<bool>" not in result.stdout


@pytest.mark.parametrize(("typo", "guess"), [("rn", "did you mean 'run'"),
                                             ("list-strategies", "")])
def test_a_mistyped_command_lists_the_commands(typo: str, guess: str) -> None:
    assert legacy_argv([typo]) == [typo]  # not taken for a strategy file
    result = CliRunner().invoke(app, legacy_argv([typo, "x.yaml"]))
    assert result.exit_code == 2
    assert f"no such command {typo!r}" in result.stderr and guess in result.stderr
    assert all(command in result.stderr for command in COMMANDS)
    assert "Traceback" not in result.output
