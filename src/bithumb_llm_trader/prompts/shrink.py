"""Fewer candles in a built prompt, for a model whose context cannot hold them all.

The candle table is the one part of the prompt that can lose rows without losing
meaning: the features line already summarises the whole window. The table is found by
the header the builder writes (``CANDLES ...``) and its rows run up to the next
section; the newest rows are kept, the oldest dropped, and with none left the table
goes entirely.
"""

from __future__ import annotations

from dataclasses import replace

from .model import Prompt

CANDLES_HEADER = "CANDLES "


def candle_rows(prompt: Prompt) -> int | None:
    """How many candle rows the prompt shows; ``None`` when it has no candle table."""
    span = _table_span(prompt.user.split("\n"))
    return None if span is None else span[1] - span[0] - 1


def with_candles(prompt: Prompt, keep: int) -> Prompt:
    """``prompt`` showing only the newest ``keep`` candles (no table when 0)."""
    lines = prompt.user.split("\n")
    span = _table_span(lines)
    if span is None:
        return prompt
    start, end = span
    rows = lines[start + 1:end]
    if keep >= len(rows):
        return prompt
    kept = [lines[start], *rows[len(rows) - keep:]] if keep > 0 else []
    return replace(prompt, user="\n".join([*lines[:start], *kept, *lines[end:]]))


def _table_span(lines: list[str]) -> tuple[int, int] | None:
    """Index of the table's header line and of the first line after its rows."""
    for start, line in enumerate(lines):
        if line.startswith(CANDLES_HEADER):
            end = start + 1
            while end < len(lines) and lines[end][:1].isdigit():
                end += 1
            return start, end
    return None
