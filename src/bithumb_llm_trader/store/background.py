"""``BackgroundWriter``: batches of records inserted by a process of their own.

A long backtest spends about a third of its time turning records into rows and inserting
them. On a machine with a second core that work can run beside the replay: the replay
reads each record into a tuple of plain values (``record_values``), the tuples go down a
pipe, and a child process with its own connection converts and inserts them exactly as
``SqlStore.write`` would.

A batch travels as columns (``pack_batch``): pickling a Decimal costs about 480 ns
(it is rebuilt from its text by a reduce call), its text about 85 ns including ``str``,
so money columns go as text and the child makes the same Decimals again.

At most one batch is in flight. ``wait`` blocks until it is stored; whoever reads or
writes the database directly must call it first, so the database always looks to the
parent as if every write had been made in place.

The child is ``python -m bithumb_llm_trader.store.background``, not a
``multiprocessing`` child: those re-import the parent's main script, which would run a
user's top-level backtest script again. It inherits no connection or lock, sits in a
session of its own (a Ctrl-C in the terminal is the parent's to handle), is told the
database URL through the pipe (a command line would show its password to ``ps``), and
ends when the parent closes the pipe or goes away.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from multiprocessing.connection import Connection
from typing import Any

from ..errors import StoreError
from ..records import Record
from . import schema as s
from .sql_store import record_values
from .types import ExactDecimal

_WAIT_SECONDS = 10.0
_NONE_TEXT = str(None)
"""What ``str`` makes of a missing amount; no Decimal's text is this."""
_MONEY_FIELDS: Mapping[str, frozenset[int]] = {
    kind.__name__: frozenset(
        position for position, name in enumerate(s.RECORD_FIELDS[kind])
        if isinstance(s.table_for(kind).c[name].type, ExactDecimal))
    for kind in s.RECORD_TYPES
}
"""Per record type, the positions of its fields stored as exact decimals."""

Batch = dict[str, list[Sequence[Any]]]
"""Record type name to the columns of its rows, money columns as text."""


def pack_batch(groups: Mapping[type[Any], list[tuple[Any, ...]]]) -> Batch:
    """Rows (``record_values``) as columns, each money column as the text of its values."""
    batch: Batch = {}
    for kind, rows in groups.items():
        money = _MONEY_FIELDS[kind.__name__]
        batch[kind.__name__] = [
            list(map(str, column)) if position in money else column
            for position, column in enumerate(zip(*rows, strict=True))
        ]
    return batch


def unpack_batch(batch: Batch) -> dict[type[Any], list[tuple[Any, ...]]]:
    """The rows ``pack_batch`` was given, with equal Decimals (the text of a Decimal
    gives back its exact digits, exponent and sign)."""
    kinds = {kind.__name__: kind for kind in s.RECORD_TYPES}
    groups: dict[type[Any], list[tuple[Any, ...]]] = {}
    for name, columns in batch.items():
        money = _MONEY_FIELDS[name]
        groups[kinds[name]] = list(zip(*[
            [None if text == _NONE_TEXT else Decimal(text) for text in column]
            if position in money else column
            for position, column in enumerate(columns)
        ], strict=True))
    return groups


class BackgroundWriter:
    """Writes batches of records to ``url`` from a child process (see the module doc).

    Args:
        url: the database, as ``open_store`` takes it (credentials included: it only
            goes down the pipe to the child).
        label: the database as messages name it (credentials removed).
    """

    def __init__(self, url: str, *, label: str) -> None:
        self._label = label
        to_child, from_parent = os.pipe()
        to_parent, from_child = os.pipe()
        environment = dict(os.environ)
        # The child imports this package the way the parent did, installed or not.
        environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        self._process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(to_child), str(from_child)],
            pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL,
            start_new_session=True, env=environment,
        )
        os.close(to_child)
        os.close(from_child)
        self._send = Connection(from_parent, readable=False)
        self._receive = Connection(to_parent, writable=False)
        self._in_flight = False
        self._closed = False
        self._post(url)

    def write(self, records: Sequence[Record]) -> None:
        """Send ``records`` to be inserted in one transaction; returns at once (after the
        previous batch is stored).

        Raises:
            StoreError: the previous batch failed, or the writer has stopped.
        """
        self.wait()
        batch = pack_batch(record_values(records))
        if batch:
            self._post(batch)
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
            reply = self._receive.recv()
        except (EOFError, OSError) as exc:
            raise StoreError(f"the writer process for {self._label} stopped before "
                             f"storing its batch (exit code {self._process.poll()})") from exc
        if reply is not None:
            raise StoreError(reply)

    def idle(self) -> bool:
        """True when no batch is in flight or its answer has come (a stopped child
        counts too: the next ``wait`` reports it)."""
        return not self._in_flight or self._receive.poll()

    def close(self) -> None:
        """Wait for the batch in flight, then stop the child."""
        if self._closed:
            return
        self._closed = True
        try:
            self.wait()
        finally:
            self._send.close()  # the child reads the end of the pipe and stops
            self._receive.close()
            try:
                self._process.wait(_WAIT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(_WAIT_SECONDS)

    def _post(self, message: Any) -> None:
        try:
            self._send.send(message)
        except (OSError, ValueError) as exc:
            raise StoreError(f"the writer process for {self._label} has stopped: {exc}") from exc


def serve(receive: Connection, send: Connection) -> None:
    """The child: open the database it is told, then insert each batch and answer None
    or the error, until the pipe closes."""
    from . import open_store  # here, not at the top: the parent never needs it

    store = None
    try:
        url = receive.recv()
        while True:
            try:
                batch = receive.recv()
            except EOFError:
                return  # the parent is done, or gone
            try:
                if store is None:
                    store = open_store(url)
                store.write_values(unpack_batch(batch))
            except Exception as exc:  # every failure goes back as a message
                send.send(str(exc) if isinstance(exc, StoreError) else (
                    f"writing a batch to the database failed: {type(exc).__name__}: {exc}"))
            else:
                send.send(None)
    except EOFError:
        return
    finally:
        if store is not None:
            store.close()


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]),
                                                                    readable=False))
    # The store is closed and nothing else is held: skip the interpreter's teardown of
    # SQLAlchemy and the rest, 30 to 100 ms the parent's close would wait for.
    os._exit(0)
