"""``Notifier``: events out to every configured URL, beside the cycle, never in its way.

``emit`` only filters, applies the quiet period and puts the message on a queue: it
never blocks and never raises, from sync or async code. One daemon thread sends each
message to every URL with the configured timeout, then records what happened in the
``notifications`` table. A failure to notify is logged on one line and recorded.

Quiet periods are kept per strategy and event kind, on the events' own times (no wall
clock): the first event opens a window, the ones inside it are counted (and recorded as
suppressed), and the next message of that kind after the window says
``(+N similar suppressed)``. ``flush(now)`` sends that summary without waiting for a
next event, for a loop that stopped failing.

Nothing sent or recorded shows an API key, a JWT or any part of a notification URL
that may be a secret: titles, bodies and error texts pass ``Redactor`` first.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import quote

import httpx
from sqlalchemy import Engine

from .config import NotificationsConfig
from .events import Event, EventKind
from .record import FAILED, SENT, SUPPRESSED, Outcome, Recorder
from .targets import MIN_SECRET, load_apprise, parse_target
from .trackers import ConsecutiveFailures, DailySummaryClock
from .transport import Target, build_target

log = logging.getLogger(__name__)

MASK = "***"
QUEUE_SIZE = 1000
"""Messages waiting at most; beyond it new ones are dropped (and logged), never waited for."""

_PATTERNS = (
    (re.compile(r"(://[^/\s:@]*:)[^@\s/]+@"), rf"\1{MASK}@"),  # user:password@
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._\-]+"), rf"\1{MASK}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), MASK),  # JWT
    (re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"), f"sk-{MASK}"),
)

__all__ = ["ConsecutiveFailures", "DailySummaryClock", "Delivery", "Notifier", "Redactor"]


class Redactor:
    """Masks the given secrets (and their URL-encoded forms), passwords in URLs, bearer
    tokens, JWTs and OpenAI-style keys. Secrets shorter than 6 characters are masked only
    where they stand as a password, as in the logs: short strings are ordinary words.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        found = {s for s in secrets if s and len(s) >= MIN_SECRET}
        found |= {quote(s, safe="") for s in found}
        self._secrets = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


@dataclass(frozen=True)
class Delivery:
    """What became of one message at one URL (``target`` is its label, no secret)."""

    target: str
    scheme: str
    ok: bool
    error: str | None = None


@dataclass
class _Window:
    opened: datetime
    suppressed: int = 0
    latest: Event | None = None


@dataclass(frozen=True)
class _Job:
    event: Event
    suppressed: bool = False


def _noted(event: Event, note: str) -> Event:
    return replace(event, body=f"{event.body}\n{note}")


