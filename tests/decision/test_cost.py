"""Token cost in USD from the configured price table."""

from __future__ import annotations

from decimal import Decimal

from bithumb_llm_trader.config import LLMConfig, TokenPrice
from bithumb_llm_trader.decision import estimate_cost_usd, price_for

PRICES = LLMConfig().prices


def test_cost_from_the_default_prices() -> None:
    # gpt-4o: 2.50 in, 10.00 out per million -> 1234 * 2.5e-6 + 567 * 1e-5
    assert estimate_cost_usd("gpt-4o", 1234, 567, PRICES) == Decimal("0.008755")


def test_cost_is_quantized_half_up_to_1e_8() -> None:
    prices = {"m": TokenPrice(input_usd_per_million=Decimal("0.015"),
                              output_usd_per_million=Decimal(0))}
    # 1 token * 0.015 / 1e6 = 1.5e-8 -> 2e-8 (half up)
    cost = estimate_cost_usd("m", 1, 0, prices)
    assert cost == Decimal("0.00000002")
    assert cost.as_tuple().exponent == -8


def test_a_dated_snapshot_uses_its_family_price() -> None:
    assert price_for("gpt-4o-mini-2024-07-18", PRICES) == PRICES["gpt-4o-mini"]
    assert estimate_cost_usd("gpt-4o-2024-08-06", 1_000_000, 0, PRICES) == Decimal("2.5")


def test_an_unknown_model_has_no_cost() -> None:
    assert estimate_cost_usd("llama3.1:8b", 1000, 100, PRICES) is None
    assert price_for("gpt-4o-mini-preview", PRICES) is None


def test_zero_tokens_cost_zero_for_a_known_model() -> None:
    assert estimate_cost_usd("gpt-4o-mini", 0, 0, PRICES) == 0
