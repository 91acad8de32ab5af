"""Parameter search over a strategy through the real backtest (Optuna), walk-forward.

``space`` (the strategy file's ``optimize`` section) and ``folds`` import nothing heavy,
since ``config`` reads the section on every command; ``search`` is the one module that
imports ``optuna`` (an optional extra: ``pip install 'bithumb-llm-trader[optimize]'``).
"""
