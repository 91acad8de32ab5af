"""Notifications as wired by the composition root: real cycles, a real TWAP, and a real
HTTP receiver on 127.0.0.1 as the ``json://`` target."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bithumb_llm_trader.bootstrap import trading_engine
from bithumb_llm_trader.bootstrap.notifying import build_notifier, close_notifier, engine_notices
from bithumb_llm_trader.domain import Mode
from bithumb_llm_trader.errors import NetworkError
from bithumb_llm_trader.notify.sender import Notifier
from bithumb_llm_trader.twap import TWAPExecutor

from ..engine.helpers import Rig, buy, hold, rig, rows
from ..gates import gated_executor
from ..twap import helpers as twap_helpers
from .receiver import Receiver

pytestmark = pytest.mark.anyio
D = Decimal


def wired(tmp_path: Path, receiver: Receiver, decisions: list[Any], *, live: bool = False,
          path: str = "/hook", **sections: Any) -> tuple[Rig, Any, Notifier]:
    """The engine rig, rebuilt the way ``bootstrap`` builds a run's engine."""
    notifications = {"urls": [receiver.url(path)], "daily_summary_at": None,
                     **sections.pop("notifications", {})}
    r = rig(tmp_path, decisions, live=live, notifications=notifications, **sections)
    notifier = build_notifier(r.config, r.store)
    assert isinstance(notifier, Notifier)
    mode = Mode.LIVE if live else Mode.DRY
    engine = trading_engine(r.config, exchange=r.exchange, decider=r.decider, store=r.store,
                            clock=r.clock, mode=mode, events=notifier,
                            notices=engine_notices(r.config, mode, notifier, r.store))
    return r, engine, notifier


def titles(receiver: Receiver, notifier: Notifier) -> list[str]:
    assert notifier.drain(5)
    return [body["title"] for body in receiver.bodies]


async def test_a_dry_cycle_that_buys_says_so(tmp_path: Path, receiver: Receiver) -> None:
    _, engine, notifier = wired(tmp_path, receiver, [buy()])
    result = await engine.run_cycle()
    assert result.execution and result.execution["status"] == "filled"
    assert titles(receiver, notifier) == [
        "[e2e/dry] bought 0.00100000 BTC at 100,000,000 KRW"]
    body = receiver.bodies[0]
    assert body["type"] == "info" and "fee" in body["message"]
    close_notifier(notifier)


async def test_the_kill_switch_halt_is_announced_once(tmp_path: Path,
                                                      receiver: Receiver) -> None:
    r, engine, notifier = wired(tmp_path, receiver, [buy()])
    await asyncio.to_thread(Path(r.config.risk.kill_switch_file or "").touch)
    await engine.run_cycle()
    r.clock.advance(900)
    await engine.run_cycle()  # still halted: no second message
    assert titles(receiver, notifier) == ["[e2e/dry] trading HALTED (was ACTIVE)"]
    assert "kill_switch" in receiver.bodies[0]["message"]
    close_notifier(notifier)


async def test_an_order_of_unknown_fate_is_announced(tmp_path: Path,
                                                     receiver: Receiver) -> None:
    r, engine, notifier = wired(tmp_path, receiver, [buy()], live=True)
    r.standin.post_faults = ["timeout_after"]

    async def unreachable(**ids: Any) -> Any:
        raise NetworkError("lookup timed out")

    engine.steps._orders.gate.get_order = unreachable  # type: ignore[method-assign]
    result = await engine.run_cycle()
    assert result.status == "failed"
    got = titles(receiver, notifier)
    assert any(t.startswith("[e2e/live] order btr-c-") and t.endswith("state UNKNOWN")
               for t in got), got
    assert "[e2e/live] cycle failed at execute" in got
    close_notifier(notifier)


async def test_five_failures_in_a_row_send_one_message_and_a_summary(
    tmp_path: Path, receiver: Receiver,
) -> None:
    r, engine, notifier = wired(tmp_path, receiver, [hold()])

    async def down(*args: object, **kwargs: object) -> object:
        raise RuntimeError("orderbook feed down")

    r.exchange.orderbook = down
    for _ in range(5):
        result = await engine.run_cycle()
        assert result.status == "failed"
        r.clock.advance(60)
    got = titles(receiver, notifier)
    # One cycle_failed (the rest held back by its quiet period), one streak message.
    assert got == ["[e2e/dry] cycle failed at snapshot",
                   "[e2e/dry] 5 cycles in a row failed"], got
    close_notifier(notifier)


async def test_the_daily_summary_goes_once_at_its_kst_time(tmp_path: Path,
                                                           receiver: Receiver) -> None:
    r, engine, notifier = wired(tmp_path, receiver, [hold()],
                                notifications={"daily_summary_at": "10:30"})
    # START is 01:00 UTC = 10:00 KST; cycles every 15 minutes until 11:30 KST.
    for _ in range(7):
        await engine.run_cycle()
        r.clock.advance(900)
    got = [t for t in titles(receiver, notifier) if "daily summary" in t]
    assert got == ["[e2e/dry] daily summary: equity 1,000,000 KRW, PnL 0 KRW"]
    close_notifier(notifier)


async def test_a_hanging_receiver_never_slows_a_cycle(tmp_path: Path,
                                                      receiver: Receiver) -> None:
    r, engine, notifier = wired(tmp_path, receiver, [buy()], path="/hang",
                                notifications={"timeout_s": 0.5})
    started = time.perf_counter()
    result = await engine.run_cycle()
    assert result.ok and time.perf_counter() - started < 1.0
    assert notifier.drain(5)
    recorded = rows(r.store, "notifications")
    assert [(n["event_kind"], n["status"]) for n in recorded] == [("order_filled", "failed")]
    close_notifier(notifier)


async def test_a_twap_that_ends_incomplete_says_so(tmp_path: Path, receiver: Receiver) -> None:
    t = twap_helpers.rig(tmp_path)
    notifications = {"urls": [receiver.url()]}
    config = rig(tmp_path / "cfg", [hold()], notifications=notifications).config
    notifier = build_notifier(config, t.store)
    orders = gated_executor(t.gateway, data=t.paper, account=t.paper, store=t.store,
                            clock=t.clock, owner="twap-test")
    executor = TWAPExecutor(t.paper, t.clock, t.store, strategy="twap-test", orders=orders,
                            events=notifier)
    # The book moves beyond the guard after the first slice: the rest cannot fill.
    t.market.at(twap_helpers.START + timedelta(minutes=1),
                twap_helpers.deep_book("101000000", "100990000"))
    report = await executor.run(twap_helpers.params(notional=D(400_000), slices=4,
                                                    duration=timedelta(minutes=4)))
    assert report.status == "incomplete"
    got = titles(receiver, notifier)
    assert got == ["[twap-test/dry] TWAP incomplete: 100,000 KRW of 400,000 KRW"], got
    assert receiver.bodies[0]["type"] == "warning"
    close_notifier(notifier)
