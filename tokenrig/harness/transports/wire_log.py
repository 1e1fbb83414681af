"""A timestamped log of every line on one rig's wire, with secrets already redacted.

When a token fails at 3 a.m. in CI, the wire log is what tells "the token answered wrong" from
"the rig answered nothing". Lines are redacted by the caller (which knows the command) before
they reach this log; the log never sees a seed. The last lines are kept in memory so an
error message can quote them.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import os
import threading
from pathlib import Path
from typing import TextIO

from tokenrig.harness.scrub import scrub_bytes, scrub_text

LOGGER = logging.getLogger("tokenrig.wire")

SENT = ">"
RECEIVED = "<"
NOTE = "!"


class WireLog:
    """Per-rig wire log: ``2026-11-29T03:30:00.123456Z rig > @1 DISP? 3`` lines."""

    def __init__(self, rig: str, path: Path | None = None, *, keep: int = 50) -> None:
        self.rig = rig
        self.path = path
        self._recent: collections.deque[str] = collections.deque(maxlen=keep)
        self._lock = threading.Lock()
        self._file: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Owner-only: seed and APDU bodies appear as keyed fingerprints (docs/rig-protocol.md).
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._file = os.fdopen(fd, "a", encoding="utf-8")

    def sent(self, text: str) -> None:
        self._write(SENT, text)

    def received(self, text: str) -> None:
        self._write(RECEIVED, text)

    def note(self, text: str) -> None:
        self._write(NOTE, text)

    def recent(self, n: int = 10) -> list[str]:
        """The last ``n`` lines, for quoting in an error message."""
        with self._lock:
            return list(self._recent)[-n:]

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _write(self, direction: str, text: str) -> None:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        line = f"{stamp} {self.rig} {direction} {text}"
        with self._lock:
            self._recent.append(line)
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()
        LOGGER.debug("%s", line)


def scrub_hex(text: str) -> str:
    """``text`` with every spelling of possibly secret bytes hidden (:func:`scrub_text`).

    For text a rig wrote (an ERR text, an OK value): a rig that quotes the request it refused,
    as contiguous hex, ``84:C5:01:...``, base64 or base32, would otherwise put seed bytes into
    the log and into exception messages. Runs of 16+ hex digits become ``<N hex digits>``;
    decimal rig timestamps (at most 15 digits for 48 bits) and token serials (13 digits) are
    not touched.
    """
    return scrub_text(text)


def describe_bytes(raw: bytes, limit: int = 40, what: str = "garbage") -> str:
    """A printable, bounded description of bytes that are not (or no longer) protocol.

    Hex runs (contiguous or separated), base32 and base64 are hidden: a rig that echoes its
    input would otherwise put a SEED command's bytes into the log through this path.
    """
    hidden = scrub_bytes(raw)
    shown = hidden[:limit]
    suffix = "..." if len(hidden) > limit else ""
    return f"{what} {len(raw)} bytes {shown!r}{suffix}"


def describe_garbage(raw: bytes, limit: int = 40) -> str:
    """A line that is not protocol, described as :func:`describe_bytes` does."""
    return describe_bytes(raw, limit)
