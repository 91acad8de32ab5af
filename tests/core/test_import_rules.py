"""DESIGN.md: the engine and everything it imports never import an adapter library."""

import json
import subprocess
import sys
from pathlib import Path


def test_the_engine_imports_no_adapter_library() -> None:
    code = (
        "import sys, bithumb_llm_trader.engine, bithumb_llm_trader.risk, "
        "bithumb_llm_trader.allocation; "
        "print(sorted(m for m in ('httpx', 'sqlalchemy', 'typer', 'rich', 'openai') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


SRC = Path(__file__).resolve().parents[2] / "src" / "bithumb_llm_trader"
BUILT_ONLY_BY_THE_ROOT = ("PreTradeGate(", "OrderExecutor(", "TWAPExecutor(",
                          "TradingEngine(", "MultiAgentPortfolioManager(", "BithumbClient(",
                          "PaperExchange(", "CycleSteps(")
ALLOWED = {
    # The replay's simulated exchange is part of the simulator, on its own market model,
    # clock and in-memory store; its engine (gate included) comes from the root.
    "backtest/replay.py": "PaperExchange(",
    "api_client/client.py": "BithumbClient(",  # its own __repr__
}


def test_only_the_composition_root_builds_the_order_path() -> None:
    """Every order meets the gate because one place wires it: no other module builds a
    gate, an executor, an engine, a client or a paper exchange (their own modules define
    them; tests and benchmarks may build what they test)."""
    builders = []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC).as_posix()
        if relative.startswith("bootstrap/"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            for name in BUILT_ONLY_BY_THE_ROOT:
                if name in code and f"class {name[:-1]}" not in code \
                        and ALLOWED.get(relative) != name:
                    builders.append(f"{relative}:{number}: {line.strip()}")
    assert builders == []


def test_commands_import_no_adapter_library() -> None:
    """The CLI parses and calls the composition root; it builds no client or store."""
    for path in (SRC / "cli").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for library in ("httpx", "sqlalchemy"):
            assert f"import {library}" not in text, path.name
            assert f"from {library}" not in text, path.name


ROOT = SRC.parents[1]
HEAVY = ("sqlalchemy", "httpx", "openai", "fastapi", "optuna", "apprise")


def _imported_after(code: str, names: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``names`` a fresh interpreter holds after running ``code``."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_command_line_starts_without_the_application() -> None:
    """``bithumb-trader --help`` reads the commands' signatures only (cli/commands.py);
    each command imports its own libraries when it runs."""
    assert _imported_after("import bithumb_llm_trader.main") == []


def test_help_is_plain_and_loads_no_help_renderer() -> None:
    """``--help`` is click's plain text: typer's rich help (``typer.rich_utils``, which
    loads rich's Markdown and markdown-it) alone costs twice ``import typer``."""
    code = (
        "from bithumb_llm_trader.main import app\n"
        "try:\n"
        "    app(args=['--help'], prog_name='bithumb-trader')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    )
    assert _imported_after(code, (*HEAVY, "typer.rich_utils", "markdown_it")) == []


def test_validate_never_imports_the_model_sdk() -> None:
    code = (
        "from bithumb_llm_trader.main import app\n"
        "try:\n"
        "    app(args=['validate', 'examples/config.sample.yaml'], prog_name='t')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    )
    assert _imported_after(code, ("openai",)) == []


def test_a_rules_run_never_imports_the_model_sdk(tmp_path: Path) -> None:
    config = tmp_path / "strategy.json"
    config.write_text(json.dumps({
        "name": "rules-only", "strategy": {"decider": "rules", "candle_count": 60},
        "risk": {"kill_switch_file": str(tmp_path / "KILL")},
        "database": {"url": f"sqlite:///{tmp_path / 'rules.db'}"},
    }), encoding="utf-8")
    code = (
        "from datetime import datetime, timezone\n"
        "from bithumb_llm_trader.clock import ManualClock\n"
        "from bithumb_llm_trader.main import app\n"
        "from tests.standin import BithumbStandIn\n"
        "clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))\n"
        "standin = BithumbStandIn(now=clock.now(), clock=clock.now)\n"
        "try:\n"
        f"    app(args=['run', {str(config)!r}, '--json', '--no-log-file'], prog_name='t',\n"
        "        obj={'transport': standin.transport(), 'clock': clock})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
    )
    assert _imported_after(code, ("openai", "bithumb_llm_trader.decision.llm")) == []


def test_the_download_default_is_the_clients() -> None:
    from bithumb_llm_trader.api_client.endpoints import DEFAULT_BASE_URL
    from bithumb_llm_trader.cli.commands import BITHUMB_API

    assert BITHUMB_API == DEFAULT_BASE_URL


def test_the_client_is_built_with_what_its_first_request_loads() -> None:
    """httpx's pool loads anyio's asyncio backend on its first connection; the
    composition root loads it when it builds the client, so the first cycle's snapshot
    does not pay for it (benchmarks/bench_snapshot.py: 1.33x -> 1.15x a round trip)."""
    code = (
        "import sys\n"
        "from bithumb_llm_trader.bootstrap.adapters import build_client\n"
        "from bithumb_llm_trader.clock import SystemClock\n"
        "from bithumb_llm_trader.config import load_config\n"
        "assert 'anyio._backends._asyncio' not in sys.modules, 'loaded on import already'\n"
        "build_client(load_config('examples/config.sample.yaml'), SystemClock())\n"
    )
    assert _imported_after(code, ("anyio._backends._asyncio",)) == ["anyio._backends._asyncio"]
