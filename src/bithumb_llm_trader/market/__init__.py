"""Market and account snapshot, features and equity."""

from .model import AccountView, BookSummary, CandleFeatures, Holding, MarketSnapshot

__all__ = ["AccountView", "BookSummary", "CandleFeatures", "Holding", "MarketSnapshot"]
