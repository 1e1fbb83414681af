"""The station's secret fingerprint key: generated on first use, kept 0600, never in the source.

A seed fingerprint in records.json or tokens.csv lets whoever holds a seed match it to its
record. Keyed with a public constant, the fingerprint of a short seed gives the seed back to
anyone who tries every value (3 bytes: 16 s). Keyed with a random per-station key, it tells
nothing to whoever lacks the key file. Fingerprints match across runs on one station (and on
stations that share the file); a different key gives different fingerprints of the same seed.

Where the key lives: ``$TOKENRIG_FINGERPRINT_KEY_FILE`` if set, else
``$XDG_STATE_HOME/tokenrig/fingerprint.key`` (``~/.local/state/tokenrig/fingerprint.key``).
It is 32 random bytes, created with mode 0600 in a 0700 directory. A key file that other users
can read or write is not used. :func:`fingerprint <tokenrig.harness.secrets.fingerprint>` is
called from reprs, so this never raises: when the file cannot be used, a random key for this
process is used instead (fingerprints then match only within the run) and one warning says
why.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
import threading
from pathlib import Path
from typing import Final

ENV: Final = "TOKENRIG_FINGERPRINT_KEY_FILE"
KEY_BYTES: Final = 32

_lock = threading.Lock()
_cached: dict[str, bytes] = {}


def key_path() -> Path:
    """Where this station's key is read from (and created)."""
    override = os.environ.get(ENV)
    if override:
        return Path(override).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "tokenrig" / "fingerprint.key"


def station_key() -> bytes:
    """The key for this station, loaded once per process and path."""
    path = key_path()
    with _lock:
        cached = _cached.get(str(path))
        if cached is None:
            try:
                cached = _load_or_create(path)
            except KeyFileError as exc:
                print(
                    f"tokenrig: fingerprint key {path}: {exc}; using a key for this run only "
                    "(seed fingerprints will not match other runs)",
                    file=sys.stderr,
                )
                cached = secrets.token_bytes(KEY_BYTES)
            _cached[str(path)] = cached
        return cached


class KeyFileError(Exception):
    """The key file exists but cannot be used; the message says why."""


def _load_or_create(path: Path) -> bytes:
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    # Written whole under a temporary name, then linked into place: a process that reads the
    # key while another creates it sees either no file or the whole key, never an empty one.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(tmp, path)
    except OSError as exc:
        raise KeyFileError(f"cannot be created ({exc.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:  # a symlink (O_NOFOLLOW), no permission
        raise KeyFileError(f"cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as key_file:
        info = os.fstat(key_file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError("is not a regular file")
        if info.st_mode & 0o077:
            raise KeyFileError(
                f"has mode {stat.S_IMODE(info.st_mode):04o}, other users can read it "
                f"(chmod 600 {path})"
            )
        data = key_file.read(KEY_BYTES + 1)
    if len(data) < 16:
        raise KeyFileError(f"holds {len(data)} bytes, at least 16 are needed")
    return data
