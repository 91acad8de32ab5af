"""An order is sent at most once in effect, whatever the network does."""

import logging
from decimal import Decimal

import pytest

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.domain import Mode, OrderRequest, OrderState, OrderType, Side
from bithumb_llm_trader.errors import AuthError, ExchangeRejected, OrderStateUnknown
from bithumb_llm_trader.paper import PaperExchange

from ..gates import gated_executor
from .books import KRW_BTC, T0
from .fakes import FaultyGateway, MemoryOrderStore, MemoryPaperStore, StaticMarket

pytestmark = pytest.mark.anyio
D = Decimal


def setup(post_faults=(), lookup_faults=()):  # type: ignore[no-untyped-def]
    clock = ManualClock(T0)
    paper = PaperExchange(StaticMarket(), MemoryPaperStore(), strategy="s", clock=clock,
                          initial_balances={"KRW": D(1_000_000)}, fee_rate=D("0.0025"),
                          min_order_krw=D(5000))
    gateway = FaultyGateway(paper, post_faults, lookup_faults)
    store = MemoryOrderStore()
    executor = gated_executor(gateway, data=paper, account=paper, store=store, clock=clock)
    return executor, gateway, store, paper


REQUEST = OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.MARKET,
                       client_order_id="bt-1", notional=D(100_000))



async def test_clean_send_is_recorded_pending_first() -> None:
    executor, gateway, store, _ = setup()
    report = await executor.execute(REQUEST, run_id="r1")
    assert report.status == "filled"
    assert store.history[0] == ("bt-1", "pending")
    assert store.orders["bt-1"].state == "done"
    assert len(store.fills) == 1
    assert gateway.posts == ["bt-1"]


@pytest.mark.parametrize("fault", ["timeout_after", "500_after"])
async def test_accepted_then_lost_answer_is_found_not_resent(fault: str) -> None:
    executor, gateway, store, paper = setup(post_faults=[fault])
    report = await executor.execute(REQUEST, run_id="r1")
    assert gateway.posts == ["bt-1"]  # exactly one POST
    assert report.status == "filled"
    assert store.orders["bt-1"].order_id == "paper-bt-1"
    assert [e["event"] for e in report.events][:3] == ["recorded", "send_failed", "lookup"]
    assert (await paper.accounts())[0].currency == "BTC"


@pytest.mark.parametrize("fault", ["timeout_before", "500_before", "429"])
async def test_confirmed_absent_is_resent_once_with_the_same_id(fault: str) -> None:
    executor, gateway, _, _ = setup(post_faults=[fault])
    report = await executor.execute(REQUEST, run_id="r1")
    assert gateway.posts == ["bt-1", "bt-1"]
    assert report.status == "filled"
    assert any(e["event"] == "resend" for e in report.events)


async def test_two_failures_give_up_without_a_third_send() -> None:
    executor, gateway, store, _ = setup(post_faults=["timeout_before", "timeout_before"])
    report = await executor.execute(REQUEST, run_id="r1")
    assert gateway.posts == ["bt-1", "bt-1"]
    assert report.status == "not_sent"
    assert store.orders["bt-1"].state == "not_sent"


async def test_lookup_that_keeps_failing_marks_unknown_and_stops() -> None:
    executor, gateway, store, _ = setup(post_faults=["timeout_after"],
                                        lookup_faults=["timeout"] * 3)
    with pytest.raises(OrderStateUnknown):
        await executor.execute(REQUEST, run_id="r1")
    assert gateway.posts == ["bt-1"]
    assert store.orders["bt-1"].state == "unknown"
    # The next run reconciles it: the order is there, filled.
    settled = await executor.reconcile(store.orders["bt-1"])
    assert settled.state == OrderState.DONE.value
    assert len(store.fills) == 1


async def test_slow_indexing_is_waited_for() -> None:
    executor, gateway, _, _ = setup(post_faults=["timeout_after"],
                                    lookup_faults=["not_found", "not_found"])
    report = await executor.execute(REQUEST, run_id="r1")
    assert gateway.posts == ["bt-1"]
    assert report.status == "filled"


async def test_rejection_is_recorded_not_raised() -> None:
    executor, gateway, store, _ = setup()

    async def refuse(request):  # type: ignore[no-untyped-def]
        raise ExchangeRejected("insufficient funds", status=400, name="insufficient_funds")

    gateway.place_order = refuse  # type: ignore[method-assign]
    report = await executor.execute(REQUEST, run_id="r1")
    assert report.status == "rejected" and "insufficient" in (report.error or "")
    assert store.orders["bt-1"].state == "rejected"


async def test_a_refusal_by_the_gate_is_recorded_and_nothing_is_sent() -> None:
    executor, gateway, store, _ = setup()
    too_big = OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.MARKET,
                           client_order_id="bt-2", notional=D(5_000_000))
    report = await executor.execute(too_big, run_id="r1")
    assert report.status == "refused" and report.refused == "insufficient_balance"
    assert (report.error or "").startswith("insufficient_balance: ")
    assert store.orders["bt-2"].state == "rejected"
    assert (store.orders["bt-2"].error or "").startswith("insufficient_balance")
    assert gateway.posts == []


