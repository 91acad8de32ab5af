"""``BackgroundWriter``: batches of records inserted by a process of their own.

A long backtest spends about a third of its time turning records into rows and inserting
them. On a machine with a second core that work can run beside the replay: the replay
reads each record into a tuple of plain values (``record_values``), the tuples go down a
pipe, and a child process with its own connection converts and inserts them exactly as
``SqlStore.write`` would.

At most one batch is in flight. ``wait`` blocks until it is stored; whoever reads or
writes the database directly must call it first, so the database always looks to the
parent as if every write had been made in place. The child is started with ``spawn``
(no inherited connections or locks), ignores Ctrl-C (the parent decides when to stop),
and ends when the parent closes the pipe or goes away.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from ..errors import StoreError
from ..records import Record
from . import schema as s
from .sql_store import record_values

_STOP = None
_JOIN_SECONDS = 10.0


class BackgroundWriter:
    """Writes batches of records to ``url`` from a child process (see the module doc).

    Args:
        url: the database, as ``open_store`` takes it (credentials included: it only
            goes down the pipe to the child).
        label: the database as messages name it (credentials removed).
    """

    def __init__(self, url: str, *, label: str) -> None:
        self._label = label
        context = multiprocessing.get_context("spawn")
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(target=_serve, args=(child_end, url), daemon=True,
                                        name="bithumb-trader-writer")
        self._process.start()
        child_end.close()
        self._in_flight = False
        self._closed = False

    def write(self, records: Sequence[Record]) -> None:
        """Send ``records`` to be inserted in one transaction; returns at once (after the
        previous batch is stored).

        Raises:
            StoreError: the previous batch failed, or the writer has stopped.
        """
        self.wait()
        groups = {kind.__name__: values for kind, values in record_values(records).items()}
        if not groups:
            return
        try:
            self._pipe.send(groups)
        except (OSError, ValueError) as exc:
            raise StoreError(f"the writer process for {self._label} has stopped: {exc}") from exc
        self._in_flight = True

    def wait(self) -> None:
        """Block until the batch in flight is stored.

        Raises:
            StoreError: it was not (the child's message says why), or the child died.
        """
        if not self._in_flight:
            return
        self._in_flight = False
        try:
            reply = self._pipe.recv()
        except (EOFError, OSError) as exc:
            raise StoreError(f"the writer process for {self._label} stopped before "
                             f"storing its batch (exit code {self._process.exitcode})") from exc
        if reply is not None:
            raise StoreError(reply)

    def close(self) -> None:
        """Wait for the batch in flight, then stop the child."""
        if self._closed:
            return
        self._closed = True
        try:
            self.wait()
        finally:
            with contextlib.suppress(OSError, ValueError):  # already gone
                self._pipe.send(_STOP)
            self._pipe.close()
            self._process.join(_JOIN_SECONDS)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(_JOIN_SECONDS)


def _serve(pipe: Connection, url: str) -> None:
    """The child: insert each batch received, answer None or the error, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from . import open_store  # the child's own engine and connection

    kinds = {kind.__name__: kind for kind in s.RECORD_TYPES}
    store = None
    try:
        while True:
            try:
                batch: Any = pipe.recv()
            except EOFError:
                return  # the parent has gone
            if batch is _STOP:
                return
            try:
                if store is None:
                    store = open_store(url)
                store.write_values({kinds[name]: values for name, values in batch.items()})
            except Exception as exc:  # every failure goes back as a message
                message = str(exc) if isinstance(exc, StoreError) else (
                    f"writing a batch to the database failed: {type(exc).__name__}: {exc}")
                pipe.send(message)
            else:
                pipe.send(None)
    finally:
        if store is not None:
            store.close()
