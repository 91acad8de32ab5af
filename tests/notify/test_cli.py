"""``notify-test CONFIG``: one test message per URL, sent or the error, exit 0/1/2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bithumb_llm_trader.cli import notify_cmd
from bithumb_llm_trader.cli.common import handled_errors
from bithumb_llm_trader.config import StrategyConfig
from bithumb_llm_trader.config.loading import read_mapping
from bithumb_llm_trader.notify.config import NotificationsConfig

from .receiver import Receiver


class _WithNotifications(StrategyConfig):
    notifications: NotificationsConfig = NotificationsConfig()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, workdir: Path) -> typer.Typer:
    """The command as main.py registers it; a loader that knows the section until
    StrategyConfig has the field itself."""
    if "notifications" not in StrategyConfig.model_fields:
        def load(path: str) -> StrategyConfig:
            with handled_errors():
                return _WithNotifications.model_validate(read_mapping(Path(path)))

        monkeypatch.setattr(notify_cmd, "load", load)
    cli = typer.Typer()
    cli.command("notify-test")(notify_cmd.command)
    cli.command("other")(lambda: None)  # two commands: the name is then required
    return cli


def config_file(workdir: Path, urls: list[str]) -> str:
    path = workdir / "strategy.json"
    path.write_text(json.dumps({"name": "btc-llm", "notifications": {"urls": urls}}))
    return str(path)


def test_every_url_gets_one_test_message(app: typer.Typer, receiver: Receiver,
                                         workdir: Path) -> None:
    path = config_file(workdir, [receiver.url("/a"), receiver.url("/b")])
    result = CliRunner().invoke(app, ["notify-test", path])
    assert result.exit_code == 0, result.output
    label = f"json://127.0.0.1:{receiver.port}"
    assert result.stdout.splitlines() == [f"1. {label}: sent", f"2. {label}: sent"]
    assert [r.path for r in receiver.requests] == ["/a", "/b"]
    assert receiver.bodies[0]["title"] == "[btc-llm/dry] test notification"


def test_a_failing_url_prints_its_error_and_exits_1(
        app: typer.Typer, receiver: Receiver, workdir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)
    path = config_file(workdir, [receiver.url("/ok"), receiver.url("/fail/tok3nSecret99"),
                                 "tgram://123456789:AAHbotsecret/42"])
    result = CliRunner().invoke(app, ["notify-test", path])
    assert result.exit_code == 1
    label = f"json://127.0.0.1:{receiver.port}"
    assert result.stdout.splitlines() == [
        f"1. {label}: sent",
        f"2. {label}: error: HTTP 500 Internal Server Error",
        "3. tgram://***: error: tgram:// needs apprise: install the notify extra:"
        " pip install 'bithumb-llm-trader[notify]'"]
    assert "tok3nSecret99" not in result.output and "AAHbotsecret" not in result.output


def test_config_errors_exit_2(app: typer.Typer, workdir: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["notify-test", config_file(workdir, [])])
    assert empty.exit_code == 2 and "notifications.urls is empty" in empty.output
    missing = runner.invoke(app, ["notify-test", str(workdir / "nope.yaml")])
    assert missing.exit_code == 2
