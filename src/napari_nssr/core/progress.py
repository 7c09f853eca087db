"""Driving a progress-yielding generator with plain callbacks (for scripts and the CLI)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

P = TypeVar("P")
R = TypeVar("R")


def run_steps(
    steps: Generator[P, None, R],
    progress: Callable[[P], None] | None,
    cancel: Callable[[], bool] | None,
    cancelled: Callable[[P], Exception],
) -> R:
    """Exhaust ``steps``, reporting each item to ``progress``; raise ``cancelled(item)`` once ``cancel()``."""
    while True:
        try:
            report = next(steps)
        except StopIteration as done:
            return done.value
        if progress is not None:
            progress(report)
        if cancel is not None and cancel():
            steps.close()
            raise cancelled(report)
