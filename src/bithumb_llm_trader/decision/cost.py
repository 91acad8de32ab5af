"""What a model call cost, in US dollars, from the strategy's price table.

Prices are USD per million tokens (``config.llm.prices``). The result is exact
``Decimal`` arithmetic rounded half-up to 1e-8 USD, small enough that a thousand
cheap calls still add up correctly. A model missing from the table costs ``None``
(unknown), never zero: an unknown cost must not look free in the report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from ..config import TokenPrice

USD_STEP = Decimal("0.00000001")
_PER_MILLION = Decimal(1_000_000)
_DATED_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def price_for(model: str, prices: Mapping[str, TokenPrice]) -> TokenPrice | None:
    """The price of ``model``; a dated snapshot (``gpt-4o-2024-08-06``) falls back to
    its family's price (``gpt-4o``) when it has none of its own."""
    if model in prices:
        return prices[model]
    return prices.get(_DATED_SNAPSHOT.sub("", model))


def estimate_cost_usd(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    prices: Mapping[str, TokenPrice],
) -> Decimal | None:
    """Cost of one or more calls to ``model``, or ``None`` when its price is unknown."""
    price = price_for(model, prices)
    if price is None:
        return None
    total = (
        Decimal(prompt_tokens) * price.input_usd_per_million
        + Decimal(completion_tokens) * price.output_usd_per_million
    ) / _PER_MILLION
    return total.quantize(USD_STEP, rounding=ROUND_HALF_UP)
