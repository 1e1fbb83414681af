"""Exclusive use of a rig across processes.

Two test runs pressing buttons on one rig would read each other's codes, so a run holds a lock
file per rig for as long as it uses it. The file records the holder's PID and that process's
start time; a lock whose holder is gone (killed run, crashed CI job), or whose PID now belongs
to another process (PIDs are reused, e.g. after a container restart), is stale and is taken
over instead of blocking forever.
Creation is atomic (``O_EXCL``), and the check-and-takeover of a stale file runs under a
short ``flock`` on a guard file, so two runs racing for a stale lock cannot both win.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_DIR_ENV = "TOKENRIG_LOCK_DIR"


class RigBusy(RuntimeError):
    """Another live process holds the rig; the message names it."""


def default_lock_dir() -> Path:
    return Path(os.environ.get(LOCK_DIR_ENV) or Path(tempfile.gettempdir()) / "tokenrig-locks")


def lock_path(key: str, lock_dir: Path | None = None) -> Path:
    """One file per rig; the name is readable and unique (a slug plus a short hash)."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", key).strip("_")[:40] or "rig"
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return (lock_dir or default_lock_dir()) / f"{slug}-{digest}.lock"


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is dead: it will never release a lock)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    state = stat.rsplit(")", 1)[-1].split()[:1]
    return state != ["Z"]


def process_start(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (``/proc/<pid>/stat`` field 22); None
    where that cannot be read. With the PID it names one process for the machine's uptime."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # fields from 3 (state) on; comm may hold spaces
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _pid_reused(holder: dict[str, object], pid: int) -> bool:
    """Whether the live ``pid`` is another process than the one that wrote the lock."""
    recorded = holder.get("start")
    if isinstance(recorded, bool) or not isinstance(recorded, int):
        return False  # a lock written without a start time: the PID is all we have
    current = process_start(pid)
    return current is not None and current != recorded


def _holder_pid(holder: dict[str, object]) -> int:
    """The PID a lock file names; 0 (stale) when it names none a process could have."""
    pid = holder.get("pid", 0)
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid < 2**31:
        return 0
    return pid


class RigLock:
    """An exclusive, stale-aware lock on one rig (context manager)."""

    def __init__(
        self, key: str, *, lock_dir: Path | None = None, wait: float = 0.0, poll: float = 0.1
    ) -> None:
        self.key = key
        self.path = lock_path(key, lock_dir)
        self.wait = wait
        self.poll = poll
        self.took_over_from: int | None = None
        self._held = False

    def acquire(self) -> RigLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.wait
        while True:
            with self._guard():
                if self._try_create():
                    return self
                holder = self._holder()
                pid = _holder_pid(holder)
                if not pid_alive(pid) or _pid_reused(holder, pid):
                    self._move_stale_aside(pid)
                    continue
            if time.monotonic() >= deadline:
                raise RigBusy(
                    f"rig {self.key} is in use by PID {pid} on {holder.get('host', '?')} "
                    f"since {holder.get('since', '?')} (lock file {self.path})"
                )
            time.sleep(self.poll)

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Serialise check-and-take-over between processes (the kernel drops it on death)."""
        fd = os.open(self.path.with_suffix(".guard"), os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _try_create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        record = {
            "pid": os.getpid(),
            "start": process_start(os.getpid()),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "rig": self.key,
        }
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle)
        self._held = True
        return True

    def _holder(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"pid": 0}
        except (OSError, ValueError):
            # Half-written by a holder killed mid-write: treat as stale only if it is old.
            try:
                age = time.time() - self.path.stat().st_mtime
            except OSError:
                return {"pid": 0}
            return {"pid": 0} if age > 5 else {"pid": os.getpid()}
        return data if isinstance(data, dict) else {"pid": 0}

    def _move_stale_aside(self, pid: int) -> None:
        aside = self.path.with_suffix(f".stale-{os.getpid()}-{time.monotonic_ns()}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return  # someone else moved it; race for the fresh file
        with contextlib.suppress(OSError):
            aside.unlink()
        self.took_over_from = pid

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        holder = self._holder()
        if holder.get("pid") == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def __enter__(self) -> RigLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
