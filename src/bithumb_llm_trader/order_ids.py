"""Client order ids: one generator, one format, for every order any path sends.

Format: ``btr-<kind>-<stem>[-<n>]``, at most 36 characters (Bithumb's limit), letters,
digits and ``-`` only:

=====  =====================================  ===========================================
kind   order                                  stem
=====  =====================================  ===========================================
``c``  a cycle's single order                 the first 24 characters of the cycle's run id
``s``  slice ``n`` of a TWAP                  the first 20 characters of the TWAP run id
``n``  a portfolio's netted order             the first 24 characters of a fresh id
=====  =====================================  ===========================================

Run ids are random (uuid4, 122 bits) or, in a backtest, a random prefix and a counter,
so ids are unique across processes and restarts; an id is derived from its run rather
than drawn anew so that after a crash the same order is looked up by the same id and
never sent twice (a TWAP slice's id is fixed when the TWAP is planned).
"""

from __future__ import annotations

import string
import uuid

PREFIX = "btr"
MAX_LENGTH = 36
_ID_CHARS = frozenset(string.ascii_letters + string.digits)


def _stem(source: str, length: int) -> str:
    stem = "".join(c for c in source if c in _ID_CHARS)[:length]
    if not stem:
        raise ValueError(f"cannot derive a client order id from {source!r}")
    return stem


def cycle_order_id(run_id: str) -> str:
    """The id of the one order a cycle sends."""
    return f"{PREFIX}-c-{_stem(run_id, 24)}"


def slice_order_id(twap_run_id: str, slice_no: int) -> str:
    """The id of slice ``slice_no`` of a TWAP: the same after a restart."""
    return f"{PREFIX}-s-{_stem(twap_run_id, 20)}-{slice_no}"


def netting_id(unique: str | None = None) -> str:
    """The id of a portfolio's netted order (and of its netting plan)."""
    return f"{PREFIX}-n-{_stem(unique or uuid.uuid4().hex, 24)}"
