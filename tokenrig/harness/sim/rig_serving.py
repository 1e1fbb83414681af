"""Put a :class:`~tokenrig.harness.sim.rig_server.SimRig` on a real kernel pty or a TCP socket.

A pty is what a USB CDC-ACM rig looks like to the host (a tty device path that pyserial opens,
that ser2net can export), so the client code under test is the real one, byte for byte.
``unplug()`` closes the device side mid-conversation, which is how tests show that a vanished
rig gives a clear error instead of a hang.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import socket
import threading
import tty
from collections.abc import Callable

from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.transports.rig_protocol import MAX_LINE, ErrorCode, err

_POLL_S = 0.05


class _LineFeeder:
    """Splits received bytes into lines and answers each; shared by pty and TCP serving."""

    def __init__(self, rig: SimRig, write: Callable[[bytes], None]) -> None:
        self._rig = rig
        self._write = write
        self._buffer = bytearray()
        self._overflow = False

    def feed(self, data: bytes) -> None:
        self._buffer.extend(data)
        while True:
            idx = self._buffer.find(b"\n")
            if idx < 0:
                if len(self._buffer) > MAX_LINE:
                    self._buffer.clear()
                    if not self._overflow:
                        self._overflow = True
                        self._write(err(ErrorCode.LINE_TOO_LONG).line())
                return
            line = bytes(self._buffer[:idx])
            del self._buffer[: idx + 1]
            if self._overflow:
                self._overflow = False  # the tail of an over-long line: already answered
                continue
            answer = self._rig.handle_line(line)
            if answer is not None:
                self._write(answer)


class PtyRigServer:
    """A simulated rig on a fresh kernel pty; :attr:`path` is the tty a client opens."""

    def __init__(self, rig: SimRig) -> None:
        self.rig = rig
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._closed = False
        self._fd_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"sim-rig {self.path}", daemon=True)

    @property
    def url(self) -> str:
        return self.path

    def start(self) -> PtyRigServer:
        self._thread.start()
        return self

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._master, view)
            view = view[written:]

    def _run(self) -> None:
        feeder = _LineFeeder(self.rig, self._write)
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([self._master], [], [], _POLL_S)
                if not ready:
                    continue
                try:
                    data = os.read(self._master, 4096)
                except OSError as exc:
                    if exc.errno == errno.EIO:  # no client has the tty open right now
                        self._stop.wait(_POLL_S)
                        continue
                    raise
                if not data:
                    break
                feeder.feed(data)
        except (OSError, ValueError):
            pass  # unplugged under us
        finally:
            self._close_fds()

    def _close_fds(self) -> None:
        with self._fd_lock:
            if self._closed:
                return
            self._closed = True
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)

    def unplug(self) -> None:
        """Hang the tty up now, even in the middle of a command (cable pulled).

        The pty ends are replaced by /dev/null rather than closed, so the fd numbers stay
        owned by this server until its thread ends and cannot be reused under it.
        """
        self._stop.set()
        self.rig.cancel_waits()
        with self._fd_lock:
            if self._closed:
                return
            devnull = os.open(os.devnull, os.O_RDWR)
            try:
                os.dup2(devnull, self._master)
                os.dup2(devnull, self._slave)
            finally:
                os.close(devnull)
        if not self._thread.is_alive():
            self._close_fds()

    def stop(self) -> None:
        self._stop.set()
        self.rig.cancel_waits()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._close_fds()

    def __enter__(self) -> PtyRigServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class TcpRigServer:
    """A simulated rig on a TCP socket (``socket://host:port``); one client at a time, as
    on a serial line. Port 0 picks a free port; :attr:`url` has the real one."""

    def __init__(self, rig: SimRig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.rig = rig
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(_POLL_S)
        self.host, self.port = self._listener.getsockname()[:2]
        self._stop = threading.Event()
        self._client: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, name=f"sim-rig tcp {port}", daemon=True)

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def start(self) -> TcpRigServer:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._client = conn
            try:
                self._serve(conn)
            finally:
                self._client = None
                with contextlib.suppress(OSError):
                    conn.close()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(_POLL_S)
        feeder = _LineFeeder(self.rig, conn.sendall)
        while not self._stop.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            try:
                feeder.feed(data)
            except OSError:
                return

    def unplug(self) -> None:
        """Drop the current client connection and stop listening."""
        self._stop.set()
        self.rig.cancel_waits()
        client = self._client
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()

    def stop(self) -> None:
        self.unplug()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> TcpRigServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
