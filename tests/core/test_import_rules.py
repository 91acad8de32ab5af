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
