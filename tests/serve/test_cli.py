"""``bithumb-trader serve`` refuses what it cannot serve safely, in one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bithumb_llm_trader.main import app
from bithumb_llm_trader.serve import is_loopback, static_dir

from .conftest import ServeDb

runner = CliRunner()


def test_a_public_host_without_a_token_refuses_to_start(serve_db: ServeDb,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BITHUMB_TRADER_API_TOKEN", raising=False)
    result = runner.invoke(app, ["serve", "--db", serve_db.url, "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "BITHUMB_TRADER_API_TOKEN" in result.output


def test_a_short_token_is_refused(serve_db: ServeDb, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BITHUMB_TRADER_API_TOKEN", "short")
    result = runner.invoke(app, ["serve", "--db", serve_db.url])
    assert result.exit_code == 2 and "too short" in result.output


def test_a_missing_database_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert result.exit_code == 2 and "no database at" in result.output
    assert not (tmp_path / "none.db").exists()


def test_help_has_examples() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "bithumb-trader serve --config" in result.output


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.0.0.5", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("0.0.0.0", False), ("::", False), ("192.168.0.2", False),
    ("example.com", False),
])
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_assets_ship_with_their_licence() -> None:
    vendor = static_dir() / "vendor"
    assert (vendor / "lightweight-charts.standalone.production.js").is_file()
    assert "Apache License" in (vendor / "LICENSE-lightweight-charts.txt").read_text()
    for name in ("index.html", "app.js", "app.css"):
        assert (static_dir() / name).is_file()


def test_other_commands_do_not_import_fastapi() -> None:
    import subprocess
    import sys

    code = ("import sys, bithumb_llm_trader.main; "
            "print(sorted(m for m in ('fastapi', 'uvicorn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
