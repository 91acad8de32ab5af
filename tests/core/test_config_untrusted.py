"""Strategy files are untrusted input: what a hostile or careless file must not get past."""

from __future__ import annotations

import itertools
import signal
import string
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from types import FrameType

import pytest
from typer.testing import CliRunner

from bithumb_llm_trader.config import load_config
from bithumb_llm_trader.config.models import MAX_KRW
from bithumb_llm_trader.errors import ConfigError

ALIASES_REFUSED = "YAML aliases (&anchor / *alias) are not allowed"
EMPTY = "the file is empty; expected a mapping of sections at the top level"
NOT_A_MAPPING = "expected a mapping of sections at the top level, got"
NOT_A_BOOLEAN = "Input should be a valid boolean; write true or false, unquoted"
BOOL_FIELDS = [("dry_run",), ("risk", "reduce_only"), ("llm", "cache"), ("twap", "final_sweep")]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def nested_json(path: tuple[str, ...], value: str) -> str:
    """``{"a": {"b": VALUE}}`` with VALUE as raw JSON, so 1e300 and NaN stay as written."""
    text = value
    for key in reversed(path):
        text = f'{{"{key}": {text}}}'
    return text


def refusal(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=environ or {}, dotenv=None)
    message = str(caught.value)
    assert str(path) in message
    return message


def billion_laughs(levels: int = 12, width: int = 9) -> str:
    """Each level lists the previous one ``width`` times: width**levels leaves in all."""
    names = string.ascii_lowercase[:levels]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['lol'] * width)}]"]
    for previous, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * width)}]")
    return "\n".join(lines) + "\n"


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds``, so a file that expands forever fails the test."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"still loading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_yaml_alias_bomb_fails_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.yaml", billion_laughs())
    started = time.perf_counter()
    with deadline(5.0):
        message = refusal(path)
    assert time.perf_counter() - started < 1.0
    assert message == f"{path}: {ALIASES_REFUSED} (line 1)"


@pytest.mark.parametrize(
    "text",
    [
        "name: &n demo\n",
        "name: demo\ntwap: &t {slices: 4}\n",
        "x: &x 3\nstrategy:\n  candle_count: *x\n",
        "base: &b {slices: 4}\ntwap:\n  <<: *b\n",
    ],
)
def test_any_yaml_anchor_or_alias_is_refused(tmp_path: Path, text: str) -> None:
    assert ALIASES_REFUSED in refusal(write(tmp_path, "c.yaml", text))


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("c.yaml", "", EMPTY),
        ("c.yaml", "# only a comment\n\n", EMPTY),
        ("c.yaml", "---\n", EMPTY),
        ("c.yaml", "~\n", EMPTY),
        ("c.yaml", "{}\n", EMPTY),
        ("c.yaml", "- risk\n- llm\n", f"{NOT_A_MAPPING} a list"),
        ("c.yaml", "just words\n", f"{NOT_A_MAPPING} a string"),
        ("c.yaml", "42\n", f"{NOT_A_MAPPING} a number"),
        ("c.yaml", "1.5\n", f"{NOT_A_MAPPING} a number"),
        ("c.yaml", "true\n", f"{NOT_A_MAPPING} a boolean"),
        ("c.json", "{}", EMPTY),
        ("c.json", "null", EMPTY),
        ("c.json", "[]", f"{NOT_A_MAPPING} a list"),
        ("c.json", '"risk"', f"{NOT_A_MAPPING} a string"),
        ("c.json", "7", f"{NOT_A_MAPPING} a number"),
        ("c.toml", "", EMPTY),
        ("c.toml", "# only a comment\n", EMPTY),
    ],
)
def test_empty_or_non_mapping_files_are_refused(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    assert expected in refusal(write(tmp_path, name, text))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("risk", "max_trade_value"), "1e300"),
        (("risk", "max_trade_value"), "1000000000000001"),
        (("risk", "max_position_krw"), "1e16"),
        (("risk", "max_position_size"), "1.5"),
        (("risk", "daily_loss_limit_krw"), "1e16"),
        (("risk", "cooldown"), "-5"),
        (("risk", "cooldown"), '"99999999999999d"'),
        (("risk", "cooldown"), '"400d"'),
        (("allocation", "min_order_krw"), "1e16"),
        (("allocation", "max_slippage_bps"), "1e9"),
        (("twap", "threshold_krw"), "1e300"),
        (("twap", "slices"), "1000000"),
        (("twap", "duration"), '"400d"'),
        (("twap", "interval"), "1e12"),
        (("twap", "jitter"), "1e9"),
        (("twap", "max_slippage_bps"), "1e9"),
        (("backtest", "level_notional_krw"), "1e16"),
        (("backtest", "spread_bps"), "1e9"),
        (("backtest", "book_levels"), "1000000"),
        (("paper", "initial_balances", "KRW"), "1e16"),
        (("paper", "initial_balances", "BTC"), "1e300"),
        (("llm", "max_output_tokens"), "1000000000"),
        (("llm", "timeout"), "1e9"),
        (("llm", "temperature"), "1e9"),
        (("llm", "max_retries"), "1000"),
        (("llm", "repair_attempts"), "1000"),
        (("llm", "prices", "m"), '{"input_usd_per_million": 1e9, "output_usd_per_million": 1}'),
        (("llm", "prices", "m"), '{"input_usd_per_million": 1, "output_usd_per_million": 1e9}'),
        (("api", "timeout"), "1e9"),
        (("api", "max_retries"), "1000"),
        (("strategy", "candle_count"), "1000000000"),
        (("strategy", "depth_bps"), "1e9"),
        (("strategy", "rules", "atr_stop_multiple"), "1e300"),
        (("logging", "max_bytes"), "1000000000000"),
        (("logging", "backups"), "1000000"),
    ],
)
def test_every_number_has_an_upper_bound(
    tmp_path: Path, path: tuple[str, ...], value: str
) -> None:
    message = refusal(write(tmp_path, "c.json", nested_json(path, value)))
    assert ".".join(path[:3] if path[0] == "llm" else path[:2]) in message


