"""PC/SC readers through pyscard: an :class:`~tokenrig.harness.transports.apdu_channel.ApduChannel`.

Real NFC readers and a Molto2 on USB CCID both appear here (through the system's pcscd), and so
does the virtual card of the test suite (pcscd's vpcd driver). What this module adds to
pyscard is what a harness needs and pyscard leaves to its caller:

* connecting retries while pcscd is still starting (``Service not available``) or the card
  has not been seen yet (``No smart card``), up to a deadline;
* every PC/SC call runs on one worker thread owned by the channel (PC/SC handles belong to
  the thread that made them), so ``transmit`` can give up after a timeout;
* a card removed mid-APDU, a vanished reader or a timeout becomes an
  :class:`~tokenrig.harness.tokens.base.InfrastructureError` that names the reader.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from tokenrig.harness.tokens.base import InfrastructureError

T = TypeVar("T")

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_TRANSMIT_TIMEOUT = 10.0
RETRY_INTERVAL = 0.1


class ReaderNotFound(InfrastructureError):
    """No reader matches the name given; the message lists the readers there are."""


def _pcsc_errors() -> tuple[type[BaseException], ...]:
    from smartcard.Exceptions import SmartcardException
    from smartcard.pcsc.PCSCExceptions import BaseSCardException

    return (SmartcardException, BaseSCardException)


def list_readers(*, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> list[str]:
    """Names of the PC/SC readers, retrying while pcscd is not (yet) answering."""
    from smartcard.System import readers

    deadline = time.monotonic() + timeout
    while True:
        try:
            return [str(reader) for reader in readers()]
        except _pcsc_errors() as exc:
            if time.monotonic() >= deadline:
                raise InfrastructureError(f"PC/SC service not available: {exc}") from None
            time.sleep(RETRY_INTERVAL)


def find_reader(wanted: str | None, names: list[str]) -> str:
    """The reader called ``wanted`` (exact, else the only one containing it), or the only one."""
    if wanted is None:
        if len(names) == 1:
            return names[0]
        listed = ", ".join(names) or "none"
        raise ReaderNotFound(f"choose a reader with --reader NAME (readers: {listed})")
    if wanted in names:
        return wanted
    matches = [name for name in names if wanted.lower() in name.lower()]
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(names) or "none"
    if matches:
        raise ReaderNotFound(f"reader name {wanted!r} is ambiguous (matches: {', '.join(matches)})")
    raise ReaderNotFound(f"no PC/SC reader named {wanted!r} (readers: {listed})")


class _Worker:
    """One daemon thread that runs every PC/SC call of a channel, in order."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], Future[Any]] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"pcsc {name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, future = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:
                    future.set_exception(exc)

    def call(self, fn: Callable[[], T], timeout: float) -> T:
        future: Future[T] = Future()
        self._jobs.put((fn, future))
        return future.result(timeout)

    def stop(self) -> None:
        self._jobs.put(None)


class PcscChannel:
    """One card on one PC/SC reader. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        reader: str | None = None,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        transmit_timeout: float = DEFAULT_TRANSMIT_TIMEOUT,
    ) -> None:
        self._reader = find_reader(reader, list_readers(timeout=connect_timeout))
        self._transmit_timeout = transmit_timeout
        self._worker = _Worker(self._reader)
        self._connection: Any = None
        try:
            self._connection = self._worker.call(
                lambda: self._connect(connect_timeout), connect_timeout + 5.0
            )
        except BaseException:
            self._worker.stop()
            raise

    @property
    def name(self) -> str:
        return self._reader

    def _connect(self, timeout: float) -> Any:
        from smartcard.System import readers

        deadline = time.monotonic() + timeout
        last: BaseException | None = None
        while time.monotonic() < deadline:
            try:
                matches = [r for r in readers() if str(r) == self._reader]
                if not matches:
                    raise ReaderNotFound(f"PC/SC reader {self._reader!r} disappeared")
                connection = matches[0].createConnection()
                try:
                    connection.connect()
                except BaseException:
                    _release(connection)
                    raise
                return connection
            except _pcsc_errors() as exc:
                last = exc  # no card yet, or pcscd still starting: try again
            time.sleep(RETRY_INTERVAL)
        raise InfrastructureError(f"{self._reader}: no card answered within {timeout:g} s ({last})")

    def transmit(self, apdu: bytes) -> bytes:
        if self._connection is None:
            raise InfrastructureError(f"{self._reader}: channel is closed")
        connection = self._connection

        def send() -> bytes:
            data, sw1, sw2 = connection.transmit(list(apdu))
            return bytes(data) + bytes((sw1, sw2))

        try:
            return self._worker.call(send, self._transmit_timeout)
        except TimeoutError:
            raise InfrastructureError(
                f"{self._reader}: no answer to a {len(apdu)}-byte APDU within "
                f"{self._transmit_timeout:g} s"
            ) from None
        except _pcsc_errors() as exc:
            raise InfrastructureError(
                f"{self._reader}: card removed or connection lost during a {len(apdu)}-byte "
                f"APDU ({exc})"
            ) from None

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(TimeoutError):
                self._worker.call(lambda: _release(connection), 5.0)
        self._worker.stop()

    def __enter__(self) -> PcscChannel:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PcscChannel({self._reader!r})"


def _release(connection: Any) -> None:
    """Disconnect and release the context now, not in ``__del__`` (which prints errors)."""
    for step in (connection.disconnect, connection.release):
        with contextlib.suppress(*_pcsc_errors()):
            step()
    # The context of a pcscd that has gone (restarted) cannot be released: forget it, or the
    # connection's __del__ tries again and prints an error whenever it is garbage-collected.
    inner = getattr(connection, "component", connection)
    if getattr(inner, "hcontext", None) is not None:
        inner.hcontext = None


def wait_for_card(
    reader: str,
    *,
    present: bool,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
    changed_since: int | None = None,
) -> int:
    """Block until pcscd reports a card in (``present``) or out of ``reader``; return the
    reader's event counter at that moment.

    A card that vanished mid-APDU is reported "empty" at once, before pcscd's own presence
    poll has noticed; a card inserted in that gap confuses the slot. Whoever swaps cards
    therefore passes the counter seen at insertion as ``changed_since``: the wait then also
    needs pcscd to have counted the removal as an event.
    """
    from smartcard import scard

    wanted = scard.SCARD_STATE_PRESENT if present else scard.SCARD_STATE_EMPTY
    deadline = time.monotonic() + timeout
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        raise InfrastructureError(f"PC/SC service not available ({hresult:#x})")
    try:
        state = scard.SCARD_STATE_UNAWARE
        while True:
            remaining_ms = int(max(0.0, deadline - time.monotonic()) * 1000)
            hresult, states = scard.SCardGetStatusChange(
                context, min(remaining_ms, 100), [(reader, state)]
            )
            if hresult == scard.SCARD_S_SUCCESS:
                state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                events = (state >> 16) & 0xFFFF
                if state & wanted and (changed_since is None or events != changed_since):
                    return int(events)
            elif hresult != scard.SCARD_E_TIMEOUT:
                raise InfrastructureError(
                    f"{reader}: cannot watch the reader: {scard.SCardGetErrorMessage(hresult)}"
                )
            if time.monotonic() >= deadline:
                what = "a card" if present else "the card to leave"
                raise InfrastructureError(f"{reader}: waited {timeout:g} s for {what}")
    finally:
        scard.SCardReleaseContext(context)
