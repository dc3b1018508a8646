"""Pauses that keep the UI thread responsive while a worker thread runs CPU-bound Python.

A thread waiting for the GIL gets it only after the interpreter's 5 ms switch interval, and the UI
thread needs it several times per turn of its event loop; on a busy machine the wait stretches to
tens of milliseconds.  A loop that calls a :class:`Breather` once per item sleeps for a moment
every couple of milliseconds of work, handing the GIL over at once.
"""
from __future__ import annotations

import time

#: Longest stretch of CPU-bound work between two pauses.
BREATHE_SECONDS = 0.002
#: How long each pause lasts (0.5 s per 1,000 pauses).
YIELD_SECONDS = 0.0005


class Breather:
    """Called once per item of a CPU-bound loop; pauses when the loop has run for ``every``
    seconds since the last pause."""

    def __init__(self, every: float = BREATHE_SECONDS, pause: float = YIELD_SECONDS) -> None:
        self.every, self.pause = every, pause
        self._since = time.perf_counter()

    def __call__(self) -> None:
        if time.perf_counter() - self._since >= self.every:
            time.sleep(self.pause)
            self._since = time.perf_counter()
