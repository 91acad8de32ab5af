"""bithumb-trader: trade spot pairs on Bithumb with a language model in the loop.

The risk manager has the last word on every order; dry-run is the default.
"""

__version__ = "0.1.0"
