"""The prompt type shared by the prompt builder, the deciders and the audit trail."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass


@functools.lru_cache(maxsize=64)
def _digest(version: str, system: str, user: str) -> str:
    # Cached: the audit trail and the decision cache both ask, and a prompt-less
    # decider asks for the same empty prompt's digest every cycle.
    text = f"{version}\x00{system}\x00{user}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Prompt:
    """System and user text, and the version of the template that produced them."""

    system: str
    user: str
    version: str

    @property
    def digest(self) -> str:
        """SHA-256 of the version and both texts: the decision cache key's base."""
        return _digest(self.version, self.system, self.user)

    @property
    def estimated_tokens(self) -> int:
        """A tokenizer-free estimate: characters / 4."""
        return (len(self.system) + len(self.user) + 3) // 4
