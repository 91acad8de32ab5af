"""Prompts for the language model, built from a snapshot and versioned."""

from .model import Prompt

__all__ = ["Prompt"]
