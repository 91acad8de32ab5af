"""Choosing the ``Mode`` once, and refusing a live run that lacks what it needs.

Real orders need ``dry_run: false`` in the file AND ``--live`` on the command line;
anything less runs dry and the notes say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ..config import LLMConfig, StrategyConfig
from ..domain import Mode
from ..errors import LiveTradingRefused


@dataclass(frozen=True, slots=True)
class ModeChoice:
    """The mode a command runs in, and the lines that tell the user why."""

    mode: Mode
    notes: tuple[str, ...]

    @property
    def live(self) -> bool:
        return self.mode is Mode.LIVE

    @property
    def name(self) -> str:
        return self.mode.value


def choose_mode(dry_run: bool, live_flag: bool, *, where: str = "the config",
                everywhere: str | None = None) -> ModeChoice:
    """Live only when both the file(s) and the command line ask for it.

    ``where`` names the file that says ``dry_run: true``; ``everywhere`` the files that
    must all say ``dry_run: false`` (a portfolio directory's strategy files).
    """
    if live_flag and not dry_run:
        return ModeChoice(Mode.LIVE, ("LIVE: real orders will be sent to Bithumb",))
    if live_flag:
        return ModeChoice(Mode.DRY, (f"dry run: {where} says dry_run: true, so --live is"
                                     " ignored",))
    if not dry_run:
        return ModeChoice(Mode.DRY, (f"dry run: {everywhere or where} says dry_run: false,"
                                     " but --live was not given",))
    return ModeChoice(Mode.DRY, ("dry run: orders are simulated on the real orderbook",))


def openai_key(config: StrategyConfig, override: str | None) -> str | None:
    if override:
        return override
    key = config.llm.api_key
    return key.get_secret_value() if key and key.get_secret_value() else None


_OPENAI_HOSTS = ("openai.com", ".openai.com", ".openai.azure.com")


def keyless_server(llm: LLMConfig) -> str | None:
    """The host (and port) of a model server that needs no OpenAI key, else ``None``.

    A ``base_url`` whose host is not OpenAI's (llama.cpp, Ollama, vLLM on this machine
    or the network) is called without a key; without a ``base_url`` the model is
    OpenAI's, which needs one. Only the host is returned, never the URL's user,
    password or query, so it is fit for the run's notes.
    """
    if not llm.base_url:
        return None
    try:
        parts = urlsplit(llm.base_url.strip())
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None
    if not host or host == "openai.com" or host.endswith(_OPENAI_HOSTS):
        return None
    return f"{host}:{port}" if port else host


def secrets_of(config: StrategyConfig, extra: str | None = None) -> list[str]:
    """Every secret value a log line must never show."""
    values = [extra or ""]
    for secret in (config.api.api_key, config.api.api_secret, config.llm.api_key):
        if secret is not None:
            values.append(secret.get_secret_value())
    return [v for v in values if v]


def check_live(
    config: StrategyConfig, mode: ModeChoice, llm_key: str | None, *, decides: bool = True
) -> None:
    """Refuse a live run that lacks what it needs, before any connection is made."""
    if not mode.live:
        return
    if not config.api.has_keys:
        raise LiveTradingRefused(
            "live trading needs Bithumb API keys: set BITHUMB_API_KEY and BITHUMB_API_SECRET"
            " (or api.api_key / api.api_secret in the config)"
        )
    if (decides and config.strategy.decider == "llm" and not llm_key
            and keyless_server(config.llm) is None):
        raise LiveTradingRefused(
            "live trading with the llm decider needs an OpenAI key: set OPENAI_API_KEY or"
            " pass --openai-api-key (or choose strategy.decider: rules, or point"
            " llm.base_url at a local model server)"
        )
