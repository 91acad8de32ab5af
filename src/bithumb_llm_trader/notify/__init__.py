"""Notifications: events to apprise URLs (or a plain ``json://`` webhook), off the cycle's
path, recorded in the ``notifications`` table.

This package's top level and ``events``, ``config`` and ``trackers`` are pure (no
httpx, SQLAlchemy, typer or rich), so the engine may build events and hold the trackers;
the sender (``notify.sender.Notifier``), which needs httpx and SQLAlchemy, is imported
from its module by the composition root only. The section's model lives with the other
config models (``config.notifications``, re-exported by ``notify.config``); it is not
imported here, since the config package imports ``notify.events``.
"""

from .events import Emitter, Event, EventKind, Level, NullEmitter
from .trackers import ConsecutiveFailures, DailySummaryClock

__all__ = [
    "ConsecutiveFailures",
    "DailySummaryClock",
    "Emitter",
    "Event",
    "EventKind",
    "Level",
    "NullEmitter",
]
