"""Notifier against a real receiver on 127.0.0.1: the exact document, the quiet period,
timeouts and failures recorded, never raised, never blocking."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import httpx
import pytest

from bithumb_llm_trader.notify import EventKind, Level, events
from bithumb_llm_trader.notify.sender import Notifier

from .helpers import T0, a_failure, a_fill, minutes, rows, settings, store
from .receiver import Receiver

FILL_TITLE = "[btc-llm/dry] bought 0.00123456 BTC at 95,123,457 KRW"
FILL_BODY = ("buy order filled on KRW-BTC: 0.00123456 BTC at 95,123,457 KRW on average\n"
             "funds 117,438 KRW, fee 294 KRW\n"
             "at 2026-03-02 09:00:00 KST")


def test_an_order_fill_arrives_as_apprise_json(receiver: Receiver, send_path: str,
                                               tmp_path: Path) -> None:
    db = store(tmp_path)
    notifier = Notifier(settings(receiver.url("/hook")), engine=db.engine)
    notifier.emit(a_fill())
    assert notifier.close(5)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.headers["Content-Type"] == "application/json"
    assert request.body == {"version": "1.0", "title": FILL_TITLE, "message": FILL_BODY,
                            "attachments": [], "type": "info"}
    [row] = rows(db.engine)
    assert (row["event_kind"], row["level"], row["target"], row["status"], row["error"]) == (
        "order_filled", "info", "json", "sent", None)
    assert (row["strategy"], row["mode"], row["created_at"]) == ("btc-llm", "dry", T0)


def test_a_failing_loop_sends_one_message_then_a_summary(receiver: Receiver,
                                                         tmp_path: Path) -> None:
    db = store(tmp_path)
    notifier = Notifier(settings(receiver.url()), engine=db.engine)
    for n in range(5):  # one every 5 minutes, inside the 30-minute quiet period
        notifier.emit(a_failure(T0 + minutes(5 * n)))
    assert notifier.drain(5)
    assert len(receiver.requests) == 1
    assert "(+" not in receiver.bodies[0]["message"]
    notifier.emit(a_failure(T0 + minutes(31), step="decide"))
    assert notifier.close(5)
    assert len(receiver.requests) == 2
    summary = receiver.bodies[1]
    assert summary["title"] == "[btc-llm/dry] cycle failed at decide"
    assert summary["message"].endswith("(+4 similar suppressed)")
    assert summary["type"] == "failure"
    assert [r["status"] for r in rows(db.engine)] == ["sent"] + ["suppressed"] * 4 + ["sent"]
    assert notifier.counts == {"sent": 2, "suppressed": 4}


def test_flush_sends_the_summary_when_the_failures_stop(receiver: Receiver) -> None:
    notifier = Notifier(settings(receiver.url()))
    for n in range(5):
        notifier.emit(a_failure(T0 + minutes(n)))
    notifier.flush(T0 + minutes(20))  # still quiet: nothing yet
    assert notifier.drain(5)
    assert len(receiver.requests) == 1
    notifier.flush(T0 + minutes(30))
    notifier.flush(T0 + minutes(31))  # once only
    assert notifier.close(5)
    assert len(receiver.requests) == 2
    assert receiver.bodies[1]["message"].endswith("(the latest of 4 similar suppressed)")


def test_quiet_periods_are_per_strategy_and_kind(receiver: Receiver) -> None:
    notifier = Notifier(settings(receiver.url(), quiet_period={"order_filled": "1h"}))
    notifier.emit(a_failure(T0))
    notifier.emit(events.cycle_failed("eth-rules", "dry", "decide", "boom", T0))
    notifier.emit(a_fill(T0))
    notifier.emit(a_fill(T0 + minutes(1)))  # held: order_filled now has a quiet hour
    assert notifier.close(5)
    assert [b["title"] for b in receiver.bodies] == [
        "[btc-llm/dry] cycle failed at snapshot", "[eth-rules/dry] cycle failed at decide",
        FILL_TITLE]


def test_filters_by_kind_level_and_switch(receiver: Receiver) -> None:
    notifier = Notifier(settings(receiver.url(), events=["cycle_failed", "order_filled"],
                                 min_level="warning"))
    notifier.emit(a_fill())  # info, below the level
    notifier.emit(events.lease_refused("btc-llm", "live", "live:ab12", "held", T0))  # kind
    notifier.emit(a_failure(T0))
    assert notifier.close(5)
    assert [b["title"] for b in receiver.bodies] == ["[btc-llm/dry] cycle failed at snapshot"]
    off = Notifier(settings(receiver.url(), enabled=False))
    off.emit(a_failure(T0))
    assert off.close(1) and len(receiver.requests) == 1


@pytest.mark.parametrize("path", ["/hang", "/fail"])
def test_a_receiver_that_hangs_or_fails_never_holds_the_caller(
        receiver: Receiver, send_path: str, path: str, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    db = store(tmp_path)
    notifier = Notifier(settings(receiver.url(path), timeout_s=0.3), engine=db.engine)
    started = time.perf_counter()
    for n in range(3):
        notifier.emit(a_fill(T0 + minutes(n)))
    assert time.perf_counter() - started < 0.05
    with caplog.at_level(logging.WARNING, logger="bithumb_llm_trader.notify"):
        assert notifier.close(10)
    statuses = [(r["status"], r["target"]) for r in rows(db.engine)]
    assert statuses == [("failed", "json")] * 3
    errors = {r["error"] for r in rows(db.engine)}
    assert all(errors) and len(errors) == 1
    assert notifier.counts == {"failed": 3}
    failures = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failures) == 3 and all("\n" not in r.getMessage() for r in failures)


def test_the_hang_path_reports_a_timeout(receiver: Receiver, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    monkeypatch.setitem(__import__("sys").modules, "apprise", None)
    db = store(tmp_path)
    notifier = Notifier(settings(receiver.url("/hang"), receiver.url("/ok"), timeout_s=0.2),
                        engine=db.engine)
    notifier.emit(a_fill())
    assert notifier.close(10)
    assert [(r["status"], r["error"]) for r in rows(db.engine)] == [
        ("failed", "timed out"), ("sent", None)]
    assert len(receiver.requests) == 2


def test_emit_never_raises_even_when_the_sender_cannot_start(
        receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    notifier = Notifier(settings(receiver.url()))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr("threading.Thread.start", broken)
    notifier.emit(a_fill())  # logged and dropped, not raised


def test_a_database_error_is_logged_not_raised(receiver: Receiver, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    bare = create_engine(f"sqlite:///{tmp_path / 'foreign.db'}")  # no bithumb schema
    notifier = Notifier(settings(receiver.url()), engine=bare)
    notifier.emit(a_fill())
    assert notifier.close(5)
    assert len(receiver.requests) == 1
    from sqlalchemy import inspect
    assert "notifications" not in inspect(bare).get_table_names()


def test_unusable_urls_fail_with_the_reason_and_the_rest_still_go(
        receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(__import__("sys").modules, "apprise", None)
    db = store(tmp_path)
    notifier = Notifier(settings("tgram://123456789:AAHsecretbottoken/987654", receiver.url()),
                        engine=db.engine)
    assert notifier.targets == ["tgram://***", f"json://127.0.0.1:{receiver.port}"]
    deliveries = notifier.send_now(events.notify_test_event("btc-llm", "dry", T0))
    notifier.close(5)
    assert [d.ok for d in deliveries] == [False, True]
    assert "pip install 'bithumb-llm-trader[notify]'" in (deliveries[0].error or "")
    assert [(r["target"], r["status"]) for r in rows(db.engine)] == [
        ("tgram", "failed"), ("json", "sent")]


def test_an_injected_transport_serves_the_plain_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "apprise", None)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    url = ("jsons://hooks.example.com/trader?+X-Token=abcdefgh1234&-channel=ops&ignored=1"
           "&:type=kind&:attachments=&:source=bot")
    notifier = Notifier(settings(url), transport=httpx.MockTransport(handler))
    [delivery] = notifier.send_now(events.notify_test_event("s", "dry", T0))
    assert delivery.ok
    assert str(seen[0].url) == "https://hooks.example.com/trader?channel=ops"
    assert seen[0].headers["X-Token"] == "abcdefgh1234"
    assert json.loads(seen[0].content) == {
        "version": "1.0", "title": "[s/dry] test notification", "kind": "info",
        "message": "bithumb-trader can reach this service; nothing was traded\n"
                   "at 2026-03-02 09:00:00 KST", "source": "bot"}
    assert Level.INFO.notify_type == "info" and EventKind.TEST.value == "test"
