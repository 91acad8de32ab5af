"""Prompts for the language model, built from a snapshot and versioned."""

from .answer_format import ANSWER_FIELDS, AnswerField, describe_answer_format
from .builder import PROMPT_VERSION, build_trading_prompt
from .model import Prompt

__all__ = [
    "ANSWER_FIELDS",
    "PROMPT_VERSION",
    "AnswerField",
    "Prompt",
    "build_trading_prompt",
    "describe_answer_format",
]
