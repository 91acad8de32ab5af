"""DESIGN.md: the engine and everything it imports never import an adapter library."""

import subprocess
import sys


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


SRC = __import__("pathlib").Path(__file__).resolve().parents[2] / "src" / "bithumb_llm_trader"
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
