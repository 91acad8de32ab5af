"""A progress display on stderr that a command may switch off (``--json``)."""

from __future__ import annotations

from typing import TypeVar

from rich.progress import Progress, TaskID

_Shown = TypeVar("_Shown", bound="LiveProgress")


class LiveProgress:
    """Starts and stops a rich ``Progress`` around the job it shows; with None, shows
    nothing. Subclasses add ``__call__`` to take the job's progress reports."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def __enter__(self: _Shown) -> _Shown:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._progress is not None:
            self._progress.stop()
