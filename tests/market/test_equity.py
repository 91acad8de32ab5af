"""Equity in KRW and the account view, on small hand-built balances."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest

from bithumb_llm_trader.domain import Balance, Market
from bithumb_llm_trader.market import build_account_view, estimate_total_krw

from ._factories import FIXTURES, KRW_BTC, balance

PRICES = {"BTC": Decimal(150_000_000), "ETH": Decimal(4_000_000)}
BALANCES = [
    balance("KRW", "1000000", locked="50000"),
    balance("BTC", "0.01", locked="0.005", avg="100000000"),
    balance("ETH", "0", locked="0", avg="3000000"),  # sold out: skipped
    balance("XYZ", "5"),  # no KRW market: listed, left out
]


def test_equity_counts_free_and_locked_at_krw_prices(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="bithumb_llm_trader.market"):
        estimate = estimate_total_krw(BALANCES, PRICES)
    # KRW 1,000,000 + 50,000 = 1,050,000; BTC 0.015 x 150,000,000 = 2,250,000
    assert estimate.equity_krw == Decimal(3_300_000)
    assert [h.currency for h in estimate.holdings] == ["KRW", "BTC", "XYZ"]
    krw, btc, xyz = estimate.holdings
    assert (krw.size, krw.locked, krw.price_krw, krw.value_krw) == (
        Decimal(1_050_000), Decimal(50_000), Decimal(1), Decimal(1_050_000))
    assert (btc.size, btc.price_krw, btc.value_krw) == (
        Decimal("0.015"), Decimal(150_000_000), Decimal(2_250_000))
    assert btc.avg_buy_price == Decimal(100_000_000)
    assert (xyz.size, xyz.price_krw, xyz.value_krw) == (Decimal(5), None, None)
    assert estimate.unpriced == ("XYZ",)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "XYZ" in warnings[0].getMessage()


def test_no_warning_when_everything_is_priced(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        estimate = estimate_total_krw(BALANCES[:3], PRICES)
    assert estimate.unpriced == ()
    assert not caplog.records


def test_non_positive_price_counts_as_unpriced() -> None:
    estimate = estimate_total_krw([balance("BTC", "1")], {"BTC": Decimal(0)})
    assert estimate.equity_krw == 0 and estimate.unpriced == ("BTC",)


def test_empty_account_is_worth_zero() -> None:
    estimate = estimate_total_krw([balance("KRW", "0")], {})
    assert estimate.equity_krw == Decimal(0)
    assert estimate.holdings == () and estimate.unpriced == ()


def test_values_are_exact_products() -> None:
    estimate = estimate_total_krw([balance("BTC", "0.00000001")],
                                  {"BTC": Decimal("123456789")})
    assert estimate.equity_krw == Decimal("1.23456789")


def test_account_view() -> None:
    view = build_account_view(BALANCES, PRICES, KRW_BTC, Decimal("0.2"))
    assert view.cash_krw == Decimal(1_000_000)
    assert view.locked_krw == Decimal(50_000)
    assert view.equity_krw == Decimal(3_300_000)
    assert view.reserved_pool_krw == Decimal(660_000)  # 0.2 x 3,300,000
    assert view.spendable_krw == Decimal(340_000)
    assert view.position.market == KRW_BTC
    assert view.position.size == Decimal("0.015")  # free + locked
    assert view.position.avg_price == Decimal(100_000_000)
    assert view.unpriced == ("XYZ",)
    assert len(view.holdings) == 3


def test_reserved_pool_is_rounded_down_to_whole_won() -> None:
    balances = [balance("KRW", "1000"), balance("BTC", "0.00000333")]
    view = build_account_view(balances, {"BTC": Decimal(150_000_000)}, KRW_BTC,
                              Decimal("0.3"))
    # equity 1,000 + 499.5 = 1,499.5; x 0.3 = 449.85 -> 449
    assert view.equity_krw == Decimal("1499.5")
    assert view.reserved_pool_krw == Decimal(449)


def test_account_without_the_coin_or_cash() -> None:
    view = build_account_view([balance("ETH", "1")], PRICES, KRW_BTC, Decimal(0))
    assert view.position.size == 0 and view.position.avg_price == 0
    assert view.cash_krw == 0 and view.locked_krw == 0
    assert view.equity_krw == Decimal(4_000_000)
    assert view.reserved_pool_krw == 0


@pytest.mark.parametrize("pct", [Decimal(-1), Decimal(1), Decimal("1.5")])
def test_reserved_pool_pct_must_be_a_fraction_below_one(pct: Decimal) -> None:
    with pytest.raises(ValueError, match="reserved_pool_pct"):
        build_account_view(BALANCES, PRICES, KRW_BTC, pct)


def test_account_view_needs_a_krw_market() -> None:
    with pytest.raises(ValueError, match="KRW"):
        build_account_view(BALANCES, PRICES, Market("BTC", "ETH"), Decimal(0))


def test_documented_accounts_answer() -> None:
    rows = json.loads((FIXTURES / "v1_accounts.json").read_text(), parse_float=Decimal)
    balances = [Balance(currency=r["currency"], balance=Decimal(r["balance"]),
                        locked=Decimal(r["locked"]), avg_buy_price=Decimal(r["avg_buy_price"]))
                for r in rows]
    view = build_account_view(balances, {"BTC": Decimal(50_000_000)}, KRW_BTC, Decimal("0.1"))
    # KRW 10,981,650.10635 + 98,246 + BTC 124.45272908 x 50,000,000 (= 6,222,636,454)
    # = 6,233,716,350.10635; ETH has no price
    assert view.equity_krw == Decimal("6233716350.10635")
    assert view.unpriced == ("ETH",)
    assert view.reserved_pool_krw == Decimal(623_371_635)  # 0.1 x equity = ...635.01
