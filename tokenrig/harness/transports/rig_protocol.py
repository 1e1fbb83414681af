"""The rig serial protocol as data: parse and format request and answer lines.

Shared by the client (host side) and the simulated rig (device side) so that both speak
exactly what ``docs/rig-protocol.md`` specifies, and nothing else. Pure: no I/O here.

Wire shape (version 1): one ASCII line per message, ``\\n``-terminated.
Request ``[@TAG ]COMMAND [ARG...]``; answer ``[@TAG ]OK [VALUE...]`` or
``[@TAG ]ERR CODE TEXT``. The tag is how a host resynchronises: it discards every line whose
tag is not the one it is waiting for (stale answers, noise, a rig's boot banner).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import IntEnum

from tokenrig.harness.secrets import SCRUBBED, SecretText, fingerprint, redacted

PROTOCOL_VERSION = "1.0"
MAX_LINE = 1024  # bytes including the terminator; an APDU of 261 bytes is 522 hex digits
TERMINATOR = b"\n"

_TAG = re.compile(r"^[0-9A-Za-z]{1,8}$")
_WORD = re.compile(r"^[\x21-\x7e]+$")


class ErrorCode(IntEnum):
    """Numbered errors a rig answers with (``ERR <code> <text>``). Grouped by hundreds."""

    UNKNOWN_COMMAND = 100
    BAD_ARGUMENT = 101
    LINE_TOO_LONG = 102
    BAD_SLOT = 200
    SLOT_EMPTY = 201
    TOKEN_ERROR = 300
    TOKEN_UNSUPPORTED = 301
    TOKEN_TIMEOUT = 302
    RIG_UNSUPPORTED = 400
    BUSY = 401
    INTERNAL = 500


ERROR_TEXT: dict[ErrorCode, str] = {
    ErrorCode.UNKNOWN_COMMAND: "unknown command",
    ErrorCode.BAD_ARGUMENT: "bad argument",
    ErrorCode.LINE_TOO_LONG: "line too long",
    ErrorCode.BAD_SLOT: "no such slot",
    ErrorCode.SLOT_EMPTY: "slot empty",
    ErrorCode.TOKEN_ERROR: "token refused the operation",
    ErrorCode.TOKEN_UNSUPPORTED: "not supported by this token",
    ErrorCode.TOKEN_TIMEOUT: "token did not answer",
    ErrorCode.RIG_UNSUPPORTED: "not supported by this rig",
    ErrorCode.BUSY: "rig busy",
    ErrorCode.INTERNAL: "internal rig error",
}

# Commands whose repetition cannot change the rig or a token: safe to retry after a timeout.
IDEMPOTENT = frozenset(
    {
        "*IDN?",
        "PROTO?",
        "SLOTS?",
        "SLOT?",
        "DISP?",
        "WATCH?",
        "TIME?",
        "TCLK?",
        "CONF?",
        "SEED?",
        "SEED",
        "SEED:DEL",
    }
)

# Commands whose arguments carry secret material: (command, index of first secret argument).
_SECRET_ARGS = {"SEED": 2}


Arg = str | SecretText  # a SecretText argument is revealed only when the line is encoded


class ProtocolError(ValueError):
    """A line does not follow the rig protocol; the message says what is wrong with it."""


@dataclass(frozen=True)
class Request:
    command: str
    args: tuple[Arg, ...] = ()
    tag: str | None = None

    def line(self) -> bytes:
        """The request as wire bytes, terminator included."""
        words = [f"@{self.tag}"] if self.tag else []
        words.append(self.command)
        words.extend(a.reveal() if isinstance(a, SecretText) else a for a in self.args)
        return _encode(" ".join(words))

    def __repr__(self) -> str:
        return f"Request({self.redacted()!r})"

    def redacted(self) -> str:
        """The line as it may be logged: seed bytes and APDU bodies replaced by a fingerprint."""
        words = [f"@{self.tag}"] if self.tag else []
        words.append(self.command)
        words.extend(redact_args(self.command, self.args))
        return " ".join(words)


@redacted
@dataclass(frozen=True)
class Response:
    ok: bool
    values: tuple[str, ...] = field(default=(), metadata=SCRUBBED)
    tag: str | None = None
    code: int | None = None
    text: str = field(default="", metadata=SCRUBBED)

    def line(self) -> bytes:
        words = [f"@{self.tag}"] if self.tag else []
        if self.ok:
            words.append("OK")
            words.extend(self.values)
        else:
            words.extend(["ERR", str(self.code), self.text])
        return _encode(" ".join(w for w in words if w))


def ok(*values: str, tag: str | None = None) -> Response:
    return Response(ok=True, values=tuple(values), tag=tag)


def err(code: ErrorCode, detail: str = "", tag: str | None = None) -> Response:
    text = ERROR_TEXT[code] + (f": {detail}" if detail else "")
    return Response(ok=False, tag=tag, code=int(code), text=_printable(text))


def _printable(text: str) -> str:
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def _encode(text: str) -> bytes:
    data = text.encode("ascii") + TERMINATOR
    if len(data) > MAX_LINE:
        raise ProtocolError(f"line of {len(data)} bytes exceeds {MAX_LINE}")
    return data


def _split(raw: bytes) -> tuple[str | None, list[str]]:
    try:
        text = raw.decode("ascii").strip("\r\n")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"non-ASCII byte at {exc.start}") from None
    words = text.split(" ")
    words = [w for w in words if w]
    if not words:
        raise ProtocolError("empty line")
    tag = None
    if words[0].startswith("@"):
        tag = words.pop(0)[1:]
        if not _TAG.match(tag):
            raise ProtocolError(f"bad tag {tag!r} (1-8 letters or digits)")
        if not words:
            raise ProtocolError("tag without command")
    for word in words:
        if not _WORD.match(word):
            raise ProtocolError("control character in line")
    return tag, words


def parse_request(raw: bytes) -> Request:
    """Parse one request line (terminator optional). Raises ProtocolError."""
    if len(raw) > MAX_LINE:
        raise ProtocolError(f"line of {len(raw)} bytes exceeds {MAX_LINE}")
    tag, words = _split(raw)
    return Request(command=words[0].upper(), args=tuple(words[1:]), tag=tag)


def peek_tag(raw: bytes) -> str | None:
    """The tag of a line that may not parse, so a rig can still address its error answer."""
    if raw.startswith(b"@"):
        head = raw[1:].split(b" ", 1)[0].strip()
        try:
            tag = head.decode("ascii")
        except UnicodeDecodeError:
            return None
        return tag if _TAG.match(tag) else None
    return None


def parse_response(raw: bytes) -> Response:
    """Parse one answer line. Raises ProtocolError for anything that is not OK/ERR."""
    if len(raw.rstrip(b"\r\n")) + 1 > MAX_LINE:
        raise ProtocolError(f"line of {len(raw)} bytes exceeds {MAX_LINE}")
    tag, words = _split(raw)
    status = words[0]
    if status == "OK":
        return Response(ok=True, values=tuple(words[1:]), tag=tag)
    if status == "ERR":
        if len(words) < 2 or not words[1].isdigit():
            raise ProtocolError("ERR without a numeric code")
        if len(words[1]) > 3:
            raise ProtocolError(f"ERR code of {len(words[1])} digits (codes are 100..599)")
        return Response(ok=False, tag=tag, code=int(words[1]), text=" ".join(words[2:]))
    raise ProtocolError(f"answer starts with {status[:16]!r}, not OK or ERR")


def redact_args(command: str, args: tuple[Arg, ...]) -> list[str]:
    """Arguments with secret material replaced: ``<N bytes fp:...>`` so a log can be shared."""
    out = [_redact_hex(a.reveal()) if isinstance(a, SecretText) else a for a in args]
    first = _SECRET_ARGS.get(command.upper())
    if first is not None:
        for i in range(first, len(out)):
            if not isinstance(args[i], SecretText):
                out[i] = _redact_hex(out[i])
    if command.upper() == "APDU" and len(out) >= 2:
        out[1] = redact_apdu(out[1])
    return out


def _redact_hex(word: str) -> str:
    try:
        data = bytes.fromhex(word)
    except ValueError:
        return f"<redacted {len(word)} chars>"
    return f"<redacted {len(data)} bytes {fingerprint(data)}>"


def redact_apdu(word: str) -> str:
    """Keep the 4-byte APDU header (CLA INS P1 P2), hide the body: it may carry seeds or keys."""
    header, body = word[:8], word[8:]
    if not body:
        return header
    return f"{header}+{_redact_hex(body)}"


def redact_apdu_response(word: str) -> str:
    """Keep the status word, hide the data (it may be a challenge or a clock, never needed)."""
    if len(word) <= 4:
        return word
    return f"<{len(word) // 2 - 2} bytes>{word[-4:]}"
