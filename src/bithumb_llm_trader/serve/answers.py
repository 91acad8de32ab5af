"""Reading the database for one answer, and the shape of a page.

A failure to read becomes a 503 naming the database with its password hidden (the
trader may simply be migrating it), never a 500 with a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import HTTPException
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from ..report.browse import CursorMismatch, Page
from ..store.connect import store_error
from .encode import encode_cursor, plain
from .params import Listing
from .state import ServeState


@contextmanager
def reading(state: ServeState) -> Iterator[Connection]:
    """One read transaction: every query of an answer sees one state of the database."""
    source = state.source
    try:
        with state.connect() as conn, conn.begin():
            yield conn
    except SQLAlchemyError as exc:
        error = store_error(exc, source.label, "reading", source.engine.url)
        raise HTTPException(status_code=503, detail=str(error)) from exc
    except StoreError as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from exc
    except CursorMismatch as exc:
        raise HTTPException(status_code=422, detail=f"cursor: {exc}") from exc


def page_answer(page: Page, listing: Listing, items: list[Any] | None = None) -> dict[str, Any]:
    """A page of a list: its items and how to ask for the next one (by cursor, or by
    offset when the page was asked for by offset)."""
    request = listing.page
    cursor = None if page.cursor is None else encode_cursor(*page.cursor)
    next_offset = request.offset + len(page.rows) if page.more and request.after is None \
        else None
    return {
        "items": plain(page.rows) if items is None else items,
        "limit": request.limit,
        "offset": request.offset,
        "more": page.more,
        "next_cursor": cursor,
        "next_offset": next_offset,
    }
