"""The seed document's own strategy file, run exactly as shipped (issue 17).

``examples/seed.config.json`` is the file the project's seed document gave: placeholder
Bithumb keys, ``max_position_size: 0.2`` (a share of equity) and no ``strategy``
section, so the decider is ``llm`` and, with no OpenAI key, a dry run uses the rules.
The stand-in's candles here rise with pullbacks, so the rules say buy, and the cycle
must buy: neither the placeholder keys nor the position share may stop it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from bithumb_llm_trader.config import load_config
from bithumb_llm_trader.main import app

from .test_run_cli import stand_in, table_rows

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed.config.json"
SEED_TEXT = """\
{"api": {"api_key": "YOUR_BITHUMB_API_KEY", "api_secret": "YOUR_BITHUMB_API_SECRET",
         "base_url": "https://api.bithumb.com", "timeout": 10.0},
 "trading_pair": {"order_currency": "BTC", "payment_currency": "KRW"},
 "risk": {"max_trade_value": 1000000, "max_position_size": 0.2, "stop_loss_pct": 0.02,
          "take_profit_pct": 0.03, "min_confidence": 0.6},
 "llm": {"model": "gpt-4o-mini", "temperature": 0.0, "max_output_tokens": 512},
 "dry_run": true}
"""


def rising(candles: list[dict[str, Any]], last: Decimal) -> list[dict[str, Any]]:
    """Rewrite newest-first candles into an uptrend with pullbacks ending at ``last``.

    Each pair of candles climbs 30,000 and gives back 20,000: EMA(12) stays above
    EMA(26) and the close above both, while the pullbacks keep RSI near 60, under the
    rules' 70. Each candle ranges 1.2% (ATR about 1.2 M KRW), so the ATR-based target
    clears the round-trip fee and spread the cost filter asks for.
    """
    for age, candle in enumerate(candles):
        close = last - Decimal(5_000 * age) - (Decimal(25_000) if age % 2 else Decimal(0))
        candle.update(opening_price=int(close - 10_000), high_price=int(close + 600_000),
                      low_price=int(close - 600_000), trade_price=int(close))
    return candles


def with_rising_candles(inner: httpx.MockTransport, last: Decimal) -> httpx.MockTransport:
    """The stand-in exchange, but its candles trend up."""

    def handle(request: httpx.Request) -> httpx.Response:
        response = inner.handle_request(request)
        if not request.url.path.startswith("/v1/candles/"):
            return response
        body = rising(json.loads(response.read(), parse_float=Decimal), last)
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handle)


def test_the_seed_file_is_saved_verbatim() -> None:
    assert SEED.read_text(encoding="utf-8") == SEED_TEXT


def test_the_seed_file_reads_its_share_and_ignores_its_placeholder_keys() -> None:
    config = load_config(SEED, environ={}, dotenv=None)
    assert config.risk.max_position_size == Decimal("0.2")
    assert config.risk.max_position_krw == Decimal(500_000)  # the default
    assert config.api.api_key is None and config.api.api_secret is None
    assert not config.api.has_keys
    assert config.strategy.decider == "llm"


def test_a_dry_cycle_of_the_seed_file_buys(workdir: Path) -> None:
    standin, clock = stand_in()
    transport = with_rising_candles(standin.transport(), standin.price)
    result = CliRunner().invoke(app, ["run", str(SEED), "--json"],
                                obj={"transport": transport, "clock": clock})
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["status"] == "ok" and out["mode"] == "dry"
    assert any("rule-based" in note for note in out["notes"])
    assert out["decision"]["decider"] == "rules"
    assert out["decision"]["action"] == "buy", out["decision"]
    assert out["execution"]["status"] == "filled", out
    # The placeholder keys were never sent: no private call, so no 401 either.
    assert not [r for r in standin.requests if r.headers.get("authorization")]
    tables = table_rows(workdir / "bithumb_trader.db")
    allocation = tables["allocation_proposals"][0]
    caps = json.loads(allocation["details_json"])["caps"]
    # 0.2 of 1,000,000 KRW equity: the share binds before the 500,000 KRW default.
    assert Decimal(caps["max_position"]) == Decimal(200_000)
    assert Decimal(allocation["final_notional"]) <= Decimal(200_000)
    # Before issue 17 the 0.2 was read as KRW and the buy was refused outright.
    assert [v["approved"] for v in tables["risk_verdicts"]] == [1]
    assert Decimal(out["execution"]["filled_funds"]) > 0
