"""Several strategies trading one account as a portfolio.

``load_portfolio(path)`` reads a directory of strategy files or a portfolio file;
``MultiAgentPortfolioManager.run_cycle()`` runs one cycle of every strategy
concurrently and returns a ``PortfolioCycleResult``. Each strategy owns a ledger (its
cash and coins inside the one account); orders placed in the same cycle are netted per
market into one order; market data is read once per cycle and shared.
"""

from .capital import Valuation, committed_for, twap_remainders
from .config import PortfolioConfig, PortfolioMember
from .desk import NettingDesk
from .ledger import Ledger, LedgerExchange, ledger_key
from .loading import LoadFailure, MemberSpec, PortfolioPlan, load_portfolio
from .manager import CycleOpening, MultiAgentPortfolioManager
from .market_cache import SharedMarketData
from .netting import (
    ExternalFill,
    Intent,
    NettingPlan,
    Share,
    active_shares,
    cross_price,
    passive_shares,
    plan_netting,
    split,
)
from .results import NettingReport, PortfolioCycleResult, PositionValue, StrategyCycleResult
from .settlement import NettingBook, Settlement, Settler

__all__ = [
    "CycleOpening",
    "ExternalFill",
    "Intent",
    "Ledger",
    "LedgerExchange",
    "LoadFailure",
    "MemberSpec",
    "MultiAgentPortfolioManager",
    "NettingBook",
    "NettingDesk",
    "NettingPlan",
    "NettingReport",
    "PortfolioConfig",
    "PortfolioCycleResult",
    "PortfolioMember",
    "PortfolioPlan",
    "PositionValue",
    "Settlement",
    "Settler",
    "Share",
    "SharedMarketData",
    "StrategyCycleResult",
    "Valuation",
    "active_shares",
    "committed_for",
    "cross_price",
    "ledger_key",
    "load_portfolio",
    "passive_shares",
    "plan_netting",
    "split",
    "twap_remainders",
]
