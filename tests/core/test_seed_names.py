"""The seed document's names and habits (issue 17): placeholder keys read as no key, the
operator document's ``RESERVED_POOL_PCT`` / ``MAX_SINGLE_ORDER_PCT`` variables, and the
``BithumbAPI`` class name."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from bithumb_llm_trader.config import ApiConfig, LLMConfig, load_config
from bithumb_llm_trader.config.models import is_placeholder

REAL_KEY = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"


def write(tmp_path: Path, data: dict[str, object]) -> Path:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("value", [
    "YOUR_BITHUMB_API_KEY", "your_openai_key", "Your-Key-Here", "your api key", "<api key>",
    "<BITHUMB_SECRET>", "changeme", "CHANGE_ME", "change-me", "xxx", "XXXXXXXXXXXX",
    "xxxx-xxxx-xxxx", "sk-xxxxxxxx", "sk-proj-XXXX", "...", "\u2026", "", "   ",
])
def test_placeholders_are_recognised(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", [
    REAL_KEY, "sk-test-0123456789abcdef", "xx", "xxxy", "yourself", "youraccesskey1",
    "<partial", "changemenow", "sk-abc", "x.y.z",
])
def test_real_looking_keys_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_placeholder_keys_read_as_absent_and_are_noted_without_the_value(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, {"api": {"api_key": "YOUR_BITHUMB_API_KEY",
                                    "api_secret": "YOUR_BITHUMB_API_SECRET"},
                            "llm": {"api_key": "<openai key>"}})
    with caplog.at_level(logging.WARNING, logger="bithumb_llm_trader.config"):
        config = load_config(path, environ={}, dotenv=None)
    assert config.api.api_key is None and config.api.api_secret is None
    assert config.llm.api_key is None and not config.api.has_keys
    notes = [r.getMessage() for r in caplog.records]
    assert len(notes) == 3
    assert any(n.startswith("api.api_key is a placeholder") for n in notes)
    assert any(n.startswith("llm.api_key is a placeholder") for n in notes)
    assert not any("YOUR_" in n or "openai key" in n for n in notes)


def test_an_environment_key_wins_over_a_file_placeholder(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, {"api": {"api_key": "YOUR_BITHUMB_API_KEY",
                                    "api_secret": "YOUR_BITHUMB_API_SECRET"}})
    environ = {"BITHUMB_API_KEY": REAL_KEY, "BITHUMB_API_SECRET": REAL_KEY[::-1]}
    with caplog.at_level(logging.WARNING, logger="bithumb_llm_trader.config"):
        config = load_config(path, environ=environ, dotenv=None)
    assert config.api.has_keys and caplog.records == []
    assert config.api.api_key is not None and config.api.api_key.get_secret_value() == REAL_KEY


def test_a_placeholder_in_the_environment_is_ignored_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, {"name": "s"})
    with caplog.at_level(logging.WARNING, logger="bithumb_llm_trader.config"):
        config = load_config(path, environ={"OPENAI_API_KEY": "sk-xxxxxxxx"}, dotenv=None)
    assert config.llm.api_key is None
    assert [r.getMessage() for r in caplog.records] == [
        "llm.api_key (from OPENAI_API_KEY) is a placeholder, not a key: ignored, as if not set"]


def test_models_built_in_code_drop_placeholders_too() -> None:
    assert ApiConfig(api_key="YOUR_KEY", api_secret="s").api_key is None
    assert LLMConfig(api_key="changeme").api_key is None
    kept = LLMConfig(api_key=REAL_KEY).api_key
    assert kept is not None and kept.get_secret_value() == REAL_KEY


def test_the_operator_documents_allocation_names_are_aliases(tmp_path: Path) -> None:
    path = write(tmp_path, {"allocation": {"reserved_pool_pct": 0.2}})
    short = {"RESERVED_POOL_PCT": "0.3", "MAX_SINGLE_ORDER_PCT": "0.05"}
    config = load_config(path, environ=short, dotenv=None)
    assert config.allocation.reserved_pool_pct == Decimal("0.3")
    assert config.allocation.max_single_order_pct == Decimal("0.05")
    both = {**short, "BITHUMB_TRADER__ALLOCATION__RESERVED_POOL_PCT": "0.4",
            "BITHUMB_TRADER__ALLOCATION__MAX_SINGLE_ORDER_PCT": "0.07"}
    config = load_config(path, environ=both, dotenv=None)
    assert config.allocation.reserved_pool_pct == Decimal("0.4")  # the specific name wins
    assert config.allocation.max_single_order_pct == Decimal("0.07")


def test_the_aliases_are_read_from_dotenv_and_named_in_errors(tmp_path: Path) -> None:
    from bithumb_llm_trader.errors import ConfigError

    dotenv = tmp_path / ".env"
    dotenv.write_text("RESERVED_POOL_PCT=0.25\nMAX_SINGLE_ORDER_PCT=2\n", encoding="utf-8")
    path = write(tmp_path, {"name": "s"})
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={}, dotenv=dotenv)
    assert "allocation.max_single_order_pct (from MAX_SINGLE_ORDER_PCT)" in str(caught.value)
    dotenv.write_text("RESERVED_POOL_PCT=0.25\n", encoding="utf-8")
    config = load_config(path, environ={}, dotenv=dotenv)
    assert config.allocation.reserved_pool_pct == Decimal("0.25")


def test_bithumb_api_is_the_client() -> None:
    from bithumb_llm_trader import api_client
    from bithumb_llm_trader.api_client import BithumbAPI, BithumbClient

    assert BithumbAPI is BithumbClient
    assert "BithumbAPI" in api_client.__all__
    client = BithumbAPI("https://api.bithumb.com")
    assert isinstance(client, BithumbClient)
