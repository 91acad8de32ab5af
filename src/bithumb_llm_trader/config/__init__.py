"""Strategy configuration: the schema and the loader."""

from .loading import (
    OVERRIDE_PREFIX,
    SECRET_VARIABLES,
    config_from_mapping,
    load_config,
    merged_environment,
    read_mapping,
)
from .models import (
    AllocationConfig,
    ApiConfig,
    AppConfig,
    DatabaseConfig,
    LLMConfig,
    LoggingConfig,
    PaperConfig,
    RiskConfig,
    RuleParams,
    StrategyConfig,
    StrategySection,
    TokenPrice,
    TradingPairConfig,
    TwapConfig,
)

__all__ = [
    "OVERRIDE_PREFIX",
    "SECRET_VARIABLES",
    "AllocationConfig",
    "ApiConfig",
    "AppConfig",
    "DatabaseConfig",
    "LLMConfig",
    "LoggingConfig",
    "PaperConfig",
    "RiskConfig",
    "RuleParams",
    "StrategyConfig",
    "StrategySection",
    "TokenPrice",
    "TradingPairConfig",
    "TwapConfig",
    "config_from_mapping",
    "load_config",
    "merged_environment",
    "read_mapping",
]
