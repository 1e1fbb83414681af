"""The small values every emulator module shares: the error a request is refused with,
JumpCloud's timestamp shape, MongoDB-style object ids and the salted password hash.

Kept apart from ``models.py`` (the state) so the records, the outbox and the HTTP side can use
them without importing the whole state; ``models`` re-exports every name.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import os
import secrets
import threading
from datetime import UTC, datetime


class EmulatorError(Exception):
    """A request the real service would refuse; ``status`` is the HTTP status it answers with.

    ``message`` is what goes into the JSON ``{"message": ...}`` body, so it must never contain
    a secret.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def iso_time(unix_time: float) -> str:
    """JumpCloud's timestamp shape: ``2026-08-25T12:00:00.000Z``."""
    stamp = datetime.fromtimestamp(unix_time, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def parse_iso_time(text: str) -> float:
    """Inverse of :func:`iso_time`, accepting any ISO 8601 date-time (``Z`` or an offset)."""
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise EmulatorError(f"invalid date-time {text!r}") from exc
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


_id_counter = itertools.count(1)
_id_lock = threading.Lock()


def new_object_id(unix_time: float) -> str:
    """A 24-hex MongoDB-style ObjectId: 4 bytes time, 5 random, 3 counter (unique per process)."""
    with _id_lock:
        counter = next(_id_counter) & 0xFFFFFF
    return f"{int(unix_time) & 0xFFFFFFFF:08x}{secrets.token_hex(5)}{counter:06x}"


def hash_password(password: str) -> str:
    """Salted PBKDF2 (stdlib) so a password is never stored in the clear, even in the emulator."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000)
    return f"pbkdf2${salt.hex()}${digest.hex()}"


def check_password(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    _, salt, digest = stored.split("$")
    candidate = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), 1000)
    return hmac.compare_digest(candidate.hex(), digest)
