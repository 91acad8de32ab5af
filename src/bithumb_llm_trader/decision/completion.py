"""Reading a chat-completion body: pure functions over bytes, tested without HTTP.

The model server is not trusted to answer in the shape it promises. Behind it there may
be a proxy that answers with its own HTML error page, a web UI that serves its index
page at a mistyped ``base_url`` (with status 200), or a server whose JSON is not a chat
completion at all. The openai SDK does not check shapes (a non-JSON body comes back as
a ``str``, broken JSON raises ``JSONDecodeError``, and a wrongly shaped object only
fails later, on attribute access), so the decider takes the raw body and reads it here:
every way it can be wrong ends in ``NotACompletion`` with a hold reason and one line
that says what came back, never a traceback.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_EXCERPT_MAX = 120
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_BASE_URL_HINT = "is base_url the API's address (it often ends in /v1)?"


class NotACompletion(ValueError):
    """The body is no usable chat completion; ``reason`` becomes the hold reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Completion:
    """The parts of a chat completion the decider uses, each of a checked type."""

    content: str | None
    refusal: str | None = None
    finish_reason: str | None = None
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


def read_completion(content: bytes, content_type: str) -> Completion:
    """The first choice of a chat-completion body.

    Args:
        content: the response body as received.
        content_type: its ``content-type`` header ("" when absent). Not trusted either:
            JSON is tried whatever it says, as the SDK does.

    Raises:
        NotACompletion: ``empty`` when the object has no choices, ``invalid_response``
            for anything else (not JSON, HTML, an error object, a wrong shape).
    """
    data = _json_object(content, content_type)
    prompt_tokens, completion_tokens = _usage(data.get("usage"))
    choices = data.get("choices")
    if "error" in data and not choices:
        shown = _excerpt(_error_text(data["error"]))
        raise NotACompletion("invalid_response", f"the server answered with an error: {shown}")
    if choices is None:
        keys = _excerpt(", ".join(sorted(str(key) for key in data)) or "none")
        raise NotACompletion("empty", f"the answer has no choices field (keys: {keys})")
    if choices == []:
        raise NotACompletion("empty", "the answer has no choices")
    if not isinstance(choices, list):
        raise NotACompletion("invalid_response", "the answer's choices are not a list")
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise NotACompletion("invalid_response", "the answer's first choice has no message")
    text = message.get("content")
    if text is not None and not isinstance(text, str):
        raise NotACompletion("invalid_response", "the answer's content is not text")
    return Completion(
        content=text,
        refusal=_text_or_none(message.get("refusal")),
        finish_reason=_text_or_none(choice.get("finish_reason")),
        model=_text_or_none(data.get("model")),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


def describe_body(content: bytes, content_type: str) -> str:
    """What a body that is not the JSON we expect holds, in a few words for one log line.

    An HTML page is named by its ``<title>``; other text is quoted, shortened, on one line.
    """
    text = content.decode("utf-8", errors="replace").strip()
    kind = content_type.split(";")[0].strip().lower() or "no content type"
    if not text:
        return f"an empty body ({kind})"
    if is_html(text, content_type):
        title = _TITLE.search(text)
        titled = f' titled "{_excerpt(title.group(1))}"' if title else ""
        return f"an HTML page{titled} ({len(content)} bytes)"
    return f'{kind} "{_excerpt(text)}"'


def is_html(text: str, content_type: str) -> bool:
    """Whether a body is a web page rather than an API answer."""
    kind = content_type.split(";")[0].strip().lower()
    return kind in _HTML_TYPES or text.lstrip()[:1] == "<"


def one_line(text: str) -> str:
    """``text`` on one line of printable characters: a server's text goes into log lines."""
    printable = "".join(char if char.isprintable() else " " for char in text)
    return " ".join(printable.split())


def _json_object(content: bytes, content_type: str) -> dict[str, Any]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotACompletion("invalid_response", "the body is not UTF-8 text") from exc
    if not text.strip() or is_html(text, content_type):
        raise _not_json(content, content_type)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if text.lstrip()[:1] not in ("{", "["):
            raise _not_json(content, content_type) from exc
        where = f"{exc.msg} at line {exc.lineno} column {exc.colno}"
        raise NotACompletion("invalid_response", f"the body is invalid JSON: {where}") from exc
    except (ValueError, RecursionError) as exc:  # e.g. nested too deeply
        raise NotACompletion("invalid_response", f"the body is unreadable JSON: {exc}") from exc
    if not isinstance(data, dict):
        kind = "an array" if isinstance(data, list) else f"the JSON value {_excerpt(text)}"
        raise NotACompletion("invalid_response", f"the body is {kind}, not a chat completion")
    return data


def _not_json(content: bytes, content_type: str) -> NotACompletion:
    described = describe_body(content, content_type)
    hint = f"; {_BASE_URL_HINT}" if described.startswith("an HTML page") else ""
    return NotACompletion(
        "invalid_response", f"the server sent {described}, not a chat completion{hint}"
    )


def _usage(usage: object) -> tuple[int, int]:
    """Token counts; anything but a count is taken as 0 rather than trusted."""
    if not isinstance(usage, dict):
        return 0, 0
    return _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(value, 0)


def _error_text(error: object) -> str:
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str):
            return message
    return error if isinstance(error, str) else json.dumps(error, default=str)


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _excerpt(text: str) -> str:
    line = one_line(text)
    return line if len(line) <= _EXCERPT_MAX else line[: _EXCERPT_MAX - 3] + "..."
