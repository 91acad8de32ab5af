"""Model transport faults: each is HOLD with a reason and one warning line, never a traceback.

The bodies are what real setups send: a proxy's HTML error page, a web UI's index page
at a mistyped ``base_url`` (status 200), an empty body, JSON that is not a chat
completion, a plain-text 400.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import httpx
import pytest
import respx

from bithumb_llm_trader.clock import ManualClock
from bithumb_llm_trader.decision import Action, DecisionOutcome
from tests.decision.llm_helpers import (
    API_KEY,
    COMPLETIONS,
    VALID_BUY,
    VALID_TEXT,
    answer,
    body_of,
    decide_once,
    ok,
)

PROXY_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
    "<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx/1.25.3</center>\n"
    "</body>\n</html>\n"
)
WEB_UI_PAGE = "<!doctype html><html><head><title>Open WebUI</title></head><body></body></html>"
HTML = {"content-type": "text/html; charset=utf-8"}
JSON = {"content-type": "application/json"}


def _one_warning_and_no_traceback(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], reason: str
) -> None:
    ours = [r for r in caplog.records if r.name.startswith("bithumb_llm_trader")]
    assert [(r.levelno, r.exc_info) for r in ours] == [(logging.WARNING, None)], caplog.text
    assert f"HOLD ({reason})" in ours[0].getMessage()
    assert "\n" not in ours[0].getMessage()
    shown = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert all(r.exc_info is None and r.exc_text is None for r in shown)
    assert "Traceback" not in caplog.text
    assert "Traceback" not in capfd.readouterr().err


def _run(
    response: httpx.Response | Exception, caplog: pytest.LogCaptureFixture, **config: object
) -> tuple[DecisionOutcome, respx.Route]:
    caplog.set_level(logging.INFO)
    with respx.mock:
        route = respx.post(COMPLETIONS)
        if isinstance(response, Exception):
            route.mock(side_effect=response)
        else:
            route.mock(return_value=response)
        outcome = decide_once(**config)
    assert outcome.decision.action is Action.HOLD
    assert outcome.decision.confidence == 0
    return outcome, route


FAULTS = [
    pytest.param(httpx.Response(200, text=WEB_UI_PAGE, headers=HTML),
                 "invalid_response", 1, "HTML page titled \"Open WebUI\"", id="html-200"),
    pytest.param(httpx.Response(200, text=PROXY_PAGE, headers=JSON),
                 "invalid_response", 1, "HTML page titled \"502 Bad Gateway\"",
                 id="html-200-labelled-json"),
    pytest.param(httpx.Response(502, text=PROXY_PAGE, headers=HTML),
                 "server_error", 3, "HTTP 502: an HTML page titled \"502 Bad Gateway\"",
                 id="html-502"),
    pytest.param(httpx.Response(200, content=b""), "invalid_response", 1, "an empty body",
                 id="empty-body"),
    pytest.param(httpx.Response(200, content=b"", headers=JSON), "invalid_response", 1,
                 "an empty body (application/json)", id="empty-body-labelled-json"),
    pytest.param(httpx.Response(200, content=b'{"id": "x", "choices": [', headers=JSON),
                 "invalid_response", 1, "the body is invalid JSON", id="cut-off-json"),
    pytest.param(httpx.Response(200, json={"object": "list", "data": []}),
                 "empty", 1, "no choices field (keys: data, object)", id="json-not-a-completion"),
    pytest.param(httpx.Response(200, json={"error": {"message": "upstream model crashed"}}),
                 "invalid_response", 1, "answered with an error: upstream model crashed",
                 id="json-error-with-200"),
    pytest.param(httpx.Response(200, json=answer(VALID_TEXT, choices=[])),
                 "empty", 1, "no choices", id="choices-empty"),
    pytest.param(httpx.Response(200, json=answer(VALID_TEXT, choices="none")),
                 "invalid_response", 1, "choices are not a list", id="choices-not-a-list"),
    pytest.param(httpx.Response(200, json=answer(VALID_TEXT, choices=["text"])),
                 "invalid_response", 1, "first choice has no message", id="choice-not-object"),
    pytest.param(httpx.Response(200, json=answer(None)), "empty", 1, "the answer is empty",
                 id="content-null"),
    pytest.param(httpx.Response(200, json=[answer(VALID_TEXT)]), "invalid_response", 1,
                 "the body is an array", id="json-array"),
    pytest.param(httpx.Response(200, text="OK", headers={"content-type": "text/plain"}),
                 "invalid_response", 1, 'text/plain "OK"', id="text-200"),
    pytest.param(httpx.Response(400, text="Bad Request\r\n",
                                headers={"content-type": "text/plain"}),
                 "bad_request", 3, 'HTTP 400: text/plain "Bad Request"', id="text-400"),
    pytest.param(httpx.Response(404, text="404 page not found",
                                headers={"content-type": "text/plain"}),
                 "bad_request", 1, 'HTTP 404: text/plain "404 page not found"', id="text-404"),
    pytest.param(httpx.ConnectError("[Errno 111] Connection refused"), "connection_error", 3,
                 "cannot reach https://llm.test/v1: ConnectError: [Errno 111] Connection refused",
                 id="connection-refused"),
    pytest.param(httpx.RemoteProtocolError("Server disconnected without sending a response."),
                 "connection_error", 3, "RemoteProtocolError: Server disconnected",
                 id="disconnected"),
    pytest.param(httpx.ReadTimeout("timed out"), "timeout", 3, "no answer within",
                 id="timeout"),
]


@pytest.mark.parametrize(("response", "reason", "requests", "detail"), FAULTS)
def test_each_transport_fault_is_hold_with_its_reason_and_one_warning(
    response: httpx.Response | Exception,
    reason: str,
    requests: int,
    detail: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    outcome, route = _run(response, caplog, max_retries=2)

    assert outcome.hold_reason == reason
    assert route.call_count == requests  # a 200 with garbage is not retried
    assert outcome.attempts == requests
    assert any(detail in error for error in outcome.errors), outcome.errors
    assert reason in outcome.decision.rationale
    assert not any("<html" in error.lower() or "\n" in error for error in outcome.errors)
    _one_warning_and_no_traceback(caplog, capfd, reason)


def test_the_html_page_at_200_hints_at_the_base_url(caplog: pytest.LogCaptureFixture) -> None:
    outcome, _ = _run(httpx.Response(200, text=WEB_UI_PAGE, headers=HTML), caplog)
    assert "is base_url the API's address (it often ends in /v1)?" in outcome.errors[0]


def test_a_server_error_page_is_retried_by_the_policy_then_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = ManualClock()
    with respx.mock:
        route = respx.post(COMPLETIONS).mock(side_effect=[
            httpx.Response(502, text=PROXY_PAGE, headers=HTML),
            httpx.Response(503, text="", headers=HTML),
            ok(VALID_TEXT),
        ])
        outcome = decide_once(clock=clock, max_retries=2)
    assert route.call_count == 3
    assert clock.sleeps == [1.0, 2.0]
    assert outcome.decision.action is Action.BUY
    assert outcome.errors[1].endswith("HTTP 503: an empty body (text/html)")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_key_echoed_in_a_text_error_page_is_blanked(caplog: pytest.LogCaptureFixture) -> None:
    page = httpx.Response(418, text=f"no such key {API_KEY}",
                          headers={"content-type": "text/plain"})
    outcome, _ = _run(page, caplog)
    assert outcome.hold_reason == "bad_request"
    assert API_KEY not in "".join(outcome.errors) + caplog.text
    assert "***" in outcome.errors[0]


def test_control_characters_from_the_server_stay_out_of_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    page = httpx.Response(200, text="\x1b[31mred\x1b[0m\nsecond line",
                          headers={"content-type": "text/plain"})
    outcome, _ = _run(page, caplog)
    assert outcome.hold_reason == "invalid_response"
    assert "\x1b" not in caplog.text and "\x1b" not in outcome.errors[0]
    assert "red [0m second line" in outcome.errors[0]


def test_usage_that_is_not_a_count_is_not_trusted(caplog: pytest.LogCaptureFixture) -> None:
    body = answer(VALID_TEXT, usage={"prompt_tokens": "1000", "completion_tokens": True})
    with respx.mock:
        respx.post(COMPLETIONS).mock(return_value=httpx.Response(200, json=body))
        outcome = decide_once()
    assert outcome.decision.action is Action.BUY
    assert (outcome.prompt_tokens, outcome.completion_tokens) == (0, 0)


# ------------------------------------------------------------------ numbers are numbers


def test_a_number_given_as_text_is_repaired_then_held(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    quoted = json.dumps({**VALID_BUY, "confidence": "0.95"})
    outcome, route = _run(httpx.Response(200, json=answer(quoted)), caplog, repair_attempts=1)

    assert route.call_count == 2  # the question, then one repair
    assert outcome.hold_reason == "invalid_output"
    repair = body_of(route, 1)["messages"][-1]["content"]
    assert "confidence: must be a number (got '0.95'); write it without quotes" in repair
    assert len(outcome.errors) == 2
    _one_warning_and_no_traceback(caplog, capfd, "invalid_output")


def test_a_quoted_number_repaired_by_the_model_is_accepted_exactly() -> None:
    quoted = json.dumps({**VALID_BUY, "confidence": "0.95"})
    with respx.mock:
        respx.post(COMPLETIONS).mock(side_effect=[ok(quoted), ok(VALID_TEXT)])
        outcome = decide_once(repair_attempts=1)
    assert outcome.decision.action is Action.BUY
    assert outcome.decision.confidence == Decimal("0.72")


@pytest.mark.parametrize(
    ("field", "value"),
    [("confidence", True), ("risk_pct", "0.005"), ("stop_loss_pct", "1.5%"),
     ("limit_price", "150800000")],
)
def test_text_and_booleans_are_not_numbers(field: str, value: object) -> None:
    content = json.dumps({**VALID_BUY, field: value})
    with respx.mock:
        respx.post(COMPLETIONS).mock(return_value=ok(content))
        outcome = decide_once(repair_attempts=0)
    assert outcome.hold_reason == "invalid_output"
    assert any(f"{field}: must be a number" in error for error in outcome.errors)
