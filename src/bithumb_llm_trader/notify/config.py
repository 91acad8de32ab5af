"""The ``notifications`` section's model lives with the other config models
(``config.notifications``); re-exported here for the notify package's users."""

from ..config.notifications import (
    DEFAULT_EVENTS,
    DEFAULT_QUIET,
    NotificationsConfig,
    TargetCheck,
    validate_targets,
)

__all__ = ["DEFAULT_EVENTS", "DEFAULT_QUIET", "NotificationsConfig", "TargetCheck",
           "validate_targets"]
