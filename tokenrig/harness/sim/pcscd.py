"""Run Debian's pcscd as a child process with a private reader config (vpcd on free ports).

pcscd is a real daemon with machine-wide state: its socket and PID file paths are fixed, so
**only one can run per machine**. This module therefore never touches a pcscd it did not
start: it refuses to start when another one is running (naming its PID), stops its own child
by PID and waits for it (a killed daemon that is not reaped still counts as running), and
keeps pcscd's output in a log file of its own (not a pipe nobody reads, which would block it).
It runs pcscd without APDU logging: a seed write encrypted under the public device key is as
good as the seed.

The private config declares one vpcd reader with two slots, ``<name> 00 00`` on ``port`` and
``<name> 00 01`` on ``port + 1``. vpcd listens on all interfaces (it has no option for
loopback only); the ports are free ones chosen at start and live only as long as this pcscd.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tokenrig.harness.tokens.base import InfrastructureError

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PID_FILE = Path("/run/pcscd/pcscd.pid")
SOCKET_FILE = Path("/run/pcscd/pcscd.comm")
DEFAULT_READER_NAME = "tokenrig vpcd"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class PcscdError(InfrastructureError):
    """pcscd could not be started or stopped; the message says why and what to do."""


class PcscdAlreadyRunning(PcscdError):
    """Another pcscd (not ours) is running; only one can run per machine."""


def running_pcscd_pid() -> int | None:
    """PID of a live pcscd according to its PID file, if any (zombies count as live)."""
    try:
        pid = int(PID_FILE.read_text().replace("\x00", "").strip())  # pcscd ends it with NUL
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))  # vpcd binds all interfaces: test the same
        except OSError:
            return False
    return True


def free_port_pair() -> int:
    """A port ``p`` such that ``p`` and ``p + 1`` are both free (vpcd uses two)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("", 0))
            port = int(probe.getsockname()[1])
        if port < 0xFFFF and _port_free(port + 1):
            return port
    raise PcscdError("found no two consecutive free TCP ports for vpcd")


def _listening(port: int) -> bool:
    """Whether something listens on ``port`` (read from /proc: connecting would insert a card)."""
    wanted = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            for line in lines:
                fields = line.split()
                if len(fields) > 3 and fields[1].endswith(wanted) and fields[3] == "0A":
                    return True
    return False


class Pcscd:
    """One pcscd child process with a private vpcd reader; use as a context manager."""

    def __init__(
        self,
        *,
        reader_name: str = DEFAULT_READER_NAME,
        binary: str = "pcscd",
        wait_for_other: float = 0.0,
    ) -> None:
        self.reader_name = reader_name
        self._binary = binary
        self._wait_for_other = wait_for_other
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self.port = 0

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def readers(self) -> tuple[str, str]:
        """The two slot reader names, as PC/SC lists them."""
        return (f"{self.reader_name} 00 00", f"{self.reader_name} 00 01")

    @property
    def ports(self) -> tuple[int, int]:
        return (self.port, self.port + 1)

    @property
    def log_path(self) -> Path | None:
        return self._dir / "pcscd.log" if self._dir else None

    def start(self) -> Pcscd:
        if self._process is not None:
            raise PcscdError("this pcscd is already started")
        binary = shutil.which(self._binary)
        if binary is None:
            raise PcscdError(f"{self._binary} not found: install the Debian package pcscd")
        if not VPCD_DRIVER.exists():
            raise PcscdError(f"{VPCD_DRIVER} not found: install vsmartcard-vpcd")
        self._wait_until_no_other()
        self._dir = Path(tempfile.mkdtemp(prefix="tokenrig-pcscd-"))
        conf = self._dir / "conf"
        conf.mkdir()
        self.port = free_port_pair()
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{self.reader_name}"\n'
            f"DEVICENAME /dev/null:0x{self.port:04X}\n"
            f"LIBPATH {VPCD_DRIVER}\n"
            f"CHANNELID 0x{self.port:04X}\n"
        )
        with open(self._dir / "pcscd.log", "wb") as log_file:
            self._process = subprocess.Popen(
                [binary, "--foreground", "--error", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_no_other(self) -> None:
        deadline = time.monotonic() + self._wait_for_other
        while (other := running_pcscd_pid()) is not None:
            if time.monotonic() >= deadline:
                raise PcscdAlreadyRunning(
                    f"another pcscd (pid {other}) is running; only one pcscd can run per "
                    "machine. Stop it (e.g. `systemctl stop pcscd.socket pcscd`) or run the "
                    "NFC suites where no other pcscd runs"
                )
            time.sleep(0.2)

    def _wait_ready(self) -> None:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            code = process.poll()
            if code is not None:
                output = self._log_tail()
                if "Another pcscd" in output:
                    raise PcscdAlreadyRunning(f"pcscd refused to start: {output}")
                raise PcscdError(f"pcscd exited with status {code}: {output}")
            if SOCKET_FILE.exists() and all(_listening(port) for port in self.ports):
                return
            time.sleep(0.02)
        raise PcscdError(f"pcscd not ready within {START_TIMEOUT:g} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        path = self.log_path
        if path is None or not path.exists():
            return "(no output)"
        text = path.read_text(errors="replace").strip()
        return text[-500:] or "(no output)"

    def stop(self) -> None:
        """Terminate our pcscd by PID and wait for it (then kill, if it would not go)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Pcscd:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Pcscd(pid={self.pid}, readers={self.readers}, ports={self.ports})"
