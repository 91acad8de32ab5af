"""Sending one message to one URL: through apprise, or ``json://`` over httpx without it.

Without apprise, ``json://host/path`` (``jsons://`` for https) is POSTed the way
apprise's own json plugin does it, so a receiver sees the same document either way::

    {"version": "1.0", "title": ..., "message": ..., "attachments": [], "type": "info"}

(``type`` is apprise's ``info``/``warning``/``failure``). The URL's query means what it
means to apprise: ``+Name=value`` is a header, ``-name=value`` a query parameter of the
request, ``:key=value`` adds a payload field (``:key=new`` renames one, ``:key=`` drops
it), ``method=`` the HTTP method and ``verify=no`` skips TLS verification. The URL's
``user:password@`` becomes basic auth.

A send returns an error text or None and never raises: the sender thread is the only
caller, and it records what happened.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

import httpx

from .events import Level
from .targets import PLAIN_SCHEMES, ParsedTarget, parse_target, target_error

log = logging.getLogger(__name__)

JSON_VERSION = "1.0"


def json_payload(title: str, body: str, level: Level) -> dict[str, Any]:
    """The document apprise's ``json://`` plugin sends, field for field."""
    return {"version": JSON_VERSION, "title": title, "message": body, "attachments": [],
            "type": level.notify_type}


def with_extras(payload: dict[str, Any], extras: dict[str, str]) -> dict[str, Any]:
    """Apply apprise's ``:key=value`` entries: rename (or drop, when empty) a field that
    exists, add one that does not."""
    result = dict(payload)
    for key, value in extras.items():
        if key not in result:
            result[key] = value
            continue
        moved = result.pop(key)
        if value:
            result[value] = moved
    return result


class Target(Protocol):
    """One configured URL, ready to send."""

    label: str
    scheme: str

    def send(self, title: str, body: str, level: Level) -> str | None:
        """Send one message; the error text, or None when it was accepted."""
        ...

    def close(self) -> None: ...


class Unusable:
    """A URL that cannot be used here; every send fails with the reason."""

    def __init__(self, label: str, scheme: str, error: str) -> None:
        self.label, self.scheme, self._error = label, scheme, error

    def send(self, title: str, body: str, level: Level) -> str | None:
        return self._error

    def close(self) -> None:
        return None


class AppriseTarget:
    """A URL sent through apprise, with our timeout on its sockets."""

    def __init__(self, apprise: Any, target: ParsedTarget, timeout: float) -> None:
        self.label, self.scheme = target.label, target.scheme
        self._apprise = apprise
        plugin = apprise.Apprise.instantiate(target.url, suppress_exceptions=True)
        plugin.socket_connect_timeout = timeout
        plugin.socket_read_timeout = timeout
        self._app = apprise.Apprise()
        self._app.add(plugin)

    def send(self, title: str, body: str, level: Level) -> str | None:
        try:
            with self._apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as out:
                ok = bool(self._app.notify(body=body, title=title,
                                           notify_type=level.notify_type))
            said = out.getvalue().strip().splitlines()
        except Exception as exc:  # a plugin's bug must not kill the sender thread
            return f"{type(exc).__name__}: {exc}"
        if ok:
            return None
        return said[-1] if said else "apprise reported a failure"

    def close(self) -> None:
        return None


class JsonTarget:
    """``json://`` / ``jsons://`` over httpx: the webhook path when apprise is missing."""

    def __init__(self, target: ParsedTarget, timeout: float,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.label, self.scheme = target.label, target.scheme
        self._url = f"{PLAIN_SCHEMES[target.scheme]}://{target.host}{target.path or '/'}"
        options = dict(target.query)
        self._method = options.get("method", "POST").upper()
        prefixed = {mark: {key[1:]: value for key, value in target.query if key[:1] == mark}
                    for mark in "+-:"}
        self._params, self._extras = prefixed["-"], prefixed[":"]
        headers = {"User-Agent": "bithumb-trader", "Content-Type": "application/json"}
        headers.update(prefixed["+"])
        verify = options.get("verify", "yes").lower() not in ("no", "false", "0")
        auth = (target.user, target.password) if target.user else None
        self._client = httpx.Client(timeout=timeout, transport=transport, verify=verify,
                                    auth=auth, headers=headers, follow_redirects=False)

    def send(self, title: str, body: str, level: Level) -> str | None:
        content = json.dumps(with_extras(json_payload(title, body, level), self._extras))
        try:
            answer = self._client.request(self._method, self._url, params=self._params,
                                          content=content)
        except httpx.TimeoutException:
            return "timed out"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if not 200 <= answer.status_code < 300:
            return f"HTTP {answer.status_code} {answer.reason_phrase}".strip()
        return None

    def close(self) -> None:
        self._client.close()


def build_target(url: str, *, apprise: Any | None, timeout: float,
                 transport: httpx.BaseTransport | None = None) -> Target:
    """The sender for ``url``: apprise when installed, httpx for ``json``/``jsons``,
    else one that fails every send with the reason (as ``validate`` reports it).

    Args:
        apprise: the module from ``targets.load_apprise``, or None.
        transport: an httpx transport for the plain path (tests).
    """
    try:
        target = parse_target(url)
    except ValueError as exc:
        return Unusable("(not a URL)", "", str(exc))
    error = target_error(url, apprise)
    if error is not None:
        return Unusable(target.label, target.scheme, error)
    if apprise is None:
        return JsonTarget(target, timeout, transport)
    try:
        return AppriseTarget(apprise, target, timeout)
    except Exception as exc:  # instantiated once already; stay total anyway
        return Unusable(target.label, target.scheme, f"apprise: {type(exc).__name__}")
