"""Host side of the rig serial protocol, over any pyserial URL.

One :class:`RigClient` owns one serial link (a local tty, ``rfc2217://host:port`` behind
ser2net, or ``socket://host:port``). Every request waits a bounded time; queries are retried,
commands with effects never are (a second PRESS would change what the display shows). Lines
that are not the awaited answer are logged and dropped, which is how the client survives noise
and stale answers. Anything that breaks the link becomes an :class:`InfrastructureError`
naming the rig and slot: the test reports a broken rig, never a bad token, and never hangs.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import serial

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.secrets import SCRUBBED, SecretText, redacted
from tokenrig.harness.tokens import rig_answers
from tokenrig.harness.tokens.base import InfrastructureError, TokenError, Unsupported
from tokenrig.harness.tokens.rig_answers import RigAnswerError
from tokenrig.harness.transports.rig_protocol import (
    IDEMPOTENT,
    MAX_LINE,
    ErrorCode,
    ProtocolError,
    Request,
    Response,
    parse_response,
    peek_tag,
    redact_apdu_response,
)
from tokenrig.harness.transports.wire_log import (
    WireLog,
    describe_bytes,
    describe_garbage,
    scrub_hex,
)

DEFAULT_TIMEOUT = 2.0
DEFAULT_BAUDRATE = 115200
BUSY_BACKOFF_S = 0.05  # first wait after ERR 401; doubled per retry
BUSY_BACKOFF_MAX_S = 1.0
DISCARD_SHOWN = 160  # bytes of a discarded late answer quoted in the wire log

try:  # pyserial flushes a tty with termios calls, whose error is not an OSError
    import termios

    _TTY_ERRORS: tuple[type[Exception], ...] = (termios.error,)
except ImportError:  # pragma: no cover - not POSIX
    _TTY_ERRORS = ()
_LINK_ERRORS: tuple[type[Exception], ...] = (serial.SerialException, OSError, *_TTY_ERRORS)
_READ_ERRORS: tuple[type[Exception], ...] = (*_LINK_ERRORS, TypeError)


class RigCommandError(TokenError):
    """The rig answered ``ERR``: the message carries the rig, slot, code and the rig's text."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class RigUnsupported(Unsupported):
    """The rig or the token in the slot does not offer the operation (ERR 301 or 400)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@redacted
@dataclass(frozen=True)
class Exchange:
    """One answered request with the host-clock times around it."""

    values: tuple[str, ...] = field(metadata=SCRUBBED)
    sent_at: float
    received_at: float

    @property
    def midpoint(self) -> float:
        return (self.sent_at + self.received_at) / 2

    @property
    def half_round_trip(self) -> float:
        return (self.received_at - self.sent_at) / 2


def normalise_url(url: str) -> str:
    """Add ``ign_set_control`` to RFC 2217 URLs.

    ser2net 4.3 never acknowledges SET_CONTROL DTR on a pty-backed or modem-less port, and
    pyserial's ``open()`` then fails after ~3.5 s. The rig protocol does not use the modem lines,
    so not waiting for those acknowledgements costs nothing.
    """
    if url.startswith("rfc2217://") and "ign_set_control" not in url:
        return url + ("&" if urlsplit(url).query else "?") + "ign_set_control"
    return url


class RigClient:
    """A connection to one rig. Thread-safe: requests are serialised, as the protocol requires."""

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = 2,
        wire_log: WireLog | None = None,
        clock: Clock = SYSTEM_CLOCK,
        baudrate: int = DEFAULT_BAUDRATE,
    ) -> None:
        self.url = normalise_url(url)
        self.name = name or url
        self.timeout = timeout
        self.retries = retries
        self.clock = clock
        self.log = wire_log or WireLog(self.name)
        self._baudrate = baudrate
        self._port: serial.Serial | None = None
        self._lock = threading.Lock()
        self._tags = itertools.count(1)
        self._pending = bytearray()
        self._broken: str | None = None
        # A 1.0 rig sends exactly the values §4 lists; a newer minor may add some at the end
        # (§9). Set from the PROTO? answer.
        self.extra_values_allowed = False

    # -- link ---------------------------------------------------------------------------
    def open(self) -> RigClient:
        try:
            self._port = serial.serial_for_url(self.url, baudrate=self._baudrate, timeout=0.05)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise InfrastructureError(f"rig {self.name}: cannot open {self.url}: {exc}") from exc
        self.log.note(f"opened {self.url}")
        return self

    def close(self) -> None:
        with self._lock:
            port, self._port = self._port, None
            if port is not None:
                with contextlib.suppress(serial.SerialException, OSError):
                    port.close()
                self.log.note("closed")

    def __enter__(self) -> RigClient:
        return self.open() if self._port is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------
    def call(
        self, command: str, *args: object, slot: int | None = None, timeout: float | None = None
    ) -> tuple[str, ...]:
        """Send a request and return the answer's values; raise on ERR or a broken link."""
        return self.exchange(command, *args, slot=slot, timeout=timeout).values

    def exchange(
        self, command: str, *args: object, slot: int | None = None, timeout: float | None = None
    ) -> Exchange:
        """Like :meth:`call`, with the host times of sending and of the answer."""
        words = tuple(a if isinstance(a, SecretText) else str(a) for a in args)
        where = f"rig {self.name}" + (f" slot {slot}" if slot is not None else "")
        attempts = 1 + (self.retries if command.upper() in IDEMPOTENT else 0)
        wait = self.timeout if timeout is None else timeout
        busy = 0
        with self._lock:
            attempt = 0
            while attempt < attempts:
                attempt += 1
                tag = format(next(self._tags) % 36**6, "x")
                request = Request(command=command.upper(), args=words, tag=tag)
                sent_at = self.clock.now()
                self._send(request, where)
                response = self._await(tag, wait, where, request)
                received_at = self.clock.now()
                if response is None:
                    self.log.note(f"no answer to @{tag} within {wait:.1f} s (attempt {attempt})")
                    continue
                kind = error_class(response.code) if not response.ok else None
                if kind in _GARBLED and attempt < attempts:
                    continue  # our request was corrupted on the way; a query may be repeated
                if kind is ErrorCode.BUSY:
                    # The rig did not act on the request, so even a PRESS may be sent again.
                    if busy >= self.retries:
                        raise InfrastructureError(
                            f"{where}: {request.command} refused: rig still busy after "
                            f"{busy} retries: ERR {response.code} {scrub_hex(response.text)}"
                        )
                    busy += 1
                    attempt -= 1  # a busy answer is not a lost one
                    delay = min(BUSY_BACKOFF_S * 2 ** (busy - 1), BUSY_BACKOFF_MAX_S)
                    self.log.note(f"rig busy; retry {busy}/{self.retries} in {delay:.2f} s")
                    time.sleep(delay)
                    continue
                self._check(response, where, request)
                return Exchange(response.values, sent_at, received_at)
        recent = "; ".join(self.log.recent(4))
        raise InfrastructureError(
            f"{where}: {command} got no answer within {wait:.1f} s "
            f"({attempts} attempt(s)); last wire lines: {recent}"
        )

    def _send(self, request: Request, where: str) -> None:
        port = self._require_port(where, request)
        try:
            self._discard_input(port)
            # The leading newline ends whatever partial line noise left in the rig's buffer.
            port.write(b"\n" + request.line())
            port.flush()
        except _LINK_ERRORS as exc:
            self._break(f"write failed: {exc}")
            raise InfrastructureError(
                f"{where}: {request.command} failed: link lost ({exc})"
            ) from exc
        self.log.sent(request.redacted())

    def _discard_input(self, port: serial.Serial) -> None:
        """Drop what arrived since the last answer, logging it first (a late answer is
        evidence). Over RFC 2217 a purge waits ~50 ms for the server's acknowledgement, so
        only the local queue is emptied there; the tags make anything older harmless anyway."""
        late = bytes(self._pending)
        self._pending.clear()
        waiting = port.in_waiting
        if waiting:
            late += port.read(waiting)
        if not self.url.startswith("rfc2217://"):
            port.reset_input_buffer()
        if late.strip():
            self.log.note(describe_bytes(late, DISCARD_SHOWN, "discarded"))

    def _await(self, tag: str, wait: float, where: str, request: Request) -> Response | None:
        port = self._require_port(where, request)
        deadline = time.monotonic() + wait
        while True:
            line = self._take_line()
            if line is not None:
                response = self._parse(line, request)
                if response is None and peek_tag(line) == tag:
                    raise _bad_line(where, request.command, line)
                if response is not None and response.tag == tag:
                    return response
                if response is not None:
                    self.log.note(f"dropped answer for @{response.tag} while awaiting @{tag}")
                continue
            if time.monotonic() >= deadline:
                return None
            try:
                chunk = port.read(port.in_waiting or 1)
            except _READ_ERRORS as exc:
                self._break(f"read failed: {exc}")
                raise InfrastructureError(
                    f"{where}: {request.command} failed: link lost while awaiting the answer "
                    f"({exc}); the rig was unplugged or its server stopped"
                ) from exc
            self._pending.extend(chunk)
            if len(self._pending) > MAX_LINE and b"\n" not in self._pending:
                overlong = bytes(self._pending)
                self.log.note(describe_garbage(overlong))
                self._pending.clear()
                if peek_tag(overlong) == tag:
                    raise _bad_line(where, request.command, overlong)

    def _take_line(self) -> bytes | None:
        idx = self._pending.find(b"\n")
        if idx < 0:
            return None
        line = bytes(self._pending[:idx]).rstrip(b"\r")
        del self._pending[: idx + 1]
        return line if line.strip() else None

    def _parse(self, line: bytes, request: Request) -> Response | None:
        try:
            response = parse_response(line)
        except ProtocolError:
            self.log.note(describe_garbage(line))
            # Noise glued to the front of an answer: the answer starts at its tag.
            start = line.find(b"@", 1)
            if start < 0:
                return None
            try:
                response = parse_response(line[start:])
            except ProtocolError:
                return None
        shown = list(response.values)
        if request.command == "APDU" and response.ok and shown:
            shown[0] = redact_apdu_response(shown[0])
        head = f"@{response.tag} " if response.tag else ""
        body = "OK " + " ".join(shown) if response.ok else f"ERR {response.code} {response.text}"
        self.log.received(scrub_hex(head + body.rstrip()))
        return response

    def _check(self, response: Response, where: str, request: Request) -> None:
        if response.ok:
            return
        code = response.code or 0
        message = f"{where}: {request.command} refused: ERR {code} {scrub_hex(response.text)}"
        if error_class(code) in (ErrorCode.TOKEN_UNSUPPORTED, ErrorCode.RIG_UNSUPPORTED):
            raise RigUnsupported(message, code)
        raise RigCommandError(message, code)

    def _require_port(self, where: str, request: Request) -> serial.Serial:
        if self._broken is not None:
            raise InfrastructureError(
                f"{where}: {request.command} not sent: link lost earlier ({self._broken})"
            )
        if self._port is None:
            raise InfrastructureError(f"{where}: {request.command} not sent: rig not open")
        return self._port

    def _break(self, reason: str) -> None:
        self._broken = reason
        self.log.note(f"link lost: {reason}")

    def raw(self, data: bytes, *, timeout: float | None = None) -> bytes | None:
        """Send bytes as they are and return the next non-empty line (None: nothing came).

        For conformance tests that must send what the normal path never would (no tag,
        lower case, over-long or garbled lines). Not redacted: never pass secrets here.
        """
        wait = self.timeout if timeout is None else timeout
        with self._lock:
            request = Request(command="RAW")
            port = self._require_port(f"rig {self.name}", request)
            try:
                self._discard_input(port)
                port.write(data)
                port.flush()
            except _LINK_ERRORS as exc:
                self._break(f"write failed: {exc}")
                raise InfrastructureError(f"rig {self.name}: raw write failed: {exc}") from exc
            self.log.sent(f"(raw) {describe_garbage(data, 60)}")
            deadline = time.monotonic() + wait
            while True:
                line = self._take_line()
                if line is not None:
                    self.log.received(f"(raw) {line[:80]!r}")
                    return line
                if time.monotonic() >= deadline:
                    return None
                try:
                    self._pending.extend(port.read(port.in_waiting or 1))
                except _READ_ERRORS as exc:
                    self._break(f"read failed: {exc}")
                    raise InfrastructureError(f"rig {self.name}: link lost: {exc}") from exc

    # -- typed helpers (the protocol's commands) -----------------------------------------
    def identify(self) -> str:
        return " ".join(self.call("*IDN?"))

    def protocol_version(self) -> str:
        values = self.call("PROTO?")
        where = f"rig {self.name}"
        rig_answers.expect_count(where, "PROTO?", values, 1)
        major, dot, minor = values[0].partition(".")
        if not (dot and major.isdigit() and minor.isdigit() and len(values[0]) <= 11):
            raise rig_answers.violation(where, "PROTO?", values, "not MAJOR.MINOR")
        self.extra_values_allowed = int(minor) > 0
        return values[0]

    def slot_count(self) -> int:
        values = self.call("SLOTS?")
        where = f"rig {self.name}"
        rig_answers.expect_count(
            where, "SLOTS?", values, 1, extra_allowed=self.extra_values_allowed
        )
        return rig_answers.decimal(where, "SLOTS?", values, 0, max_digits=5, maximum=99999)

    def slot_info(self, slot: int) -> SlotInfo:
        values = self.call("SLOT?", slot, slot=slot)
        return SlotInfo.from_values(slot, values, rig=self.name)

    def press(self, slot: int, profile: int = 0) -> None:
        self.call("PRESS", slot, profile, slot=slot)

    def power_cycle(self, slot: int) -> None:
        self.call("POWER", slot, slot=slot)

    def rig_time(self) -> Exchange:
        answer = self.exchange("TIME?")
        where = f"rig {self.name}"
        rig_answers.expect_count(
            where, "TIME?", answer.values, 1, extra_allowed=self.extra_values_allowed
        )
        rig_answers.rig_ms(where, "TIME?", answer.values)
        return answer

    def apdu(self, slot: int, data: bytes) -> bytes:
        """Pass an ISO 7816 APDU to the token's NFC/CCID interface; return the R-APDU."""
        if not 4 <= len(data) <= 261:
            raise ValueError(f"an APDU is 4..261 bytes, got {len(data)}")
        values = self.call("APDU", slot, data.hex().upper(), slot=slot)
        try:
            response = bytes.fromhex(values[0])
        except (IndexError, ValueError) as exc:
            raise RigAnswerError(
                f"rig {self.name} slot {slot}: rig protocol violation: APDU answer is not hex "
                f"({len(' '.join(values))} chars; not quoted, it may hold token data)",
                "<APDU answer not shown>",
            ) from exc
        if len(response) < 2:
            raise RigAnswerError(
                f"rig {self.name} slot {slot}: rig protocol violation: APDU answer of "
                f"{len(response)} bytes has no status word",
                "<APDU answer not shown>",
            )
        return response


