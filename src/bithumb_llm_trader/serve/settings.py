"""What ``serve`` needs to know, resolved once from the command line and the environment.

Kept apart from the app so the rules are pure and tested on their own: which database
(``--db``, else the strategy file's ``database.url``, else the default), which kill-switch
file (``--kill-switch-file``, else the file's ``risk.kill_switch_file``, else none: then
control is refused), and when a token is required (for control always; for everything
when the server listens on anything but loopback, which then refuses to start without
one). Only these values are kept: the strategy file's API and model keys are never held,
so no answer can leak them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..config import DatabaseConfig, load_config
from ..errors import ConfigError

TOKEN_ENV = "BITHUMB_TRADER_API_TOKEN"
"""The environment variable holding the bearer token of the API."""
MIN_TOKEN_LENGTH = 16
"""A shorter token is refused: it guards a switch that halts trading."""
LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback"})


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """Everything the app is built from; ``token`` is compared, never shown."""

    database_url: str
    host: str = "127.0.0.1"
    port: int = 8080
    kill_switch_file: Path | None = None
    token: str | None = field(default=None, repr=False)
    strategy: str | None = None
    refresh_seconds: int = 5

    @property
    def token_everywhere(self) -> bool:
        """Every API endpoint needs the token: the server is reachable from elsewhere."""
        return not is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine only."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def serve_settings(
    *,
    config: str | None,
    db: str | None,
    host: str,
    port: int,
    kill_switch_file: str | None,
    environ: Mapping[str, str],
) -> ServeSettings:
    """Resolve the settings of ``bithumb-trader serve``.

    Raises:
        ConfigError: a strategy file that does not load, a port out of range, a token
            that is too short, or a non-loopback host without a token.
        StopError: (from ``load_config``) the strategy file is missing or invalid.
    """
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, got {port}")
    loaded = load_config(config) if config else None
    url = db or (loaded.database.url if loaded else DatabaseConfig().url)
    switch = kill_switch_file or (loaded.risk.kill_switch_file if loaded else None)
    token = environ.get(TOKEN_ENV) or None
    if token is not None and len(token.strip()) < MIN_TOKEN_LENGTH:
        raise ConfigError(f"{TOKEN_ENV} is too short: use at least {MIN_TOKEN_LENGTH} "
                          "random characters (e.g. `openssl rand -hex 24`)")
    settings = ServeSettings(
        database_url=url, host=host, port=port,
        kill_switch_file=Path(switch) if switch else None,
        token=token.strip() if token else None,
        strategy=loaded.name if loaded else None,
    )
    if settings.token_everywhere and settings.token is None:
        raise ConfigError(
            f"--host {host} is reachable from other machines: set {TOKEN_ENV} (every "
            "endpoint then needs it), or listen on 127.0.0.1"
        )
    return settings