def test_too_many_currencies_or_prices_are_refused(tmp_path: Path) -> None:
    balances = ", ".join(f'"C{i}": 1' for i in range(101))
    text = nested_json(("paper", "initial_balances"), f"{{{balances}}}")
    assert "paper.initial_balances" in refusal(write(tmp_path, "c.json", text))


def test_integer_too_long_to_parse_is_a_config_error(tmp_path: Path) -> None:
    text = nested_json(("risk", "max_trade_value"), "9" * 5000)
    assert "syntax error" in refusal(write(tmp_path, "c.json", text))


def test_the_bounds_themselves_are_accepted(tmp_path: Path) -> None:
    text = nested_json(("risk",), f'{{"max_trade_value": {MAX_KRW}, "max_position_krw": 1e15}}')
    config = load_config(write(tmp_path, "c.json", text), environ={}, dotenv=None)
    assert config.risk.max_trade_value == MAX_KRW == Decimal(10**15)
    # At the bound, won-to-satoshi arithmetic still fits the default 28-digit context.
    assert str(config.risk.max_trade_value.quantize(Decimal("1e-8"))).endswith(".00000000")


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        ("c.json", nested_json(("risk", "max_trade_value"), "NaN"), "risk.max_trade_value"),
        ("c.json", nested_json(("risk", "max_trade_value"), "Infinity"), "risk.max_trade_value"),
        ("c.json", nested_json(("risk", "daily_loss_limit_pct"), "-Infinity"), "risk.daily"),
        ("c.json", nested_json(("paper", "initial_balances", "KRW"), "NaN"), "paper."),
        ("c.json", nested_json(("llm", "timeout"), "NaN"), "llm.timeout"),
        ("c.json", nested_json(("llm", "temperature"), "NaN"), "llm.temperature"),
        ("c.json", nested_json(("api", "timeout"), "Infinity"), "api.timeout"),
        ("c.yaml", "risk:\n  max_trade_value: .nan\n", "risk.max_trade_value"),
        ("c.yaml", "twap:\n  threshold_krw: .inf\n", "twap.threshold_krw"),
        ("c.yaml", "paper:\n  initial_balances:\n    BTC: .inf\n", "paper."),
        ("c.toml", "[risk]\nmax_trade_value = nan\n", "risk.max_trade_value"),
        ("c.toml", "[allocation]\nmin_order_krw = inf\n", "allocation.min_order_krw"),
        ("c.toml", "[llm]\ntimeout = inf\n", "llm.timeout"),
    ],
)
def test_non_finite_numbers_are_refused(
    tmp_path: Path, name: str, text: str, field: str
) -> None:
    message = refusal(write(tmp_path, name, text))
    assert field in message
    assert "finite number" in message


