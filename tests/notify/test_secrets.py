"""Nothing sent or recorded shows an API key, a JWT or a notification URL's secrets."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import httpx
import pytest

from bithumb_llm_trader.notify import events
from bithumb_llm_trader.notify.sender import Notifier, Redactor
from bithumb_llm_trader.notify.targets import parse_target

from .helpers import T0, rows, settings, store
from .receiver import Receiver

API_KEY = "bk-live-4f9a8c7d6e5b4a39"
API_SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQ="
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJhY2Nlc3Nfa2V5IjoiYmsifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
HOOK_TOKEN = "T0k3nInThePath9f8e7d"
PASSWORD = "hunter2-webhook"
QUERY_TOKEN = "qry-secret-55aa"


def leaky(at: object = T0) -> events.Event:
    text = (f"error: 401 for key {API_KEY} secret {API_SECRET}; "
            f"Authorization: Bearer {JWT}")
    return events.cycle_failed("btc-llm", "live", "snapshot", text, T0)


def all_secrets(url: str) -> list[str]:
    return [API_KEY, API_SECRET, JWT, HOOK_TOKEN, PASSWORD, QUERY_TOKEN, url]


def test_messages_never_carry_keys_jwt_or_url_secrets(
        receiver: Receiver, send_path: str, tmp_path: Path) -> None:
    url = receiver.url(f"/hook/{HOOK_TOKEN}?-token={QUERY_TOKEN}",
                       userinfo=f"trader:{PASSWORD}@")
    db = store(tmp_path)
    notifier = Notifier(settings(url), secrets=[API_KEY, API_SECRET], engine=db.engine)
    event = leaky()
    echoing = events.cycle_failed("btc-llm", "live", "execute", f"POST {url} failed", T0)
    notifier.emit(event)
    notifier.emit(events.order_unknown("other", "live", "c-9", f"see {url}", T0))
    notifier.emit(echoing)  # held back by the quiet period: recorded, redacted
    assert notifier.close(5)
    assert len(receiver.requests) == 2
    request = receiver.requests[0]
    assert request.path == f"/hook/{HOOK_TOKEN}?token={QUERY_TOKEN}"  # still delivered there
    assert "***" in request.body["message"]
    stored = repr(rows(db.engine))
    for secret in all_secrets(url):
        assert secret not in repr(receiver.bodies)
        assert secret not in stored


def test_an_error_text_echoing_the_url_is_redacted_in_log_and_record(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)
    url = f"jsons://trader:{PASSWORD}@hooks.example.com/h/{HOOK_TOKEN}?key={QUERY_TOKEN}"

    def echo(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {url} ({request.url}) key {API_KEY}")

    db = store(tmp_path)
    notifier = Notifier(settings(url), secrets=[API_KEY], engine=db.engine,
                        transport=httpx.MockTransport(echo))
    with caplog.at_level(logging.WARNING):
        [delivery] = notifier.send_now(events.notify_test_event("btc-llm", "live", T0))
    notifier.close(1)
    assert not delivery.ok and delivery.error is not None
    assert "cannot reach" in delivery.error and "hooks.example.com" in delivery.error
    [row] = rows(db.engine)
    for text in (delivery.error, row["error"], caplog.text, delivery.target):
        for secret in all_secrets(url):
            assert secret not in text, text


@pytest.mark.parametrize(("url", "label", "secret"), [
    ("tgram://123456789:AAHbotTokenSecret/-100123456", "tgram://***", "AAHbotTokenSecret"),
    ("discord://112233445566/webhookTokenSecretXYZ", "discord://***", "webhookTokenSecretXYZ"),
    ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#ops", "slack://***",
     "TIiajkdnlazkcOXrIdevi7FQ"),
    ("mailto://me:appPassword99@gmail.com?to=ops@example.com", "mailto://gmail.com",
     "appPassword99"),
    ("ntfy://ntfy.sh/trader-topic-8d7f6a", "ntfy://ntfy.sh", "trader-topic-8d7f6a"),
])
def test_service_urls_have_a_public_label_and_known_secrets(url: str, label: str,
                                                            secret: str) -> None:
    target = parse_target(url)
    assert target.label == label
    redact = Redactor(target.secrets())
    assert secret not in redact(f"failed to reach {url}: token {secret}")


def test_short_words_are_not_masked_outside_a_url() -> None:
    redact = Redactor(["abc", API_KEY])
    assert redact(f"abc {API_KEY} json://u:abc@h/x") == "abc *** json://u:***@h/x"
