"""One process per account: a second ``run`` exits 2 naming the holder and sends nothing.

The holder is a real second process (``python -c``) on each backend's database; the
command under test runs in this process against the stand-in exchange.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.main import app

from ..engine.helpers import START
from ..standin import BithumbStandIn
from ..store.test_schema_race import Crowd, crowds, fresh_url  # noqa: F401  (fixtures)


def strategy(path: Path) -> Path:
    target = path / "strategy.json"
    target.write_text(json.dumps({"name": "leased", "risk": {"kill_switch_file": None}}),
                      encoding="utf-8")
    return target


def run(config: Path, url: str, standin: BithumbStandIn, *extra: str) -> Any:
    clock = ManualClock(START)
    return CliRunner().invoke(app, ["run", str(config), "--db", url, "--no-log-file",
                                    "--json", *extra],
                              obj={"transport": standin.transport(), "clock": clock})


def test_a_second_process_on_the_account_is_refused(
    fresh_url: str, tmp_path: Path, crowds: list[Crowd],  # noqa: F811
) -> None:
    config = strategy(tmp_path)
    holder = Crowd(tmp_path / "room", fresh_url, 1, "hold", "dry:leased", "30")
    crowds.append(holder)
    holder.go()
    proc = holder.procs[0]
    assert proc.stdout is not None
    assert json.loads(proc.stdout.readline()) == {"pid": proc.pid, "got": True}

    standin = BithumbStandIn(now=START)
    refused = run(config, fresh_url, standin)
    assert refused.exit_code == 2
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "another process holds the lease on dry:leased" in lines[0]
    assert f"pid {proc.pid}" in lines[0]
    assert standin.requests == []  # not even market data: nothing happened

    waited = run(config, fresh_url, standin, "--wait-lease", "1s")
    assert waited.exit_code == 2 and f"pid {proc.pid}" in waited.stderr

    holder.kill_all()  # a killed holder: the server lock dies with its session
    if not fresh_url.startswith("sqlite"):
        freed = run(config, fresh_url, standin)
        assert freed.exit_code == 0, freed.output
        assert json.loads(freed.stdout)["status"] == "ok"


def test_the_account_is_the_key_live_and_the_name_dry() -> None:
    from bithumb_llm_trader.bootstrap.leasing import account_key
    from bithumb_llm_trader.config import StrategyConfig
    from bithumb_llm_trader.domain import Mode

    keyed = StrategyConfig.model_validate({"name": "a", "api": {
        "api_key": "access-key-0123456789", "api_secret": "secret-0123456789"}})
    other_name = keyed.model_copy(update={"name": "b"})
    live = account_key(keyed, Mode.LIVE)
    # Live: one account, whatever the strategy is called; the key itself is never stored.
    assert live == account_key(other_name, Mode.LIVE) and live.startswith("live:")
    assert "access-key" not in live
    # Dry: each strategy (or portfolio) has its own paper wallet.
    assert account_key(keyed, Mode.DRY) == "dry:a"
    assert account_key(keyed, Mode.DRY, "portfolio") == "dry:portfolio"
