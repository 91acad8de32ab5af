"""Replaying historical candles through the same trading cycle as a live run.

``Backtest(config, BacktestSettings(data=...), decider=..., store=..., wall_clock=...)``
reads a candle file (``candles``), replays it through ``TradingEngine.run_cycle`` with a
simulated clock and a ``PaperExchange`` filling against a synthetic book
(``book_model``), and returns a ``BacktestResult``; ``download_candles`` fills such a
file from the exchange's public API.
"""

from .book_model import BookModel, fit_book_model
from .candles import CandleFile, detect_interval, open_candle_file
from .download import DownloadReport, download_candles
from .replay import ReplayProgress
from .results import BacktestResult
from .runner import STAND_IN_NOTE, Backtest, BacktestSettings
from .store import BufferedStore

__all__ = [
    "STAND_IN_NOTE",
    "Backtest",
    "BacktestResult",
    "BacktestSettings",
    "BookModel",
    "BufferedStore",
    "CandleFile",
    "DownloadReport",
    "ReplayProgress",
    "detect_interval",
    "download_candles",
    "fit_book_model",
    "open_candle_file",
]
