"""Bithumb's REST API (JWT "API 2.0") as an async ``ports.Exchange`` adapter.

``BithumbClient`` is the adapter; ``BithumbAuth`` signs private requests;
``RateLimiter`` keeps one IP under Bithumb's per-category limits and can be shared by
several clients. Exchange paths and wire constants live in ``endpoints``.
``BithumbAPI`` is the seed document's name for the client, kept as an alias.
"""

from __future__ import annotations

from .auth import BithumbAuth
from .client import BithumbClient
from .ratelimit import RateLimiter

BithumbAPI = BithumbClient
"""The seed document's name for ``BithumbClient``."""

__all__ = ["BithumbAPI", "BithumbAuth", "BithumbClient", "RateLimiter"]
