"""Reading a chat-completion body, without HTTP."""

from __future__ import annotations

import json

import pytest

from bithumb_llm_trader.decision.completion import (
    Completion,
    NotACompletion,
    describe_body,
    one_line,
    read_completion,
)
from tests.decision.llm_helpers import VALID_TEXT, answer

JSON = "application/json"


def _fault(body: bytes, content_type: str = JSON) -> NotACompletion:
    with pytest.raises(NotACompletion) as caught:
        read_completion(body, content_type)
    return caught.value


def test_a_completion_is_read_into_checked_fields() -> None:
    body = json.dumps(answer(VALID_TEXT, finish_reason="stop")).encode()
    assert read_completion(body, "application/json; charset=utf-8") == Completion(
        content=VALID_TEXT, refusal=None, finish_reason="stop",
        model="gpt-4o-mini-2024-07-18", prompt_tokens=1000, completion_tokens=50,
    )


def test_json_with_a_wrong_content_type_or_a_bom_is_still_read() -> None:
    body = b"\xef\xbb\xbf" + json.dumps(answer("{}")).encode()
    assert read_completion(body, "text/plain").content == "{}"


def test_unknown_finish_reasons_and_extra_fields_are_tolerated() -> None:
    body = answer("{}", finish_reason="eos", system_fingerprint=None, x_groq={"id": 1})
    completion = read_completion(json.dumps(body).encode(), JSON)
    assert completion.finish_reason == "eos"


@pytest.mark.parametrize(
    ("body", "content_type", "reason", "message"),
    [
        (b"", "", "invalid_response", "the server sent an empty body (no content type)"),
        (b"  \n", "text/plain", "invalid_response", "an empty body (text/plain)"),
        (b"\xff\xfe", JSON, "invalid_response", "the body is not UTF-8 text"),
        (b"<html><title>\n Login \n</title></html>", JSON, "invalid_response",
         'the server sent an HTML page titled "Login" (37 bytes), not a chat completion; '
         "is base_url the API's address (it often ends in /v1)?"),
        (b'{"choices": [', JSON, "invalid_response",
         "the body is invalid JSON: Expecting value at line 1 column 14"),
        (b"[" * 100_000 + b"]" * 100_000, JSON, "invalid_response",
         "the body is unreadable JSON"),
        (b"null", JSON, "invalid_response", "the body is the JSON value null"),
        (b"{}", JSON, "empty", "the answer has no choices field (keys: none)"),
        (b'{"choices": []}', JSON, "empty", "the answer has no choices"),
        (b'{"choices": {}}', JSON, "invalid_response", "the answer's choices are not a list"),
        (b'{"choices": [null]}', JSON, "invalid_response", "first choice has no message"),
        (b'{"choices": [{"message": "hi"}]}', JSON, "invalid_response", "has no message"),
        (b'{"choices": [{"message": {"content": ["a"]}}]}', JSON, "invalid_response",
         "the answer's content is not text"),
        (b'{"error": "overloaded"}', JSON, "invalid_response",
         "the server answered with an error: overloaded"),
        (b'{"error": {"code": 500}, "choices": null}', JSON, "invalid_response",
         'answered with an error: {"code": 500}'),
    ],
)
def test_what_is_not_a_completion_says_why(
    body: bytes, content_type: str, reason: str, message: str
) -> None:
    fault = _fault(body, content_type)
    assert fault.reason == reason
    assert message in fault.message, fault.message


def test_odd_optional_fields_are_dropped_not_trusted() -> None:
    body = {"choices": [{"message": {"content": "{}", "refusal": 1}, "finish_reason": 7}],
            "model": ["m"], "usage": {"prompt_tokens": -5, "completion_tokens": 1.5}}
    assert read_completion(json.dumps(body).encode(), JSON) == Completion(content="{}")


def test_a_long_body_is_described_in_one_short_line() -> None:
    text = describe_body(("word " * 500 + "\n").encode(), "text/plain; charset=utf-8")
    assert text.startswith('text/plain "word word') and text.endswith('..."')
    assert len(text) < 140


def test_one_line_drops_control_characters() -> None:
    assert one_line("a\r\n\tb\x1b[0m\x00c") == "a b [0m c"
