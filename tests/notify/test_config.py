"""The notifications section and ``validate_targets``, with and without apprise."""

from __future__ import annotations

import sys
from datetime import time, timedelta

import pytest
from pydantic import SecretStr, ValidationError

from bithumb_llm_trader.notify import EventKind, Level
from bithumb_llm_trader.notify.config import (
    DEFAULT_EVENTS,
    NotificationsConfig,
    validate_targets,
)

from .helpers import settings


def test_defaults_send_everything_but_the_test_message_and_quiet_failing_loops() -> None:
    config = NotificationsConfig()
    assert not config.active and config.urls == []
    assert config.events == DEFAULT_EVENTS and EventKind.TEST not in config.events
    assert config.min_level is Level.INFO
    assert config.quiet_for(EventKind.CYCLE_FAILED) == timedelta(minutes=30)
    assert config.quiet_for(EventKind.ORDER_FILLED) == timedelta(0)
    assert config.daily_summary_at == time(9, 0)
    assert (config.consecutive_failures, config.timeout_s) == (5, 5.0)


def test_a_file_section_parses_and_merges_quiet_periods() -> None:
    config = NotificationsConfig.model_validate({
        "urls": ["json://127.0.0.1:9/hook"], "events": ["order_filled", "cycle_failed"],
        "min_level": "warning", "quiet_period": {"order_filled": "5m", "cycle_failed": "1h"},
        "daily_summary_at": "21:30", "consecutive_failures": 3, "timeout_s": 2,
    })
    assert config.active
    assert config.events == {EventKind.ORDER_FILLED, EventKind.CYCLE_FAILED}
    assert config.quiet_for(EventKind.ORDER_FILLED) == timedelta(minutes=5)
    assert config.quiet_for(EventKind.CYCLE_FAILED) == timedelta(hours=1)
    assert config.quiet_for(EventKind.LEASE_REFUSED) == timedelta(minutes=30)  # default kept
    assert config.daily_summary_at == time(21, 30)
    assert config.wants(EventKind.CYCLE_FAILED, Level.ERROR)
    assert not config.wants(EventKind.ORDER_FILLED, Level.INFO)
    assert "127.0.0.1" not in repr(config)  # a SecretStr


@pytest.mark.parametrize(("field", "value", "message"), [
    ("daily_summary_at", 1290, "write the time as text"),  # YAML's unquoted 21:30
    ("daily_summary_at", "09:00+09:00", "without a zone"),
    ("events", ["order_filed"], "order_filled"),
    ("min_level", "debug", "info"),
    ("enabled", "false", "boolean"),
    ("timeout_s", 0, "greater than 0"),
    ("consecutive_failures", 0, "greater than or equal to 1"),
    ("quiet_period", {"cycle_failed": "-5m"}, "duration must look like"),
    ("urls", ["hooks.example.com/secret-token-123"], "URL 1: not a URL"),
    ("surprise", 1, "Extra inputs"),
])
def test_bad_values_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        NotificationsConfig.model_validate({field: value})
    said = " ".join(str(error["msg"]) for error in caught.value.errors())
    assert message in said
    assert "secret-token-123" not in said  # the loader never shows a url field's input


def test_the_config_is_frozen() -> None:
    config = settings("json://h.example.com/x")
    with pytest.raises(ValidationError):
        config.timeout_s = 1  # type: ignore[misc]


def test_without_apprise_only_json_urls_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)
    checks = validate_targets(settings("json://127.0.0.1:8080/hook", "jsons://h.example.com/",
                                       "tgram://123456:AAHsecret/42", "json:///nohost"))
    assert [(c.number, c.label, c.ok) for c in checks] == [
        (1, "json://127.0.0.1:8080", True), (2, "jsons://h.example.com", True),
        (3, "tgram://***", False), (4, "json://***", False)]
    assert checks[2].error == ("tgram:// needs apprise: install the notify extra:"
                               " pip install 'bithumb-llm-trader[notify]'")
    assert checks[3].error == "the URL names no host"


def test_with_apprise_unknown_schemes_and_unreadable_urls_are_named() -> None:
    pytest.importorskip("apprise")
    checks = validate_targets(settings(
        "json://127.0.0.1:8080/hook", "tgram://123456789:AAHsecretsecret/-1001",
        "nosuchservice://secretvalue/x", "tgram://notatoken/", "discord://1122334455/tokenXYZ1"))
    assert [c.ok for c in checks] == [True, True, False, False, True]
    assert checks[2].error == "apprise does not know the scheme nosuchservice://"
    assert (checks[3].error or "").startswith("apprise cannot read this tgram:// URL")
    for check in checks:
        assert "secret" not in f"{check.label} {check.error}"


def test_urls_hold_secrets() -> None:
    config = NotificationsConfig(urls=[SecretStr("tgram://123:AAHsecret/1")])
    assert "AAHsecret" not in config.model_dump_json()