_GARBLED = (ErrorCode.UNKNOWN_COMMAND, ErrorCode.BAD_ARGUMENT, ErrorCode.LINE_TOO_LONG)


def error_class(code: int | None) -> ErrorCode:
    """What an ERR code means to the host: itself if known, else the first code of its
    hundred (docs/rig-protocol.md §3), so a newer rig's ``ERR 450`` is read as ``ERR 400``."""
    value = code or 0
    try:
        return ErrorCode(value)
    except ValueError:
        pass
    try:
        return ErrorCode(value // 100 * 100)
    except ValueError:
        return ErrorCode.INTERNAL  # outside every hundred the spec defines


@dataclass(frozen=True)
class SlotInfo:
    """What ``SLOT? n`` says about a slot."""

    slot: int
    present: bool
    model: str = ""
    serial: str = ""
    firmware: str = ""

    @classmethod
    def from_values(cls, slot: int, values: Sequence[str], *, rig: str = "?") -> SlotInfo:
        where = f"rig {rig} slot {slot}"
        if values and values[0] == "EMPTY":
            return cls(slot, False)
        if len(values) >= 4 and values[0] == "PRESENT":
            model, serial, firmware = values[1:4]
            if max(len(model), len(serial), len(firmware)) > SLOT_FIELD_MAX:
                raise rig_answers.violation(
                    where, "SLOT?", values, f"a field longer than {SLOT_FIELD_MAX} characters"
                )
            return cls(slot, True, model, serial, firmware)
        raise rig_answers.violation(where, "SLOT?", values, "not EMPTY nor PRESENT MODEL SERIAL FW")


SLOT_FIELD_MAX = 64  # model, serial and firmware words of a SLOT? answer


def _bad_line(where: str, command: str, line: bytes) -> RigAnswerError:
    """The error for an answer carrying our tag that is not protocol (too long, not ASCII)."""
    quote = describe_garbage(line, 60)
    return RigAnswerError(
        f"{where}: rig protocol violation: {command} answer is not a protocol line "
        f"(over {MAX_LINE} bytes, not 7-bit ASCII, or malformed): {quote} "
        "(a rig fault, not a token defect)",
        quote,
    )
