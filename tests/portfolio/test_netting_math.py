"""The pure netting math: what crosses inside, what goes out, who gets what."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bithumb_llm_trader.domain import Market, Side, round_volume
from bithumb_llm_trader.multi_agent import (
    ExternalFill,
    Intent,
    active_shares,
    cross_price,
    passive_shares,
    plan_netting,
    split,
)
from bithumb_llm_trader.multi_agent.netting import plan_from_json, plan_to_json

D = Decimal
BTC = Market("KRW", "BTC")
P = D(100_000_000)


def intent(name: str, side: Side, amount: str) -> Intent:
    return Intent(strategy=name, client_order_id=f"bt-{name}", market=BTC, side=side,
                  amount=D(amount), requested=D(amount))


def test_opposite_sides_cross_and_only_the_rest_goes_out() -> None:
    plan = plan_netting("pf-1", BTC, [intent("a", Side.BUY, "300000"),
                                      intent("b", Side.SELL, "0.001")],
                        price=P, min_order_krw=D(5000))
    assert plan.active_side is Side.BUY and plan.cross_volume == D("0.001")
    assert plan.external_amount == D(200000)  # 300,000 asked - 0.001 BTC from B
    (seller,) = passive_shares(plan)
    assert seller.volume == D("0.001") and seller.funds == D(100000) and seller.fee == 0
    (buyer,) = active_shares(plan, ExternalFill(D("0.002"), D(200000), D(500), True))
    assert buyer.volume == D("0.003") and buyer.funds == D(300000) and buyer.fee == D(500)
    assert buyer.complete and seller.complete


def test_a_perfect_match_sends_nothing() -> None:
    plan = plan_netting("pf-1", BTC, [intent("a", Side.BUY, "100000"),
                                      intent("b", Side.SELL, "0.001")],
                        price=P, min_order_krw=D(5000))
    assert not plan.sends_order and plan.reason is None
    (buyer,) = active_shares(plan, ExternalFill())
    assert buyer.volume == D("0.001") and buyer.complete


def test_a_remainder_under_the_minimum_is_not_sent() -> None:
    plan = plan_netting("pf-1", BTC, [intent("a", Side.BUY, "100000"),
                                      intent("b", Side.SELL, "0.00099")],
                        price=P, min_order_krw=D(5000))
    assert not plan.sends_order and plan.reason == "below_min_order"
    (buyer,) = active_shares(plan, ExternalFill())
    assert buyer.volume == D("0.00099") and not buyer.complete


def test_sellers_are_never_left_with_unsellable_coins() -> None:
    """A sell remainder under the minimum would strand coins: the buyer gets less instead."""
    plan = plan_netting("pf-1", BTC, [intent("a", Side.BUY, "199950"),
                                      intent("b", Side.SELL, "0.002")],
                        price=P, min_order_krw=D(5000))
    assert plan.active_side is Side.SELL and plan.sends_order
    assert plan.external_amount == D("0.00005")  # exactly the 5,000 KRW minimum
    (buyer,) = passive_shares(plan)
    assert buyer.volume == D("0.00195") and not buyer.complete  # wanted 0.0019995
    (seller,) = active_shares(plan, ExternalFill(D("0.00005"), D(5000), D("12.5"), True))
    assert seller.volume == D("0.002") and seller.complete


def test_same_side_intents_share_the_fill_in_proportion() -> None:
    plan = plan_netting("pf-1", BTC, [intent("a", Side.BUY, "100000"),
                                      intent("b", Side.BUY, "200000")],
                        price=P, min_order_krw=D(5000))
    assert plan.external_amount == D(300000) and plan.cross_volume == 0
    fill = ExternalFill(D("0.00299999"), D("299999.99"), D("749.99"), True)
    a, b = active_shares(plan, fill)
    assert a.volume + b.volume == fill.volume
    assert a.funds + b.funds == fill.funds and a.fee + b.fee == fill.fee
    assert abs(b.volume - 2 * a.volume) <= D("0.00000002")


def test_partial_external_fill_leaves_the_active_side_incomplete() -> None:
    plan = plan_netting("pf-1", BTC, [intent("a", Side.SELL, "0.01")],
                        price=P, min_order_krw=D(5000))
    (share,) = active_shares(plan, ExternalFill(D("0.004"), D(400000), D(1000), False))
    assert share.volume == D("0.004") and not share.complete


def test_cross_price_is_the_mid_to_eight_decimals() -> None:
    assert cross_price(D(99_999_000), D(100_000_000)) == D(99_999_500)
    assert cross_price(D("0.00000001"), D("0.00000002")) == D("0.00000002")  # half-even


def test_split_is_exact_and_fair() -> None:
    assert split(D(10), [D(1), D(1), D(1)], D(1)) == [D(4), D(3), D(3)]
    assert sum(split(D("0.00000005"), [D(1)] * 3)) == D("0.00000005")
    assert split(D(0), [D(1), D(2)]) == [D(0), D(0)]
    assert split(D("1.000000001"), [D(1)]) == [D("1.000000001")]  # off-grid residue kept


def test_plans_survive_a_round_trip_through_json() -> None:
    plan = plan_netting("pf-1", BTC, [intent("a", Side.BUY, "300000"),
                                      intent("b", Side.SELL, "0.001")],
                        price=P, min_order_krw=D(5000))
    assert plan_from_json(plan_to_json(plan)) == plan


amounts = st.integers(min_value=1, max_value=10**9)


@settings(max_examples=200, deadline=None)
@given(
    buys=st.lists(st.integers(min_value=5_000, max_value=5_000_000), max_size=5),
    sells=st.lists(amounts, max_size=5),
    filled=st.fractions(min_value=0, max_value=1),
    price=st.integers(min_value=1_000, max_value=200_000_000),
)
def test_nothing_is_created_or_lost(buys: list[int], sells: list[int], filled: object,
                                    price: int) -> None:
    """Coins and KRW out of the sellers, buyers and the exchange always balance."""
    intents = ([intent(f"b{k}", Side.BUY, str(v)) for k, v in enumerate(buys)]
               + [intent(f"s{k}", Side.SELL, str(D(v) / 10**8)) for k, v in enumerate(sells)])
    if not intents:
        return
    plan = plan_netting("pf", BTC, intents, price=D(price), min_order_krw=D(5000))
    ratio = D(filled.numerator) / D(filled.denominator)  # type: ignore[attr-defined]
    ext_volume = ext_funds = D(0)
    if plan.sends_order:
        wanted = plan.external_amount * ratio
        if plan.active_side is Side.BUY:
            wanted /= price
        ext_volume = round_volume(wanted)
        ext_funds = ext_volume * price
    fee = (ext_funds * D("0.0025")).quantize(D("0.01"), "ROUND_DOWN")
    shares = passive_shares(plan) + active_shares(plan, ExternalFill(ext_volume, ext_funds, fee))
    bought = [s for s in shares if s.intent.side is Side.BUY]
    sold = [s for s in shares if s.intent.side is Side.SELL]
    sign = 1 if plan.active_side is Side.BUY else -1
    assert sum(s.volume for s in bought) - sum(s.volume for s in sold) == sign * ext_volume
    assert sum(s.funds for s in bought) - sum(s.funds for s in sold) == sign * ext_funds
    assert sum(s.fee for s in shares) == fee
    for share in shares:
        assert share.volume >= 0 and share.funds >= 0 and share.fee >= 0
        if share.intent.side is Side.SELL:
            assert share.volume <= share.intent.amount
        else:
            assert share.funds <= share.intent.amount


def test_split_respects_caps() -> None:
    # Without the cap the first share would take the larger remainder.
    assert split(D("0.00000003"), [D(2), D(1)], caps=[D("0.00000001"), D(1)]) == [
        D("0.00000001"), D("0.00000002")]
    assert split(D(10), [D(1), D(1)], D(1), caps=[D(3), D(10)]) == [D(3), D(7)]
    with pytest.raises(ValueError, match="cannot split"):
        split(D(10), [D(1), D(1)], D(1), caps=[D(3), D(3)])
