"""Market and account snapshot, features and equity."""

from .book import InvalidOrderbook, summarize_book
from .equity import EquityEstimate, build_account_view, estimate_total_krw
from .features import FeatureCalculator, FeatureParams, compute_features
from .live_features import LiveFeatures
from .model import AccountView, BookSummary, CandleFeatures, Holding, MarketSnapshot
from .snapshot import SnapshotSource, candles_until, collect_snapshot, snapshot_from_parts

__all__ = [
    "AccountView",
    "BookSummary",
    "CandleFeatures",
    "EquityEstimate",
    "FeatureCalculator",
    "FeatureParams",
    "Holding",
    "InvalidOrderbook",
    "LiveFeatures",
    "MarketSnapshot",
    "SnapshotSource",
    "build_account_view",
    "candles_until",
    "collect_snapshot",
    "compute_features",
    "estimate_total_krw",
    "snapshot_from_parts",
    "summarize_book",
]
