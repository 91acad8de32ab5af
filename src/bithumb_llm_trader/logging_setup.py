"""Console logs through rich on stderr, a rotating log file, and secret redaction.

Every handler gets the same redacting filter, so a key that slips into a message (or
an exception text) is replaced with ``***`` before it reaches the screen or the disk.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from logging.handlers import RotatingFileHandler
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+")
_OPENAI_KEY = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}")
_NOISY = ("httpx", "httpcore", "openai", "hpack")


class SecretRedactor(logging.Filter):
    """Replace known secret values, bearer tokens and OpenAI-style keys with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Short strings would redact ordinary words; real keys are long.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        text = _BEARER.sub(r"\1***", text)
        return _OPENAI_KEY.sub("sk-***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class _RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, redactor: SecretRedactor) -> None:
        super().__init__(fmt)
        self._redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self._redactor.redact(super().format(record))


def configure_logging(
    *,
    verbosity: int,
    log_file: str | None,
    secrets: Iterable[str] = (),
    file_level: str = "INFO",
    max_bytes: int = 5_000_000,
    backups: int = 5,
) -> SecretRedactor:
    """Set up the root logger for one command; returns the redactor in use.

    ``verbosity`` 0 shows warnings, 1 (-v) info, 2 (-vv) debug including HTTP traffic
    (request lines only; headers are never logged).
    """
    redactor = SecretRedactor(secrets)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    console_level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    console = RichHandler(
        console=Console(stderr=True), show_path=False, rich_tracebacks=False, markup=False
    )
    console.setLevel(console_level)
    console.addFilter(redactor)
    root.addHandler(console)
    levels = [console_level]
    if log_file:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        level = logging.DEBUG if verbosity >= 2 else getattr(logging, file_level)
        file_handler.setLevel(level)
        file_handler.addFilter(redactor)
        file_handler.setFormatter(
            _RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", redactor)
        )
        root.addHandler(file_handler)
        levels.append(level)
    root.setLevel(min(levels))
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
    return redactor
