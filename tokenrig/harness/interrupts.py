"""Stopping a qualification run at a safe point on SIGINT, SIGTERM or SIGHUP.

Python turns SIGINT into ``KeyboardInterrupt`` wherever the main thread happens to be, and
dies on SIGTERM and SIGHUP without running a single ``finally``: records are then never
finalised and the rig lock is left behind. While :func:`installed` is active, all three raise
:class:`Interrupted` (a ``KeyboardInterrupt``, so pytest stops the session, tears fixtures
down, finalises records and releases the rig) — except inside :func:`deferred`, which holds a
signal until the block ends. Burns use it so a token is never stopped between its config
write and its seed write (on restricted-sync models that gap is a token with no seed).

A signal the process started with ignored (``nohup``, a background job of a non-interactive
shell ignoring SIGINT) stays ignored: whoever started us asked for that.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """The run was asked to stop by ``signum``."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal_name(signum)}")


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def exit_status(signum: int) -> int:
    """The shell's convention: 128 + the signal (130 SIGINT, 143 SIGTERM, 129 SIGHUP)."""
    return 128 + signum


class _State:
    depth = 0
    pending: int | None = None
    received: int | None = None
    installs = 0
    once = False  # ignore signals after the first (a process with no user: an xdist worker)
    previous: dict[int, Any] = {}  # noqa: RUF012 (one process-wide state, never instanced)


def _handler(signum: int, frame: FrameType | None) -> None:
    if _State.once and _State.received is not None:
        return  # this process is already stopping at a safe point: let it finish that
    if _State.received is None:
        _State.received = signum
    if _State.depth > 0:
        _State.pending = _State.pending or signum
        return
    raise Interrupted(signum)


def install(*, once: bool = False) -> bool:
    """Handle the three signals (nested calls count; only the main thread can). False when
    not on the main thread, where signals cannot be handled at all.

    ``once``: after the first signal, ignore the others. For a process that is signalled
    twice by design (an xdist worker gets its process group's signal and its controller's
    forwarded one), so the second never cuts its orderly stop short."""
    if threading.current_thread() is not threading.main_thread():
        return False
    if _State.installs == 0:
        _State.received = None
        _State.pending = None
        _State.once = once
        for sig in SIGNALS:
            current = signal.getsignal(sig)
            _State.previous[sig] = current
            if current is signal.SIG_IGN and sig in (signal.SIGINT, signal.SIGHUP):
                continue
            signal.signal(sig, _handler)
    _State.installs += 1
    return True


def uninstall() -> None:
    if _State.installs == 0 or threading.current_thread() is not threading.main_thread():
        return
    _State.installs -= 1
    if _State.installs == 0:
        for sig, previous in _State.previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        _State.previous = {}
        _State.once = False


@contextlib.contextmanager
def installed() -> Iterator[None]:
    ok = install()
    try:
        yield
    finally:
        if ok:
            uninstall()


@contextlib.contextmanager
def installed_once() -> Iterator[None]:
    """:func:`installed` with ``once``: signals after the first are ignored."""
    ok = install(once=True)
    try:
        yield
    finally:
        if ok:
            uninstall()


def received() -> int | None:
    """The first signal received since the handlers were installed, if any."""
    return _State.received


def note(signum: int) -> None:
    """Record a stop request that arrived another way (a worker's KeyboardInterrupt)."""
    if _State.received is None:
        _State.received = signum


@contextlib.contextmanager
def deferred(*, then_stop: bool = True) -> Iterator[None]:
    """Hold SIGINT/SIGTERM/SIGHUP until the block ends, then stop.

    ``then_stop=False``: for blocks at the very end of a run (writing its last outputs,
    closing rigs), where there is nothing left to stop; a signal held there is dropped after
    the block, still reported by :func:`received` (the exit status says it), instead of
    raising through hooks that must all run."""
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
        if _State.depth == 0 and _State.pending is not None:
            signum, _State.pending = _State.pending, None
            if then_stop:
                raise Interrupted(signum)
