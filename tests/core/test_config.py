import json
from decimal import Decimal
from pathlib import Path

import pytest

from bithumb_llm_trader.config import load_config
from bithumb_llm_trader.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", ["json", "yaml", "toml"])
def test_sample_configs_load_identically(suffix: str) -> None:
    config = load_config(EXAMPLES / f"config.sample.{suffix}", environ={}, dotenv=None)
    reference = load_config(EXAMPLES / "config.sample.json", environ={}, dotenv=None)
    assert config == reference
    assert str(config.market) == "KRW-BTC"
    assert config.dry_run is True
    assert config.risk.stop_loss_pct == Decimal("0.02")


def test_yaml_floats_become_exact_decimals(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "allocation:\n  reserved_pool_pct: 0.1\n")
    config = load_config(path, environ={}, dotenv=None)
    assert config.allocation.reserved_pool_pct == Decimal("0.1")
    assert str(config.allocation.reserved_pool_pct) == "0.1"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("c.ini", "x=1", "unknown file type '.ini'"),
        ("c.json", "{bad json", "c.json: syntax error"),
        ("c.yaml", "risk: [1, 2", "c.yaml: syntax error"),
        ("c.toml", "risk = ", "c.toml: syntax error"),
        ("c.json", "[1, 2]", "expected a mapping"),
        ("c.json", '{"risk": {"min_confidence": 1.5}}', "risk.min_confidence"),
        ("c.json", '{"risk": {"max_trade_value": "lots"}}', "risk.max_trade_value"),
        ("c.json", '{"risk": {"stop_loss": 0.1}}', "risk.stop_loss: unknown field"),
        ("c.json", '{"dry_run": "maybe"}', "dry_run"),
        ("c.json", '{"strategy": {"candle_interval": "7m"}}', "strategy.candle_interval"),
    ],
)
def test_config_errors_name_the_file_and_the_field(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={}, dotenv=None)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_unknown_field_lists_what_is_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", '{"allocation": {"reserve": 0.2}}')
    with pytest.raises(ConfigError, match=r"allowed here: .*reserved_pool_pct"):
        load_config(path, environ={}, dotenv=None)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json", environ={}, dotenv=None)


def test_environment_secrets_override_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", json.dumps({"api": {"api_key": "file-key"}}))
    env = {"BITHUMB_API_KEY": "env-key-123", "BITHUMB_API_SECRET": "env-secret-456",
           "OPENAI_API_KEY": "sk-test-openai-999"}
    config = load_config(path, environ=env, dotenv=None)
    assert config.api.api_key is not None
    assert config.api.api_key.get_secret_value() == "env-key-123"
    assert config.llm.api_key is not None
    assert config.llm.api_key.get_secret_value() == "sk-test-openai-999"
    shown = repr(config) + str(config) + config.model_dump_json()
    for secret in env.values():
        assert secret not in shown


def test_placeholders_are_filled_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "database:\n  url: ${DB_URL}\n")
    config = load_config(path, environ={"DB_URL": "sqlite:///x.db"}, dotenv=None)
    assert config.database.url == "sqlite:///x.db"
    with pytest.raises(ConfigError, match=r"database.url: environment variable DB_URL"):
        load_config(path, environ={}, dotenv=None)


def test_field_overrides_and_precedence(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", '{"allocation": {"reserved_pool_pct": 0.1}}')
    dotenv = write(tmp_path, ".env", "BITHUMB_TRADER__ALLOCATION__RESERVED_POOL_PCT=0.25\n"
                   "BITHUMB_TRADER__RISK__MIN_CONFIDENCE='0.7'\n")
    from_dotenv = load_config(path, environ={}, dotenv=dotenv)
    assert from_dotenv.allocation.reserved_pool_pct == Decimal("0.25")
    assert from_dotenv.risk.min_confidence == Decimal("0.7")
    env = {"BITHUMB_TRADER__ALLOCATION__RESERVED_POOL_PCT": "0.3"}
    from_env = load_config(path, environ=env, dotenv=dotenv)
    assert from_env.allocation.reserved_pool_pct == Decimal("0.3")
    assert from_env.risk.min_confidence == Decimal("0.7")


def test_bad_override_names_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", '{"name": "overridden"}')
    env = {"BITHUMB_TRADER__RISK__MIN_CONFIDENCE": "2"}
    with pytest.raises(ConfigError, match="from BITHUMB_TRADER__RISK__MIN_CONFIDENCE"):
        load_config(path, environ=env, dotenv=None)


def test_secret_values_never_appear_in_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", '{"api": {"api_key": 12345}}')
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={}, dotenv=None)
    assert "12345" not in str(caught.value)


def test_instructions_file_is_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("Prefer fewer, larger trades.", encoding="utf-8")
    path = write(tmp_path, "c.yaml", "strategy:\n  instructions: Be patient.\n"
                 "  instructions_file: notes.md\n")
    config = load_config(path, environ={}, dotenv=None)
    assert config.strategy.instructions == "Be patient.\n\nPrefer fewer, larger trades."