@pytest.mark.parametrize("field", BOOL_FIELDS, ids=".".join)
@pytest.mark.parametrize("value", ['"false"', '"true"', "0", "1", '"yes"', "null"])
def test_booleans_are_strict_in_json(tmp_path: Path, field: tuple[str, ...], value: str) -> None:
    message = refusal(write(tmp_path, "c.json", nested_json(field, value)))
    assert f"{'.'.join(field)}: {NOT_A_BOOLEAN}" in message


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("c.yaml", 'dry_run: "false"\n'),
        ("c.yaml", "dry_run: 0\n"),
        ("c.yaml", "dry_run: no\n"),
        ("c.yaml", "dry_run: off\n"),
        ("c.yaml", "dry_run: yes\n"),
        ("c.toml", 'dry_run = "false"\n'),
        ("c.toml", "dry_run = 0\n"),
    ],
)
def test_booleans_are_strict_in_yaml_and_toml(tmp_path: Path, name: str, text: str) -> None:
    assert f"dry_run: {NOT_A_BOOLEAN}" in refusal(write(tmp_path, name, text))


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("c.json", '{"dry_run": false}', False),
        ("c.yaml", "dry_run: false\n", False),
        ("c.yaml", "dry_run: False\n", False),
        ("c.yaml", "dry_run: TRUE\n", True),
        ("c.toml", "dry_run = false\n", False),
    ],
)
def test_real_booleans_are_accepted(tmp_path: Path, name: str, text: str, expected: bool) -> None:
    config = load_config(write(tmp_path, name, text), environ={}, dotenv=None)
    assert config.dry_run is expected


def test_yaml_one_point_one_words_stay_strings_elsewhere(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "c.yaml", "name: on\n"), environ={}, dotenv=None)
    assert config.name == "on"


@pytest.mark.parametrize(("raw", "expected"), [("false", False), ("FALSE", False),
                                               (" True ", True), ("true", True)])
def test_environment_booleans_accept_true_and_false(
    tmp_path: Path, raw: str, expected: bool
) -> None:
    path = write(tmp_path, "c.json", '{"dry_run": true, "twap": {"final_sweep": false}}')
    env = {"BITHUMB_TRADER__DRY_RUN": raw, "BITHUMB_TRADER__TWAP__FINAL_SWEEP": raw}
    config = load_config(path, environ=env, dotenv=None)
    assert config.dry_run is expected
    assert config.twap.final_sweep is expected


def test_dotenv_booleans_accept_true_and_false(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", '{"name": "x"}')
    dotenv = write(tmp_path, ".env", 'BITHUMB_TRADER__DRY_RUN="False"\n'
                   "BITHUMB_TRADER__RISK__REDUCE_ONLY=true\n")
    config = load_config(path, environ={}, dotenv=dotenv)
    assert config.dry_run is False
    assert config.risk.reduce_only is True


@pytest.mark.parametrize("raw", ["0", "1", "yes", "no", "off", "", "'false'"])
def test_environment_booleans_refuse_other_words(tmp_path: Path, raw: str) -> None:
    path = write(tmp_path, "c.json", '{"name": "x"}')
    message = refusal(path, environ={"BITHUMB_TRADER__LLM__CACHE": raw})
    assert f"llm.cache (from BITHUMB_TRADER__LLM__CACHE): {NOT_A_BOOLEAN}" in message


def test_environment_true_stays_a_string_for_string_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", '{"dry_run": true}')
    config = load_config(path, environ={"BITHUMB_TRADER__NAME": "true"}, dotenv=None)
    assert config.name == "true"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("bomb.yaml", billion_laughs(), ALIASES_REFUSED),
        ("empty.yaml", "# nothing here\n", EMPTY),
        ("empty.toml", "", EMPTY),
        ("list.json", "[]", f"{NOT_A_MAPPING} a list"),
        ("huge.json", nested_json(("risk", "max_trade_value"), "1e300"), "risk.max_trade_value"),
        ("nan.json", nested_json(("risk", "max_trade_value"), "NaN"), "finite number"),
        ("bool.json", '{"dry_run": "false"}', f"dry_run: {NOT_A_BOOLEAN}"),
    ],
)
def test_validate_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str, expected: str
) -> None:
    from bithumb_llm_trader.main import app  # here, so the loader tests need no CLI

    monkeypatch.chdir(tmp_path)  # no stray .env
    path = write(tmp_path, name, text)
    with deadline(5.0):
        result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}: ")
    assert expected in lines[0]
    assert result.stdout == ""
