"""What every command shares: error mapping, exit codes, output and logging setup."""

from __future__ import annotations

import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

import typer
from rich.console import Console, RenderableType
from rich.markup import escape

if TYPE_CHECKING:
    import asyncio

    from ..config import StrategyConfig
    from ..ports import Clock

# The rest of the package is imported inside the functions below: the root of the command
# line (main.py, help.py) imports this module, and `--help` must not load the config
# models, the engine or the logging set-up (see cli/commands.py).

log = logging.getLogger(__name__)
R = TypeVar("R", bound="CycleOutcome")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print a short error on stderr and exit; never a traceback for a known fault."""
    stderr().print(f"[bold red]error:[/] {escape(message)}", markup=True, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def handled_errors() -> Iterator[None]:
    """Map the package's errors to one-line messages and exit codes."""
    import asyncio

    from ..errors import StopError, TraderError

    try:
        yield
    except StopError as exc:
        fail(str(exc), EXIT_USAGE)
    except TraderError as exc:
        fail(f"{type(exc).__name__}: {exc}", EXIT_FAILED)
    except (KeyboardInterrupt, asyncio.CancelledError):
        # The second Ctrl-C cancels the running task; the cycle has recorded itself
        # as interrupted, and any order it sent is settled by the next run.
        stderr().print("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def load(path: str) -> StrategyConfig:
    from ..config import load_config

    with handled_errors():
        return load_config(path)


def duration_option(text: str | None, option: str) -> timedelta | None:
    """A positive duration given on the command line (``15m``), or a one-line exit 2."""
    if text is None:
        return None
    from ..domain import parse_duration

    try:
        duration = parse_duration(text)
    except ValueError as exc:
        fail(f"{option}: {exc}")
    if duration.total_seconds() <= 0:
        fail(f"{option} must be longer than zero")
    return duration


def check_max_cycles(max_cycles: int | None) -> None:
    if max_cycles is not None and max_cycles < 1:
        fail("--max-cycles must be at least 1")


def setup_logging(
    config: StrategyConfig, verbosity: int, no_log_file: bool, secrets: list[str]
) -> None:
    from ..logging_setup import configure_logging

    logging_config = config.logging
    configure_logging(
        verbosity=verbosity,
        log_file=None if no_log_file else logging_config.file,
        secrets=secrets,
        file_level=logging_config.level,
        max_bytes=logging_config.max_bytes,
        backups=logging_config.backups,
    )


def stdout_is_terminal() -> bool:
    """Whether a person reads stdout (JSON then only on request), not a pipe or a file."""
    return sys.stdout.isatty()


def print_json(data: Any, *, compact: bool) -> None:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":") if compact else None,
                      indent=None if compact else 2)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class CycleOutcome(Protocol):
    """What ``run`` and ``portfolio`` print after each cycle."""

    @property
    def ok(self) -> bool: ...

    def to_dict(self) -> dict[str, Any]: ...


def show_notes(notes: Sequence[str], *, json_only: bool) -> None:
    """Why a run is dry, which decider it uses...: logged, and on stderr unless --json."""
    for note in notes:
        log.info(note)
        if not json_only:
            stderr().print(f"[yellow]{escape(note)}[/]")


async def print_cycles(
    cycle: Callable[[], Awaitable[R]],
    *,
    clock: Clock,
    every: timedelta | None,
    max_cycles: int | None,
    notes: Sequence[str],
    json_only: bool,
    summary: Callable[[R], RenderableType],
    stop: asyncio.Event | None = None,
) -> int:
    """Run ``cycle`` once or on a schedule, printing each result; 1 if any failed.

    Each result goes to stdout as JSON (one object, or one line per cycle when
    repeating) with the run's notes; unless ``json_only``, a summary goes to stderr.
    Ctrl-C sets ``stop`` (given to the engine too, so a TWAP in a cycle stops after its
    current slice) and stops after the cycle in progress.
    """
    import asyncio

    from ..engine.loop import run_loop

    failures = 0

    def on_result(result: R) -> None:
        nonlocal failures
        failures += 0 if result.ok else 1
        print_json({**result.to_dict(), "notes": list(notes)}, compact=every is not None)
        if not json_only:
            stderr().print(summary(result))

    stop = stop or asyncio.Event()
    remove_handlers = install_stop_handlers(stop)
    try:
        await run_loop(cycle, clock=clock, every=every, max_cycles=max_cycles, stop=stop,
                       on_result=on_result)
    finally:
        remove_handlers()
    return EXIT_FAILED if failures else EXIT_OK


def install_stop_handlers(stop: asyncio.Event, what: str = "cycle") -> Callable[[], None]:
    """First Ctrl-C or SIGTERM: finish the current ``what`` and stop. Second: interrupt now.

    Returns a function that removes the handlers again.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    presses = {"count": 0}
    main_task = asyncio.current_task()

    def on_signal() -> None:
        presses["count"] += 1
        if presses["count"] == 1:
            stderr().print(f"stopping after the current {what} (Ctrl-C again to interrupt now)")
            stop.set()
        elif main_task is not None:
            main_task.cancel()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove
