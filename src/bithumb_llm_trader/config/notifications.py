"""The ``notifications`` section of a strategy file.

```yaml
notifications:
  urls:
    - tgram://${TELEGRAM_BOT_TOKEN}/${TELEGRAM_CHAT_ID}
    - jsons://hooks.example.com/trader      # a plain webhook: works without apprise
  min_level: info
  quiet_period: {cycle_failed: 1h}        # merged over the defaults
  daily_summary_at: "09:00"               # KST; quote it (YAML reads 21:30 as a number)
```

``StrategyConfig.notifications`` holds it (default: no URLs, nothing sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from types import MappingProxyType
from typing import Annotated

from pydantic import BeforeValidator, Field, SecretStr, StrictBool, field_validator

from ..notify.events import EventKind, Level
from ..notify.targets import load_apprise, parse_target, target_error
from .models import Duration, Frozen

DEFAULT_EVENTS = frozenset(EventKind) - {EventKind.TEST}
"""Every kind but ``test`` (which ``notify-test`` sends whatever the filter says).

No kind fires on a healthy cycle: fills, TWAP ends and state changes are rare, and a
failing loop's ``cycle_failed`` is held back by its quiet period."""

DEFAULT_QUIET = MappingProxyType({
    EventKind.CYCLE_FAILED: timedelta(minutes=30),
    EventKind.LEASE_REFUSED: timedelta(minutes=30),
    EventKind.ORDER_UNKNOWN: timedelta(minutes=10),
})
"""Quiet periods of the kinds a stuck loop repeats; every other kind: none."""

MAX_URLS = 20


def _wall_clock(value: object) -> object:
    # YAML 1.1 reads an unquoted 21:30 as the number 1290 and pydantic would read that
    # as seconds (00:21:30): refuse numbers instead of sending at the wrong time.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError("write the time as text, e.g. \"09:00\" (quoted in YAML)")
    return value


class NotificationsConfig(Frozen):
    """Where events go, which ones, and how often at most."""

    enabled: StrictBool = True
    urls: list[SecretStr] = Field(default_factory=list, max_length=MAX_URLS, description=(
        "apprise URLs (tgram://, slack://, discord://, mailto://, ntfy://, ...);"
        " json://host/path and jsons:// also work without apprise"))
    events: frozenset[EventKind] = DEFAULT_EVENTS
    min_level: Level = Level.INFO
    quiet_period: dict[EventKind, Duration] = Field(
        default_factory=dict, description="per event kind, merged over the defaults")
    daily_summary_at: Annotated[time | None, BeforeValidator(_wall_clock)] = Field(
        time(9, 0), description="KST wall-clock time of the daily summary; null: none")
    consecutive_failures: int = Field(5, ge=1, le=10_000, description=(
        "cycles failed in a row before one consecutive_failures message"))
    timeout_s: float = Field(5.0, gt=0, le=120, allow_inf_nan=False,
                             description="seconds per message and URL")

    @field_validator("urls")
    @classmethod
    def _urls_parse(cls, value: list[SecretStr]) -> list[SecretStr]:
        for number, url in enumerate(value, 1):
            try:
                parse_target(url.get_secret_value())
            except ValueError as exc:  # the message never echoes the URL
                raise ValueError(f"URL {number}: {exc}") from None
        return value

    @field_validator("quiet_period")
    @classmethod
    def _merge_defaults(cls, value: dict[EventKind, timedelta]) -> dict[EventKind, timedelta]:
        return {**DEFAULT_QUIET, **value}

    @field_validator("daily_summary_at")
    @classmethod
    def _naive(cls, value: time | None) -> time | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError("a KST wall-clock time without a zone, e.g. \"09:00\"")
        return value

    @property
    def active(self) -> bool:
        """Whether anything can be sent at all."""
        return self.enabled and bool(self.urls)

    def quiet_for(self, kind: EventKind) -> timedelta:
        """The quiet period of ``kind`` (zero when none is configured)."""
        return self.quiet_period.get(kind, DEFAULT_QUIET.get(kind, timedelta(0)))

    def wants(self, kind: EventKind, level: Level) -> bool:
        """Whether an event of ``kind`` at ``level`` passes the filters."""
        return kind in self.events and level.rank >= self.min_level.rank


@dataclass(frozen=True)
class TargetCheck:
    """One configured URL as ``validate`` reports it: its label and what is wrong."""

    number: int
    label: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


def validate_targets(config: NotificationsConfig) -> list[TargetCheck]:
    """Check every URL can be used here, in order; never echoes a secret.

    A URL fails when its scheme is not ``json://``/``jsons://`` and apprise is not
    installed (the message says how to install it), when apprise does not know the
    scheme, or when apprise cannot read the URL's parts.
    """
    apprise = load_apprise()
    checks = []
    for number, secret in enumerate(config.urls, 1):
        url = secret.get_secret_value()
        try:
            label = parse_target(url).label
        except ValueError:
            label = "(not a URL)"
        checks.append(TargetCheck(number, label, target_error(url, apprise)))
    return checks
