"""The composition root: the one place that builds adapters, gates, executors and engines.

Commands parse their options and call in here; nothing else constructs a Bithumb client,
a store, a paper exchange, a decider, a ``PreTradeGate``, an ``OrderExecutor``, a
``TWAPExecutor``, a ``TradingEngine`` or a portfolio manager. Engines receive what they
need as constructor arguments, so every order of every command passes the same gate.

* ``mode``: choosing the ``Mode`` once (``dry_run: false`` AND ``--live``), live checks;
* ``adapters``: the Bithumb client, the paper exchange, the deciders;
* ``engines``: gate -> order executor -> TWAP executor -> cycle steps -> engine;
* ``runtime``: one strategy (``run``, ``twap``); ``portfolio``: several on one account;
* ``backtest``: the replay's engine and decider.
"""

from .adapters import build_client, build_decider, build_paper, rule_decider
from .engines import kill_switch_file, strategy_rules, trading_engine, twap_executor
from .mode import ModeChoice, check_live, choose_mode, openai_key, secrets_of
from .runtime import Runtime, build_runtime, redacted, stored_twap_run

__all__ = [
    "ModeChoice",
    "Runtime",
    "build_client",
    "build_decider",
    "build_paper",
    "build_runtime",
    "check_live",
    "choose_mode",
    "kill_switch_file",
    "openai_key",
    "redacted",
    "rule_decider",
    "secrets_of",
    "stored_twap_run",
    "strategy_rules",
    "trading_engine",
    "twap_executor",
]
