"""Each builder: the kind, the level and the exact text, money to the won / 8 decimals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from bithumb_llm_trader.domain import Market, Side
from bithumb_llm_trader.notify import EventKind, Level, events
from bithumb_llm_trader.notify.record import last_sent_at
from bithumb_llm_trader.notify.sender import Notifier
from bithumb_llm_trader.risk import TradingState

from .helpers import T0, a_fill, minutes, settings, store
from .receiver import Receiver


def test_money_formats_exactly() -> None:
    assert events.krw(Decimal("1234567.5")) == "1,234,568 KRW"
    assert events.krw(Decimal("-20000.4")) == "-20,000 KRW"
    assert events.volume(Decimal("0.123456789"), "BTC") == "0.12345678 BTC"
    assert events.volume(Decimal(2), "ETH") == "2.00000000 ETH"
    assert events.price(Decimal("95123456.7")) == "95,123,457 KRW"
    assert events.price(Decimal("812.3")) == "812 KRW"
    assert events.price(Decimal("0.03456")) == "0.0346 KRW"


def test_order_filled_keeps_the_exact_values_in_details() -> None:
    event = events.order_filled("s", "live", Side.SELL, Decimal("0.5"), Decimal("90000000"),
                                Decimal("45000000"), Decimal("112500"), T0,
                                market=Market("KRW", "ETH"), twap_run="tw-1")
    assert (event.kind, event.level) == (EventKind.ORDER_FILLED, Level.INFO)
    assert event.title == "[s/live] sold 0.50000000 ETH at 90,000,000 KRW"
    assert event.body.splitlines()[0] == (
        "sell TWAP tw-1 filled on KRW-ETH: 0.50000000 ETH at 90,000,000 KRW on average")
    assert event.details["funds"] == "45000000" and event.details["side"] == "sell"
    assert "order_id" not in event.details  # empty values are left out
    assert a_fill().details["volume"] == "0.00123456789"


def test_twap_ends_map_to_their_kinds() -> None:
    def ended(status: str) -> events.Event:
        return events.twap_ended("s", "dry", "tw-9", status, "buy", Decimal(600000),
                                 Decimal(1000000), Decimal("95000000"), T0,
                                 unit="notional", reason="book too thin")

    assert [(ended(s).kind, ended(s).level) for s in ("done", "incomplete", "stopped",
                                                      "failed")] == [
        (EventKind.TWAP_FINISHED, Level.INFO), (EventKind.TWAP_INCOMPLETE, Level.WARNING),
        (EventKind.TWAP_STOPPED, Level.WARNING), (EventKind.TWAP_INCOMPLETE, Level.ERROR)]
    incomplete = ended("incomplete")
    assert incomplete.title == "[s/dry] TWAP incomplete: 600,000 KRW of 1,000,000 KRW"
    assert incomplete.body == ("buy TWAP tw-9 on KRW-BTC: incomplete\n"
                               "filled 600,000 KRW of 1,000,000 KRW (60.00%)\n"
                               "average price 95,000,000 KRW\n"
                               "reason: book too thin\n"
                               "at 2026-03-02 09:00:00 KST")


def test_state_changes_name_the_new_state_and_why() -> None:
    halted = events.trading_state_changed("s", "live", TradingState.ACTIVE,
                                          TradingState.HALTED, ["kill switch file KILL_SWITCH"],
                                          T0)
    assert (halted.kind, halted.level) == (EventKind.TRADING_HALTED, Level.ERROR)
    assert halted.title == "[s/live] trading HALTED (was ACTIVE)"
    assert "reason: kill switch file KILL_SWITCH" in halted.body
    back = events.trading_state_changed("s", "live", "halted", "active", [], T0)
    assert (back.kind, back.level) == (EventKind.TRADING_ACTIVE, Level.INFO)
    reducing = events.trading_state_changed("s", "live", "active", "reducing", ["x"], T0)
    assert reducing.kind is EventKind.TRADING_REDUCING


def test_the_other_builders() -> None:
    unknown = events.order_unknown("s", "live", "c-7", "timeout after send", T0,
                                   side=Side.BUY, volume_asked=Decimal("0.01"))
    assert (unknown.kind, unknown.level) == (EventKind.ORDER_UNKNOWN, Level.ERROR)
    assert unknown.body.startswith("buy order c-7 0.01000000 BTC on KRW-BTC: its state is")
    settled = events.order_settled("s", "live", "c-7", "filled", T0, filled=Decimal("0.01"))
    assert settled.title == "[s/live] order c-7 settled: filled"
    summary = events.daily_summary("s", "dry", Decimal("1012345.6"), Decimal("12345.6"),
                                   Decimal("2530"), Decimal("0.0421"), T0, trades=3)
    assert summary.body == ("equity 1,012,346 KRW\nPnL +12,346 KRW\nfees 2,530 KRW\n"
                            "model cost 0.04 USD\ntrades 3\nat 2026-03-02 09:00:00 KST")
    refused = events.lease_refused("s", "live", "live:ab12", "another process holds", T0)
    assert (refused.kind, refused.level) == (EventKind.LEASE_REFUSED, Level.WARNING)
    naive = events.cycle_failed("s", "dry", "decide", "x", datetime(2026, 3, 2))
    assert naive.at == T0 - minutes(9 * 60) + minutes(9 * 60)  # read as UTC, made aware
    assert naive.at.tzinfo is not None


def test_last_sent_at_seeds_the_daily_clock(receiver: Receiver, tmp_path: Path) -> None:
    db = store(tmp_path)
    assert last_sent_at(db.engine, EventKind.DAILY_SUMMARY, "s", "dry") is None
    notifier = Notifier(settings(receiver.url()), engine=db.engine)
    notifier.emit(events.daily_summary("s", "dry", Decimal(1), Decimal(0), Decimal(0),
                                       Decimal(0), T0))
    assert notifier.close(5)
    assert last_sent_at(db.engine, EventKind.DAILY_SUMMARY, "s", "dry") == T0
    assert last_sent_at(db.engine, EventKind.DAILY_SUMMARY, "other", "dry") is None
    assert last_sent_at(db.engine, EventKind.DAILY_SUMMARY, "s", "live") is None


def test_the_engine_may_import_events_and_trackers() -> None:
    """DESIGN.md: the engine never imports an adapter library; notify's top is pure."""
    import subprocess
    import sys

    code = ("import sys, bithumb_llm_trader.notify, bithumb_llm_trader.notify.events, "
            "bithumb_llm_trader.notify.trackers; print(sorted(m for m in ('httpx', "
            "'sqlalchemy', 'typer', 'rich', 'apprise') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