class Notifier:
    """Sends events to every URL of a ``NotificationsConfig``; see the module docstring.

    Args:
        config: the ``notifications`` section.
        secrets: values no message may show (API key and secret, OpenAI key); the URLs'
            own secret parts are added.
        engine: where to record (``SqlStore.engine``); None records nothing.
        transport: an httpx transport for the ``json://`` path without apprise (tests).
    """

    def __init__(self, config: NotificationsConfig, *, secrets: Iterable[str] = (),
                 engine: Engine | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        urls = [url.get_secret_value() for url in config.urls]
        url_secrets: list[str] = []
        for url in urls:
            try:
                url_secrets += parse_target(url).secrets()
            except ValueError:
                url_secrets.append(url)
        self.redact = Redactor([*secrets, *url_secrets])
        apprise = load_apprise()
        self._targets: list[Target] = [
            build_target(url, apprise=apprise, timeout=config.timeout_s, transport=transport)
            for url in urls]
        self._recorder = Recorder(engine) if engine is not None else None
        self._windows: dict[tuple[str, EventKind], _Window] = {}
        self._queue: queue.Queue[_Job | None] = queue.Queue(QUEUE_SIZE)
        self._idle = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._mutex = threading.Lock()
        self.counts: Counter[str] = Counter()
        """Messages ``sent``/``failed`` per target, events ``suppressed``/``dropped``."""

    @property
    def targets(self) -> list[str]:
        """The configured URLs' labels (``scheme://host``), in order."""
        return [target.label for target in self._targets]

    def emit(self, event: Event) -> None:
        """Queue ``event`` for every URL, unless filtered or held back; never blocks or
        raises (an unexpected fault is logged and the event dropped)."""
        try:
            if self._closed or not self.config.active:
                return
            if not self.config.wants(event.kind, event.level):
                return
            outgoing = self._through_quiet_period(event)
            self._enqueue(_Job(event, suppressed=True) if outgoing is None else _Job(outgoing))
        except Exception as exc:
            log.warning("notification %s dropped: %s: %s", event.kind.value,
                        type(exc).__name__, self.redact(str(exc)))

    def flush(self, now: datetime) -> None:
        """Send the summary of every quiet period that ended with events held back."""
        try:
            due: list[Event] = []
            with self._mutex:
                for (_, kind), window in self._windows.items():
                    if window.suppressed and window.latest is not None and (
                            now >= window.opened + self.config.quiet_for(kind)):
                        due.append(_noted(window.latest, f"(the latest of {window.suppressed}"
                                                         " similar suppressed)"))
                        window.opened, window.suppressed, window.latest = now, 0, None
            for event in due:
                self._enqueue(_Job(event))
        except Exception as exc:
            log.warning("notification summaries dropped: %s", type(exc).__name__)

    def send_now(self, event: Event) -> list[Delivery]:
        """Send ``event`` to every URL on this thread, whatever the filters; record it.

        For ``notify-test``: the caller waits for each URL's answer (or its timeout).
        """
        return self._deliver(event)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued message is sent and recorded; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float | None = 10.0) -> bool:
        """Send what is queued (waiting at most ``timeout`` seconds), then stop.

        Returns False when messages were still in flight at the deadline; the sender
        thread is a daemon, so it never holds the process open.
        """
        self._closed = True
        drained = self.drain(timeout)
        if self._thread is not None:
            with contextlib.suppress(queue.Full):  # a full queue: the thread is a daemon
                self._queue.put_nowait(None)
            if drained:
                self._thread.join(timeout)
        if drained:
            for target in self._targets:
                target.close()
        return drained

    def _through_quiet_period(self, event: Event) -> Event | None:
        """``event`` to send (noting what was held back before it), or None to hold."""
        quiet = self.config.quiet_for(event.kind)
        key = (event.strategy, event.kind)
        with self._mutex:
            window = self._windows.get(key)
            if window is not None and quiet > timedelta(0) and event.at < window.opened + quiet:
                window.suppressed += 1
                window.latest = event
                return None
            held = window.suppressed if window is not None else 0
            self._windows[key] = _Window(opened=event.at)
        return _noted(event, f"(+{held} similar suppressed)") if held else event

    def _enqueue(self, job: _Job) -> None:
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            self._done()
            self.counts["dropped"] += 1
            log.warning("notification %s dropped: %d messages already waiting",
                        job.event.kind.value, QUEUE_SIZE)
            return
        self._start()

    def _start(self) -> None:
        with self._mutex:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="notify", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                if job.suppressed:
                    self.counts[SUPPRESSED] += 1
                    self._record([Outcome(self._redacted(job.event), None, SUPPRESSED)])
                else:
                    self._deliver(job.event)
            except Exception as exc:  # the thread must outlive any one message
                log.warning("notification %s: %s", job.event.kind.value, type(exc).__name__)
            finally:
                self._done()

    def _done(self) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def _redacted(self, event: Event) -> Event:
        return replace(event, title=self.redact(event.title), body=self.redact(event.body))

    def _deliver(self, event: Event) -> list[Delivery]:
        clean = self._redacted(event)
        deliveries, outcomes = [], []
        for target in self._targets:
            error = target.send(clean.title, clean.body, clean.level)
            if error is not None:
                error = self.redact(" ".join(error.split()))
                log.warning("notification %s to %s failed: %s", event.kind.value,
                            target.label, error)
            status = SENT if error is None else FAILED
            self.counts[status] += 1
            deliveries.append(Delivery(target.label, target.scheme, error is None, error))
            outcomes.append(Outcome(clean, target.scheme or None, status, error))
        self._record(outcomes)
        return deliveries

    def _record(self, outcomes: list[Outcome]) -> None:
        if self._recorder is not None:
            self._recorder.write(outcomes)
