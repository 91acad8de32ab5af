"""The paper exchange: real market data, simulated fills, a wallet kept in the store."""

from .exchange import PaperExchange, PaperStateStore
from .wallet import PaperWallet, fee_for

__all__ = ["PaperExchange", "PaperStateStore", "PaperWallet", "fee_for"]