@pytest.mark.parametrize(("mode", "level"), [(Mode.DRY, logging.WARNING),
                                             (Mode.LIVE, logging.WARNING),
                                             (Mode.BACKTEST, logging.INFO)])
async def test_a_refusal_is_a_warning_except_in_a_backtest_which_counts_it(
        mode: Mode, level: int, caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock(T0)
    paper = PaperExchange(StaticMarket(), MemoryPaperStore(), strategy="s", clock=clock,
                          initial_balances={"KRW": D(1_000_000)}, fee_rate=D("0.0025"),
                          min_order_krw=D(5000))
    executor = gated_executor(FaultyGateway(paper, (), ()), data=paper, account=paper,
                              store=MemoryOrderStore(), clock=clock, mode=mode)
    too_big = OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.MARKET,
                           client_order_id="bt-3", notional=D(5_000_000))
    with caplog.at_level(logging.INFO, logger="bithumb_llm_trader.execution"):
        report = await executor.execute(too_big, run_id="r1")
    assert report.status == "refused"
    (line,) = [r for r in caplog.records if "bt-3 refused" in r.getMessage()]
    assert line.levelno == level


async def test_auth_errors_stop_the_run() -> None:
    executor, gateway, store, _ = setup()

    async def refuse(request):  # type: ignore[no-untyped-def]
        raise AuthError("invalid_access_key", status=401, name="invalid_access_key")

    gateway.place_order = refuse  # type: ignore[method-assign]
    with pytest.raises(AuthError):
        await executor.execute(REQUEST, run_id="r1")
    assert store.orders["bt-1"].state == "rejected"


async def test_crash_between_send_and_record_is_reconciled() -> None:
    executor, _, store, paper = setup()
    # Simulate: the pending row was written, the order was sent, then the process died.
    record = executor._pending_record(REQUEST, "r1", None, None)
    store.save_order(record)
    await paper.place_order(REQUEST)
    settled = await executor.reconcile(store.orders["bt-1"])
    assert settled.state == "done" and settled.executed_volume > 0
    assert len(store.fills) == 1
    # A pending order that never reached the exchange is confirmed not sent.
    ghost = executor._pending_record(
        OrderRequest(market=KRW_BTC, side=Side.BUY, order_type=OrderType.MARKET,
                     client_order_id="bt-9", notional=D(10_000)), "r1", None, None)
    store.save_order(ghost)
    assert (await executor.reconcile(ghost)).state == "not_sent"


async def test_an_id_already_on_the_exchange_is_followed_not_replaced() -> None:
    executor, gateway, _, paper = setup()
    await paper.place_order(REQUEST)  # placed by a run that died before recording it
    report = await executor.execute(REQUEST, run_id="r2")
    assert report.status == "filled"
    assert gateway.posts == ["bt-1"]  # the one refused attempt; nothing else placed
    assert [e["event"] for e in report.events][:3] == [
        "recorded", "duplicate_client_order_id", "lookup"]
    assert len([b for b in await paper.accounts() if b.currency == "BTC"]) == 1


async def test_an_order_in_a_state_we_do_not_know_is_recorded_unknown_and_stops() -> None:
    # The exchange answers with a state we cannot read: it may have filled. Recorded
    # ``unknown`` (trading halts until reconciled), never ``open`` with nothing filled.
    from dataclasses import replace

    executor, gateway, store, _ = setup()
    place, lookup = gateway.place_order, gateway.get_order

    async def odd_place(request):  # type: ignore[no-untyped-def]
        return replace(await place(request), state=OrderState.UNKNOWN, fills=())

    async def odd_lookup(**ids):  # type: ignore[no-untyped-def]
        return replace(await lookup(**ids), state=OrderState.UNKNOWN)

    gateway.place_order = odd_place  # type: ignore[method-assign]
    gateway.get_order = odd_lookup  # type: ignore[method-assign]
    with pytest.raises(OrderStateUnknown):
        await executor.execute(REQUEST, run_id="r1")
    assert store.orders["bt-1"].state == "unknown"
    assert gateway.posts == ["bt-1"]


async def test_a_market_order_never_seen_after_acceptance_is_unknown_not_open() -> None:
    # Accepted (state wait, nothing filled yet), then every lookup fails: it may have
    # filled, so it is recorded unknown and trading halts, never "open, 0 filled".
    from dataclasses import replace

    executor, gateway, store, _ = setup(lookup_faults=["timeout"] * 10)
    place = gateway.place_order

    async def accepted_only(request):  # type: ignore[no-untyped-def]
        order = await place(request)
        return replace(order, state=OrderState.WAIT, fills=(), executed_volume=D(0),
                       executed_funds=D(0), paid_fee=D(0))

    gateway.place_order = accepted_only  # type: ignore[method-assign]
    with pytest.raises(OrderStateUnknown):
        await executor.execute(REQUEST, run_id="r1")
    assert store.orders["bt-1"].state == "unknown"
    assert gateway.posts == ["bt-1"]
