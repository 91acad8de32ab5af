"""Notification URLs: their public label, their secret parts, and whether they can be used.

Apprise URLs carry their secrets in every part: ``tgram://BOT_TOKEN/CHAT``,
``discord://WEBHOOK_ID/WEBHOOK_TOKEN``, ``mailto://user:PASSWORD@host``,
``jsons://host/hook/TOKEN?key=SECRET``. So a URL is only ever shown as its label
(``scheme://host``, the host only when it is a host name and not a token) and every
part that may be a secret is collected, to be masked in anything sent or recorded.

Apprise is an optional extra; ``load_apprise`` is the one place that imports it, so a
test can make it missing (``sys.modules["apprise"] = None``).
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

log = logging.getLogger(__name__)

INSTALL_HINT = "install the notify extra: pip install 'bithumb-llm-trader[notify]'"
PLAIN_SCHEMES = {"json": "http", "jsons": "https"}
"""Schemes sent over httpx when apprise is missing, and the HTTP scheme each means."""
WEB_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
"""Schemes whose host is a real host name and whose path is mostly public."""
MIN_SECRET = 6
"""Shorter parts are masked only where they stand as a password (as in the logs)."""

_HOST = re.compile(
    r"^(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]|(?:[a-z0-9-]+\.)+[a-z]{2,})"
    r"(?::\d{1,5})?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedTarget:
    """The parts of one notification URL, split the lenient way apprise URLs need."""

    url: str
    scheme: str
    user: str
    password: str
    host: str  # with the port, as written
    path: str
    query: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        """``scheme://host`` when the host is a host name, else ``scheme://***``."""
        shown = self.host if _HOST.match(self.host) else "***"
        return f"{self.scheme}://{shown}"

    def secrets(self) -> list[str]:
        """Every part that may be a secret, longest first (the whole URL included)."""
        web = self.scheme in WEB_SCHEMES
        parts = [self.url, self.password, self.user]
        if not _HOST.match(self.host):
            parts += [self.host, *self.host.split(":")]
        for segment in filter(None, self.path.split("/")):
            if not web or len(segment) >= 16 or any(c.isdigit() for c in segment):
                parts += [segment, segment.lstrip("#@")]
        parts += [value for _, value in self.query]
        return sorted({p for p in parts if len(p) >= MIN_SECRET}, key=len, reverse=True)


def parse_target(url: str) -> ParsedTarget:
    """Split ``url`` into its parts without judging them (``urlsplit`` chokes on tokens).

    Raises:
        ValueError: there is no ``scheme://``.
    """
    scheme, sep, rest = url.strip().partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        raise ValueError("not a URL: expected scheme://...")
    rest, _, query = rest.partition("?")
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at:
        userinfo, host = "", authority
    user, _, password = userinfo.partition(":")
    # Not parse_qsl: it reads '+' as a space, and apprise's '+Name=value' is a header.
    pairs = tuple((unquote(key), unquote(value)) for key, _, value in
                  (item.partition("=") for item in query.split("&") if item))
    return ParsedTarget(url=url.strip(), scheme=scheme.lower(), user=unquote(user),
                        password=unquote(password), host=host, path=slash + path,
                        query=pairs)


def load_apprise() -> Any | None:
    """The apprise module, or None when the notify extra is not installed."""
    try:
        return importlib.import_module("apprise")
    except ImportError:
        return None


def target_error(url: str, apprise: Any | None) -> str | None:
    """Why ``url`` cannot be used (None when it can), without echoing any secret.

    Args:
        apprise: the module from ``load_apprise`` (None: only ``json``/``jsons`` work).
    """
    try:
        target = parse_target(url)
    except ValueError as exc:
        return str(exc)
    if apprise is None:
        if target.scheme not in PLAIN_SCHEMES:
            return f"{target.scheme}:// needs apprise: {INSTALL_HINT}"
        return None if target.host else "the URL names no host"
    if not _apprise_knows(apprise, target.scheme):
        return f"apprise does not know the scheme {target.scheme}://"
    try:  # apprise's own log lines mask secrets (``tgram://b...X/``)
        plugin = apprise.Apprise.instantiate(target.url, suppress_exceptions=True)
    except Exception as exc:  # a plugin's own parser must never break validation
        log.debug("apprise refused a %s URL: %s", target.scheme, type(exc).__name__)
        plugin = None
    if plugin is None:
        return (f"apprise cannot read this {target.scheme}:// URL: check its parts"
                " against the service's page on the apprise wiki")
    return None


def _apprise_knows(apprise: Any, scheme: str) -> bool:
    try:
        manager = importlib.import_module(f"{apprise.__name__}.apprise").N_MGR
        return scheme in manager
    except (ImportError, AttributeError, TypeError):  # another apprise layout: let it try
        return True
