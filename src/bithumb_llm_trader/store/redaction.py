"""Database URLs and driver messages fit to print: the password hidden, nothing else.

A URL is redacted by rendering the parsed URL with its password (and any ``password=``
query value) masked, never by replacing the password's text wherever it occurs: a
password ``p`` must not turn ``mysql+pymysql`` into ``mysql+***ymysql``. A driver's
message may echo the URL or the password, so ``scrub`` masks those echoes by where they
stand (a whole URL, ``:pw@``, ``password=pw``), and the bare password
only when it is long enough to be unambiguous and is no word of the URL's public part.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

MASK = "***"
MIN_BARE_SECRET = 6
"""Shorter passwords are masked only where they stand as a password (same as the logs)."""

_SECRET_QUERY_KEYS = frozenset({"password", "passwd", "pwd"})
_USERINFO = re.compile(r"(?P<head>://[^:/@]*:)(?P<secret>[^@]*)(?P<tail>@)")
_WORD = "A-Za-z0-9_"
_PASSWORD_KEY = r"(?i:\bpass(?:word)?|\bpasswd|\bpwd)"


def parse_url(url: str | URL) -> URL | None:
    """``url`` parsed, or None when SQLAlchemy cannot read it."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError, TypeError):
        return None


def redact_url(url: str | URL) -> str:
    """``url`` with its password (in the user part or the query) replaced by ``***``.

    Rendered from the parsed URL, so only the password component changes; a URL that
    cannot be parsed has the part between ``user:`` and ``@`` masked.
    """
    parsed = parse_url(url)
    if parsed is None:
        return _USERINFO.sub(rf"\g<head>{MASK}\g<tail>", str(url))
    query = {
        key: (MASK if key.lower() in _SECRET_QUERY_KEYS else value)
        for key, value in parsed.query.items()
    }
    rendered = parsed.set(query=query).render_as_string(hide_password=True)
    return rendered.replace("=%2A%2A%2A", "=***")  # the query part comes back escaped


def url_secrets(url: str | URL) -> list[str]:
    """The password and any ``password=`` query values of ``url``, longest first."""
    parsed = parse_url(url)
    if parsed is None:
        found = _USERINFO.search(str(url))
        return [found["secret"]] if found and found["secret"] else []
    values: list[str] = [parsed.password] if parsed.password else []
    for key, value in parsed.query.items():
        if key.lower() in _SECRET_QUERY_KEYS:
            values.extend([value] if isinstance(value, str) else list(value))
    return sorted({str(v) for v in values if v}, key=len, reverse=True)


def scrub(text: str, url: str | URL | None) -> str:
    """``text`` (a driver's message) with ``url`` and its secrets masked as they appear.

    Whole renderings of the URL become its redacted form; a secret is masked after
    ``user:`` or ``password=``, and a bare secret only when it is at least
    ``MIN_BARE_SECRET`` characters and not part of what the redacted URL shows anyway
    (a password equal to the user name or the host would otherwise mask those).
    """
    if url is None:
        return text
    public = redact_url(url)
    for rendering in _renderings(url):
        if rendering:
            text = text.replace(rendering, public)
    for secret in url_secrets(url):
        for form in _forms(secret):
            text = _mask_in_context(text, form)
            if len(secret) >= MIN_BARE_SECRET and not _has_word(public, form):
                text = _sub_word(text, form)
    return text


def _renderings(url: str | URL) -> Iterator[str]:
    yield str(url) if isinstance(url, str) else url.render_as_string(hide_password=False)
    parsed = parse_url(url)
    if parsed is not None:
        yield parsed.render_as_string(hide_password=False)


def _forms(secret: str) -> list[str]:
    """The secret as typed and as a URL would encode it."""
    return list(dict.fromkeys((secret, quote(secret, safe=""), quote_plus(secret))))


def _mask_in_context(text: str, form: str) -> str:
    escaped = re.escape(form)
    text = re.sub(rf"(:){escaped}(@)", rf"\g<1>{MASK}\g<2>", text)
    return re.sub(rf"({_PASSWORD_KEY}\s*[=:]\s*['\"]?){escaped}(?![{_WORD}])",
                  rf"\g<1>{MASK}", text)


def _word(form: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![{_WORD}]){re.escape(form)}(?![{_WORD}])")


def _has_word(text: str, form: str) -> bool:
    return _word(form).search(text) is not None


def _sub_word(text: str, form: str) -> str:
    return _word(form).sub(MASK, text)
