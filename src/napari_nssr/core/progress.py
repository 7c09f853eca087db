"""Progress-yielding generators: driving them with plain callbacks, draining and relaying them.

Long work (training, tiles, a method that trains on the image) is written as a generator that
yields progress items and returns its result; closing it stops the work. These helpers drive
such generators for scripts and the CLI, and pass their items on, converted, inside another
generator (a GUI worker).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TypeVar

P = TypeVar("P")
Q = TypeVar("Q")
R = TypeVar("R")


@dataclass(frozen=True)
class PrepareProgress:
    """Progress of a long preparation: ``done`` of ``total`` steps, and what is being done."""

    done: int
    total: int
    text: str


@dataclass
class InferenceProgress:
    """Progress of one super-resolution: ``done`` of ``total`` steps, and what is being done.

    Examples
    --------
    >>> import numpy as np
    >>> from napari_nssr import super_resolve
    >>> seen = []
    >>> _ = super_resolve(np.ones((32, 32), np.float32), 2, "chain", progress=seen.append)
    >>> seen[0].phase, seen[-1].done == seen[-1].total
    ('preparing the method', True)
    """

    done: int
    total: int
    phase: str = "super-resolving"


def drain(steps: Generator[P, None, R], report: Callable[[P], None] | None = None) -> R:
    """Exhaust ``steps`` (passing each item to ``report``) and return its result.

    Parameters
    ----------
    steps : generator
        Yields progress items, returns the result.
    report : callable, optional
        Called with each item.

    Returns
    -------
    The generator's return value.
    """
    return run_steps(steps, report)


def relay(steps: Generator[P, None, R], convert: Callable[[P], Q]) -> Generator[Q, None, R]:
    """Yield ``convert(item)`` for each item of ``steps``; return its result (``yield from`` it).

    Parameters
    ----------
    steps : generator
        Yields progress items, returns the result.
    convert : callable
        Makes the caller's progress item from one of ``steps``'.

    Returns
    -------
    The generator's return value.
    """
    while True:
        try:
            item = next(steps)
        except StopIteration as done:
            return done.value
        yield convert(item)


def run_steps(
    steps: Generator[P, None, R],
    progress: Callable[[P], None] | None,
    cancel: Callable[[], bool] | None = None,
    cancelled: Callable[[P], Exception] | None = None,
) -> R:
    """Exhaust ``steps``, reporting each item to ``progress``; once ``cancel()`` is true, close
    ``steps`` and raise ``cancelled(item)`` (both given together, or neither)."""
    while True:
        try:
            report = next(steps)
        except StopIteration as done:
            return done.value
        if progress is not None:
            progress(report)
        if cancel is not None and cancelled is not None and cancel():
            steps.close()
            raise cancelled(report)
