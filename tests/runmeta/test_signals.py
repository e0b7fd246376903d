"""Tests of turning SIGTERM into RunTerminated while a run is active."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from monocycle_nash.runmeta.errors import RunTerminated
from monocycle_nash.runmeta.process import deferred_signals, sigterm_raises

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="no SIGTERM")


def _handler(signum: int, frame: object) -> None:
    """A stand-in for a program's own handler."""


def test_sigterm_raises_inside_and_previous_handler_returns() -> None:
    """Inside the block SIGTERM raises RunTerminated; afterwards the old handler is back."""
    previous = signal.signal(signal.SIGTERM, _handler)
    try:
        with pytest.raises(RunTerminated) as caught, sigterm_raises() as installed:
            assert installed is True
            os.kill(os.getpid(), signal.SIGTERM)
        assert caught.value.signum == signal.SIGTERM
        assert not isinstance(caught.value, Exception)
        assert signal.getsignal(signal.SIGTERM) is _handler
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_only_the_first_sigterm_raises() -> None:
    """A second SIGTERM while the first is being handled is ignored."""
    previous = signal.getsignal(signal.SIGTERM)
    handled = []
    with sigterm_raises():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        except RunTerminated:
            os.kill(os.getpid(), signal.SIGTERM)  # would raise again if not ignored
            handled.append(True)
    assert handled == [True]
    assert signal.getsignal(signal.SIGTERM) is previous


def test_outside_the_main_thread_it_does_nothing() -> None:
    """In another thread the handler cannot be installed; the block says so and runs."""
    results: list[bool] = []

    def worker() -> None:
        with sigterm_raises() as installed:
            results.append(installed)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert results == [False]


@pytest.mark.parametrize("threads", [1, 2], ids=["one-thread", "with-another-thread"])
def test_deferred_signals_hold_sigterm_until_the_block_ends(threads: int) -> None:
    """A SIGTERM inside deferred_signals() is raised only after the block, threads or not."""
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    if threads == 2:
        helper.start()
    reached_the_end = False
    try:
        with pytest.raises(RunTerminated), sigterm_raises():
            with deferred_signals():
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):  # bytecodes at which a handler would run
                    pass
                reached_the_end = True
            pytest.fail("the held SIGTERM was not delivered after the block")
    finally:
        stop.set()
        if threads == 2:
            helper.join()
    assert reached_the_end
