"""A simulated token served as a virtual ICC to pcscd's vpcd driver (vsmartcard).

vpcd listens on one TCP port per slot; a virtual card *connects* to it and then answers what
vpcd sends, each message framed by a 2-byte big-endian length: 1-byte control messages
(``00`` power off, ``01`` power on, ``02`` reset, ``04`` get ATR; only ``04`` is answered)
and APDUs, each of which must get a response APDU.

Closing the connection is pulling the card out of the field. :meth:`VirtualCard.remove_on`
does that *instead of answering* a chosen APDU, which is how the suite shows what a burn does
when the card leaves mid-exchange.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("tokenrig.vicc")

ATR = bytes.fromhex("3B80800101")  # T=1, no historical bytes
CTRL_POWER_OFF = 0x00
CTRL_POWER_ON = 0x01
CTRL_RESET = 0x02
CTRL_GET_ATR = 0x04
CONNECT_TIMEOUT = 5.0
_TCP_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class ApduCard(Protocol):
    """What the virtual card serves: the simulated token's APDU interface."""

    def transmit(self, apdu: bytes) -> bytes: ...


class ViccError(ConnectionError):
    """The virtual card could not reach vpcd (pcscd not running, wrong port)."""


def _quick_ack(sock: socket.socket) -> None:
    """Acknowledge at once: vpcd waits for our ACK before it sends on (Nagle), and Linux's
    delayed ACK would otherwise add ~40 ms to every APDU. Linux resets the flag, so it is set
    before every read."""
    if _TCP_QUICKACK is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        _quick_ack(sock)
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("vpcd closed the connection")
        data += chunk
    return data


class VirtualCard:
    """One card in one vpcd slot, answered on a daemon thread until removed."""

    def __init__(self, card: ApduCard, port: int, *, host: str = "127.0.0.1") -> None:
        self.card = card
        self.port = port
        self._host = host
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._remove_when: Callable[[bytes], bool] | None = None
        self._lock = threading.Lock()
        self.removed = threading.Event()
        self.apdu_count = 0

    def insert(self, *, timeout: float = CONNECT_TIMEOUT) -> VirtualCard:
        """Connect to vpcd (retrying while it starts) and start answering."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self._host, self.port), timeout=1.0)
                break
            except OSError as exc:
                if time.monotonic() >= deadline:
                    raise ViccError(f"no vpcd on {self._host}:{self.port}: {exc}") from None
                time.sleep(0.02)
        sock.settimeout(None)  # the connect timeout would otherwise stay on every recv
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self.removed.clear()
        self._thread = threading.Thread(target=self._serve, name=f"vicc :{self.port}", daemon=True)
        self._thread.start()
        return self

    def remove_on(self, predicate: Callable[[bytes], bool]) -> None:
        """Pull the card out when an APDU matching ``predicate`` arrives, without answering."""
        with self._lock:
            self._remove_when = predicate

    def remove(self) -> None:
        """Pull the card out now (close the connection) and wait for the serving thread."""
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        self.removed.set()

    def _serve(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            while True:
                (length,) = struct.unpack(">H", _recv_exact(sock, 2))
                message = _recv_exact(sock, length)
                if length == 1:
                    self._control(sock, message[0])
                    continue
                with self._lock:
                    remove = self._remove_when is not None and self._remove_when(message)
                if remove:
                    log.info("vicc :%d: card removed during an APDU (as asked)", self.port)
                    break
                self.apdu_count += 1
                response = self.card.transmit(message)
                sock.sendall(struct.pack(">H", len(response)) + response)
        except (ConnectionError, OSError):
            pass  # vpcd went away or the card was removed: both end the session
        finally:
            with self._lock:
                mine = self._sock is sock
                if mine:
                    self._sock = None
            if mine:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.removed.set()

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == CTRL_GET_ATR:
            sock.sendall(struct.pack(">H", len(ATR)) + ATR)
        elif code in (CTRL_POWER_OFF, CTRL_RESET):
            reset: Callable[[], None] | None = getattr(self.card, "reset", None)
            if reset is not None:
                reset()  # leaving the field ends the authenticated session

    def __repr__(self) -> str:
        return f"VirtualCard(port={self.port}, removed={self.removed.is_set()})"
