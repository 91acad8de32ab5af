"""The import rules of DESIGN.md for the prompts and decision packages."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "bithumb_llm_trader"
FORBIDDEN = {"sqlalchemy", "typer", "rich"}
ALLOWED_SIBLINGS = {
    "prompts": {"domain", "config", "market"},
    "decision": {"domain", "config", "prompts", "errors", "market", "records", "ports"},
}


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """Top-level packages imported, and sibling modules of the package imported (``..x``)."""
    names: set[str] = set()
    siblings: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 0:
                names.add(node.module.split(".")[0])
            elif node.level == 2:
                siblings.add(node.module.split(".")[0])
    return names, siblings


@pytest.mark.parametrize(
    "path",
    sorted((PACKAGE / "decision").glob("*.py")) + sorted((PACKAGE / "prompts").glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_forbidden_imports_and_openai_httpx_only_in_llm(path: Path) -> None:
    imported, siblings = _imports(path)
    assert not imported & FORBIDDEN
    assert siblings <= ALLOWED_SIBLINGS[path.parent.name], path
    if "market" in siblings:  # the market package itself is another engineer's; its model only
        assert "from ..market.model import" in path.read_text(encoding="utf-8")
    if path.name not in ("llm.py",):
        assert not imported & {"openai", "httpx"}, path


def test_importing_decision_does_not_load_openai_or_httpx() -> None:
    code = (
        "import sys, bithumb_llm_trader.decision, bithumb_llm_trader.prompts;"
        "print(sorted(m for m in ('openai', 'httpx') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
