"""The prompt type shared by the prompt builder, the deciders and the audit trail."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Prompt:
    """System and user text, and the version of the template that produced them."""

    system: str
    user: str
    version: str

    @property
    def digest(self) -> str:
        """SHA-256 of the version and both texts: the decision cache key's base."""
        text = f"{self.version}\x00{self.system}\x00{self.user}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def estimated_tokens(self) -> int:
        """A tokenizer-free estimate: characters / 4."""
        return (len(self.system) + len(self.user) + 3) // 4
