from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bithumb_llm_trader.allocation import (
    CAP_FREE_CASH,
    CAP_LIQUIDITY,
    CAP_POSITION,
    CAP_SINGLE_ORDER,
    CAP_TRADE_VALUE,
    REASON_BELOW_MIN,
    AllocationRequest,
    evaluate_allocation,
)
from bithumb_llm_trader.config import AllocationConfig, RiskConfig, TwapConfig
from bithumb_llm_trader.domain import Side

from .books import book, btc_book

D = Decimal
ALLOC = AllocationConfig()
RISK = RiskConfig(max_trade_value=D(100_000_000), max_position_krw=D(1_000_000_000))
TWAP = TwapConfig(threshold_krw=D(1_000_000))


def buy(**changes: object) -> AllocationRequest:
    fields: dict[str, object] = {
        "side": Side.BUY, "equity_krw": D(10_000_000), "cash_krw": D(10_000_000),
        "reserved_pool_krw": D(2_000_000), "invested_krw": D(0), "position_size": D(0),
        "risk_pct": D("0.01"), "stop_fraction": D("0.02"), "orderbook": btc_book(),
        "fee_rate": D("0.0025"), "min_order_krw": D(5000),
    }
    fields.update(changes)
    return AllocationRequest(**fields)  # type: ignore[arg-type]


def test_fixed_fractional_size_then_caps() -> None:
    # desired = 10,000,000 * 0.01 / 0.02 = 5,000,000; single order cap 10% = 1,000,000
    proposal = evaluate_allocation(buy(), ALLOC, RISK, TWAP)
    assert proposal.desired_notional == D(5_000_000)
    assert proposal.final_notional == D(1_000_000)
    assert CAP_SINGLE_ORDER in proposal.caps_hit
    assert proposal.scale_factor == D("0.2")
    assert proposal.fee_estimate == D("2500.0000")
    assert proposal.use_twap is False  # 1,000,000 is not over the threshold
    assert proposal.expected_slippage_bps is not None and proposal.expected_slippage_bps > 0


def test_every_cap_is_named_when_it_bites() -> None:
    risk = RiskConfig(max_trade_value=D(300_000), max_position_krw=D(1_000_000))
    proposal = evaluate_allocation(buy(invested_krw=D(800_000)), ALLOC, risk, TWAP)
    assert proposal.final_notional == D(200_000)
    assert set(proposal.caps_hit) >= {CAP_TRADE_VALUE, CAP_POSITION, CAP_SINGLE_ORDER}
    thin = book(asks=[("100000000", "0.001")], bids=[("99990000", "0.001")])
    proposal = evaluate_allocation(buy(orderbook=thin), ALLOC, RISK, TWAP)
    assert proposal.final_notional == D(100_000)
    assert CAP_LIQUIDITY in proposal.caps_hit


def test_reserve_and_fee_are_never_spent() -> None:
    proposal = evaluate_allocation(
        buy(cash_krw=D(2_100_000), reserved_pool_krw=D(2_000_000)), ALLOC, RISK, TWAP
    )
    assert CAP_FREE_CASH in proposal.caps_hit
    assert proposal.final_notional * D("1.0025") <= D(100_000)
    committed = evaluate_allocation(
        buy(cash_krw=D(2_100_000), reserved_pool_krw=D(2_000_000), committed_krw=D(98_000)),
        ALLOC, RISK, TWAP,
    )
    assert committed.reason == REASON_BELOW_MIN and committed.final_notional == 0


def test_below_minimum_means_no_order() -> None:
    proposal = evaluate_allocation(buy(equity_krw=D(10_000), risk_pct=D("0.001")), ALLOC,
                                   RISK, TWAP)
    assert proposal.reason == REASON_BELOW_MIN
    assert not proposal.has_order


def test_large_orders_go_to_twap() -> None:
    alloc = AllocationConfig(max_single_order_pct=D(1), max_slippage_bps=D(100))
    proposal = evaluate_allocation(buy(equity_krw=D(100_000_000), cash_krw=D(100_000_000),
                                       reserved_pool_krw=D(0)), alloc, RISK, TWAP)
    assert proposal.final_notional > TWAP.threshold_krw
    assert proposal.use_twap


def test_sells_dispose_of_the_position_capped_by_the_book() -> None:
    request = buy(side=Side.SELL, position_size=D("0.013"), sell_fraction=D(1))
    proposal = evaluate_allocation(request, ALLOC, RISK, TWAP)
    assert proposal.volume == D("0.013")
    reduce = evaluate_allocation(buy(side=Side.SELL, position_size=D("0.013"),
                                     sell_fraction=D("0.5")), ALLOC, RISK, TWAP)
    assert reduce.volume == D("0.0065")
    big = evaluate_allocation(buy(side=Side.SELL, position_size=D(3)), ALLOC, RISK, TWAP)
    assert CAP_LIQUIDITY in big.caps_hit
    assert big.volume < D(3)


money = st.decimals(min_value=D(0), max_value=D(10_000_000_000), places=0)
fractions = st.decimals(min_value=D("0.0001"), max_value=D("0.05"), places=4)


@settings(max_examples=200, deadline=None)
@given(equity=money, cash=money, reserve=money, invested=money, risk_pct=fractions,
       stop=st.decimals(min_value=D("0.001"), max_value=D("0.5"), places=3))
def test_property_never_exceeds_any_cap(
    equity: Decimal, cash: Decimal, reserve: Decimal, invested: Decimal,
    risk_pct: Decimal, stop: Decimal,
) -> None:
    request = buy(equity_krw=equity, cash_krw=cash, reserved_pool_krw=reserve,
                  invested_krw=invested, risk_pct=risk_pct, stop_fraction=stop)
    proposal = evaluate_allocation(request, ALLOC, RISK, TWAP)
    assert proposal.final_notional >= 0
    for cap in proposal.caps.values():
        assert proposal.final_notional <= cap
    assert proposal.final_notional <= proposal.desired_notional
    # never into the reserve, fee included
    assert proposal.final_notional * (1 + request.fee_rate) <= max(cash - reserve, D(0))
    assert proposal.final_notional <= RISK.max_trade_value


@settings(max_examples=200, deadline=None)
@given(low=money, extra=money, cash=money, reserve=money, risk_pct=fractions)
def test_property_monotone_in_equity(
    low: Decimal, extra: Decimal, cash: Decimal, reserve: Decimal, risk_pct: Decimal
) -> None:
    small = evaluate_allocation(buy(equity_krw=low, cash_krw=cash, reserved_pool_krw=reserve,
                                    risk_pct=risk_pct), ALLOC, RISK, TWAP)
    large = evaluate_allocation(buy(equity_krw=low + extra, cash_krw=cash,
                                    reserved_pool_krw=reserve, risk_pct=risk_pct),
                                ALLOC, RISK, TWAP)
    assert small.final_notional <= large.final_notional


def test_a_full_exit_sells_the_exact_position_without_dust() -> None:
    position = D("0.00123457")
    proposal = evaluate_allocation(buy(side=Side.SELL, position_size=position), ALLOC, RISK,
                                   TWAP)
    assert proposal.volume == position  # not round_krw(value) / price, which leaves dust
