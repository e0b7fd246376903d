"""Turn SIGTERM into a :class:`RunTerminated` exception while a run is being recorded.

``kill <pid>``, a batch scheduler's time limit or ``docker stop`` send SIGTERM, whose
default action ends the process at once, with no chance to record the run's end. Inside
:func:`sigterm_raises`, SIGTERM instead raises ``RunTerminated`` in the main thread, so
``RunSessionService.record()`` (or your own ``except RunTerminated``) marks the run
``killed`` and the exception then ends the program as usual::

    with sigterm_raises():
        ctx = service.start("my script")
        try:
            work()
        except (KeyboardInterrupt, RunTerminated) as err:
            service.finish_killed(ctx, reason=repr(err))
            raise
        ...

Limits: Python runs signal handlers only in the main thread, between bytecodes. Outside
the main thread the context manager does nothing (it yields ``False``), and a process
blocked in a long C call sees the exception only when the call returns. Only the first
SIGTERM raises; later ones, while the end is being recorded, are ignored until the block
exits. SIGKILL cannot be caught at all: such runs stay ``running`` until a later check
finds their process gone. The previous handler is restored on exit.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from monocycle_nash.runmeta.errors import RunTerminated

__all__ = ["RunTerminated", "sigterm_raises"]


@contextmanager
def sigterm_raises() -> Iterator[bool]:
    """While active, SIGTERM raises :class:`RunTerminated` in the main thread.

    Yields ``True`` when the handler is installed, ``False`` when it could not be
    (not the main thread, or no SIGTERM on this platform).
    """
    sigterm = getattr(signal, "SIGTERM", None)
    if sigterm is None or threading.current_thread() is not threading.main_thread():
        yield False
        return
    raised = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal raised
        if raised:
            return  # the first one is being handled; do not interrupt the recording
        raised = True
        raise RunTerminated(signum)

    previous = signal.signal(sigterm, handler)
    try:
        yield True
    finally:
        signal.signal(sigterm, previous)
