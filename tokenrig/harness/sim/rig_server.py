"""A simulated rig: N simulated tokens behind the rig serial protocol.

:class:`SimRig` is the rig's behaviour (one request line in, one answer line out) and knows
nothing of how bytes arrive; :mod:`tokenrig.harness.sim.rig_serving` puts it on a kernel pty or a
TCP
socket. Because the answers come from :class:`~tokenrig.harness.sim.firmware.SimFirmware`, a token
reached through this rig behaves exactly like the in-process simulated token.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from tokenrig.harness.clock import Clock
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.sim.firmware import SimFirmware, SimFirmwareError
from tokenrig.harness.transports.rig_protocol import (
    MAX_LINE,
    PROTOCOL_VERSION,
    ErrorCode,
    ProtocolError,
    Request,
    Response,
    err,
    ok,
    parse_request,
    peek_tag,
)

WATCH_POLL_S = 0.01
WATCH_MAX_MS = 600_000
UTC_MAX = 2**32 - 1  # token clocks are 32-bit unsigned Unix seconds

# (fewest, most) arguments each command takes, as docs/rig-protocol.md §4 lists them: a
# missing or an extra argument is ERR 101, never silently ignored.
ARITY: dict[str, tuple[int, int]] = {
    "*IDN?": (0, 0),
    "PROTO?": (0, 0),
    "SLOTS?": (0, 0),
    "TIME?": (0, 0),
    "SLOT?": (1, 1),
    "PRESS": (1, 2),
    "DISP?": (1, 1),
    "WATCH?": (2, 2),
    "POWER": (1, 1),
    "TCLK?": (1, 2),
    "TCLK": (2, 3),
    "CONF": (7, 7),
    "CONF?": (1, 2),
    "SEED": (3, 3),
    "SEED?": (1, 2),
    "SEED:DEL": (1, 2),
    "APDU": (2, 2),
}
_DECIMAL = re.compile(r"^[0-9]+$")


class ApduHandler(Protocol):
    """A token's contactless interface as a rig's NFC pass-through sees it."""

    def transmit(self, apdu: bytes) -> bytes: ...


ApduFactory = Callable[[SimFirmware], ApduHandler]


class _Refusal(Exception):
    def __init__(self, code: ErrorCode, detail: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


_FIRMWARE_CODES = {
    "SEED_LENGTH": ErrorCode.TOKEN_ERROR,
    "NO_SEED": ErrorCode.TOKEN_ERROR,
    "BAD_PARAM": ErrorCode.TOKEN_UNSUPPORTED,
    "PROFILE": ErrorCode.TOKEN_UNSUPPORTED,
}


class SimRig:
    """The rig's command interpreter over a list of slots (``None`` = empty slot).

    Slots are numbered from 1 on the wire, as they are labelled on a physical rig.
    """

    def __init__(
        self,
        slots: Sequence[SimFirmware | None],
        *,
        clock: Clock,
        serial: str = "SIMRIG-0001",
        firmware: str = "1.0",
        apdu_factory: ApduFactory | None = None,
        latency: Callable[[], tuple[float, float]] | None = None,
    ) -> None:
        self.slots = list(slots)
        # (seconds before handling, seconds after) each request: a slow or busy rig, so tests
        # can put readings at random distances from step boundaries; None = answer at once.
        self.latency = latency
        self.clock = clock
        self.serial = serial
        self.firmware = firmware
        self._boot = clock.now()
        self._apdu_factory = apdu_factory
        self._apdu_handlers: dict[int, ApduHandler] = {}
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._commands: dict[str, Callable[[tuple[str, ...]], tuple[str, ...]]] = {
            "*IDN?": self._idn,
            "PROTO?": lambda _a: (PROTOCOL_VERSION,),
            "SLOTS?": lambda _a: (str(len(self.slots)),),
            "SLOT?": self._slot,
            "PRESS": self._press,
            "DISP?": self._disp,
            "WATCH?": self._watch,
            "POWER": self._power,
            "TIME?": lambda _a: (str(self.rig_ms()),),
            "TCLK?": self._tclk_read,
            "TCLK": self._tclk_write,
            "CONF": self._conf_write,
            "CONF?": self._conf_read,
            "SEED": self._seed_write,
            "SEED?": self._seed_read,
            "SEED:DEL": self._seed_delete,
            "APDU": self._apdu,
        }

    def cancel_waits(self) -> None:
        """End a running ``WATCH?`` now (the server is stopping or was unplugged)."""
        self._cancel.set()

    def rig_ms(self) -> int:
        """The rig's timestamp: milliseconds since it started, on its own clock."""
        return int((self.clock.now() - self._boot) * 1000)

    # -- dispatch -----------------------------------------------------------------------
    def handle_line(self, raw: bytes) -> bytes | None:
        """Answer one received line (without terminator); None for a blank line."""
        if not raw.strip(b"\r\n\t "):
            return None
        if len(raw) > MAX_LINE:
            return err(ErrorCode.LINE_TOO_LONG, tag=peek_tag(raw)).line()
        try:
            request = parse_request(raw)
        except ProtocolError as exc:
            return err(ErrorCode.UNKNOWN_COMMAND, str(exc), tag=peek_tag(raw)).line()
        before, after = self.latency() if self.latency is not None else (0.0, 0.0)
        if before > 0:
            self.clock.sleep(before)
        answer = self.handle(request).line()
        if after > 0:
            self.clock.sleep(after)
        return answer

    def handle(self, request: Request) -> Response:
        command = self._commands.get(request.command)
        if command is None:
            return err(ErrorCode.UNKNOWN_COMMAND, request.command[:32], tag=request.tag)
        args = tuple(a if isinstance(a, str) else a.reveal() for a in request.args)
        fewest, most = ARITY[request.command]
        if not fewest <= len(args) <= most:
            want = str(fewest) if fewest == most else f"{fewest}..{most}"
            return err(
                ErrorCode.BAD_ARGUMENT,
                f"{request.command} takes {want} argument(s), got {len(args)}",
                tag=request.tag,
            )
        try:
            with self._lock:
                values = command(args)
        except _Refusal as exc:
            return err(exc.code, exc.detail, tag=request.tag)
        except SimFirmwareError as exc:
            code = _FIRMWARE_CODES.get(exc.code, ErrorCode.TOKEN_ERROR)
            return err(code, f"{exc.code} {exc.message}", tag=request.tag)
        return ok(*values, tag=request.tag)

    # -- argument helpers -----------------------------------------------------------------
    def _token(self, args: tuple[str, ...], count: int) -> SimFirmware:
        if len(args) < count:
            raise _Refusal(ErrorCode.BAD_ARGUMENT, f"expected {count} argument(s)")
        index = _int(args[0], "slot")
        if not 1 <= index <= len(self.slots):
            raise _Refusal(ErrorCode.BAD_SLOT, f"slot {index} (1..{len(self.slots)})")
        token = self.slots[index - 1]
        if token is None:
            raise _Refusal(ErrorCode.SLOT_EMPTY, f"slot {index}")
        return token

    # -- commands -------------------------------------------------------------------------
    def _idn(self, _args: tuple[str, ...]) -> tuple[str, ...]:
        return (f"TOKENRIG,SIMRIG-{len(self.slots)},{self.serial},{self.firmware}",)

    def _slot(self, args: tuple[str, ...]) -> tuple[str, ...]:
        try:
            token = self._token(args, 1)
        except _Refusal as exc:
            if exc.code is ErrorCode.SLOT_EMPTY:
                return ("EMPTY",)
            raise
        ident = token.identity
        return ("PRESENT", ident.model, ident.serial, ident.firmware)

    def _press(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 1)
        token.press(_int(args[1], "profile") if len(args) > 1 else 0)
        return ()

    def _disp(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 1)
        return (str(self.rig_ms()), _shown(token.display()))

    def _watch(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 2)
        timeout_ms = _int(args[1], "timeout_ms")
        if not 0 <= timeout_ms <= WATCH_MAX_MS:
            raise _Refusal(ErrorCode.BAD_ARGUMENT, f"timeout_ms 0..{WATCH_MAX_MS}")
        arrived = self.clock.now()
        before = token.display()
        off_at = token.display_off_at()
        deadline = arrived + timeout_ms / 1000
        self._cancel.clear()
        while self.clock.now() < deadline and not self._cancel.is_set():
            self.clock.sleep(WATCH_POLL_S)
            now_shown = token.display()
            if now_shown != before:
                ms = self._change_ms(token.shown_since(), off_at, arrived)
                return (str(ms), _shown(now_shown), "CHANGED")
        return (str(self.rig_ms()), _shown(token.display()), "TIMEOUT")

    def _change_ms(self, since: float | None, off_at: float | None, arrived: float) -> int:
        """``ms`` of a change: the instant the display changed, which the simulated token
        knows exactly (a real rig stamps its display sampler's instant, §6). Polling only
        decides *that* it changed. A display that went dark changed at its timeout; never
        earlier than the request's arrival, nor later than now, so stamps stay monotonic."""
        now = self.clock.now()
        instant = since if since is not None else off_at
        if instant is None or instant > now:
            instant = now
        return int((max(instant, arrived) - self._boot) * 1000)

    def _power(self, args: tuple[str, ...]) -> tuple[str, ...]:
        self._token(args, 1).power_cycle()
        return ()

    def _tclk_read(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 1)
        if not token.spec.clock_readable:
            raise _Refusal(ErrorCode.TOKEN_UNSUPPORTED, f"{token.spec.name} clock not readable")
        return (str(token.rtc_u32(_profile(args, 1))),)

    def _tclk_write(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 2)
        state = token.write_time(_utc(args[1]), _profile(args, 2))
        return (state.value.upper(),)

    def _conf_write(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 7)
        try:
            algorithm = Algorithm(args[3].upper())
        except ValueError:
            raise _Refusal(ErrorCode.BAD_ARGUMENT, f"algorithm {args[3][:16]}") from None
        state = token.write_config(
            profile=_int(args[1], "profile"),
            utc=_utc(args[2]),
            algorithm=algorithm,
            period=_int(args[4], "period"),
            digits=_int(args[5], "digits"),
            display_timeout=_int(args[6], "display_timeout"),
        )
        return (state.value.upper(),)

    def _conf_read(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 1)
        config = token.config(_profile(args, 1))
        return (
            config.algorithm.value,
            str(config.period),
            str(config.digits),
            str(config.display_timeout),
        )

    def _seed_write(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 3)
        seed = _hex(args[2], "seed")
        token.write_seed(seed, _int(args[1], "profile"))
        return ()

    def _seed_read(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 1)
        return ("1" if token.has_seed(_profile(args, 1)) else "0",)

    def _seed_delete(self, args: tuple[str, ...]) -> tuple[str, ...]:
        self._token(args, 1).delete_seed(_profile(args, 1))
        return ()

    def _apdu(self, args: tuple[str, ...]) -> tuple[str, ...]:
        token = self._token(args, 2)
        if self._apdu_factory is None:
            raise _Refusal(ErrorCode.RIG_UNSUPPORTED, "no NFC pass-through on this rig")
        apdu = _hex(args[1], "APDU")
        if not 4 <= len(apdu) <= 261:
            raise _Refusal(ErrorCode.BAD_ARGUMENT, "APDU must be 4..261 bytes")
        index = int(args[0])
        handler = self._apdu_handlers.get(index)
        if handler is None:
            handler = self._apdu_handlers[index] = self._apdu_factory(token)
        return (handler.transmit(apdu).hex().upper(),)


def _int(word: str, name: str) -> int:
    """Digits only: Python's int() would also take ``+1``, ``-1``, ``1_0`` and spaces."""
    if not _DECIMAL.match(word):
        raise _Refusal(ErrorCode.BAD_ARGUMENT, f"{name} must be decimal digits")
    return int(word, 10)


def _utc(word: str) -> int:
    value = _int(word, "utc")
    if value > UTC_MAX:
        raise _Refusal(ErrorCode.BAD_ARGUMENT, f"utc 0..{UTC_MAX}")
    return value


_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")


def _hex(word: str, name: str) -> bytes:
    """Two hex digits per byte, nothing else. The text never quotes the word: it may be a seed."""
    if not _HEX.match(word):
        raise _Refusal(ErrorCode.BAD_ARGUMENT, f"{name} must be hex, two digits per byte")
    return bytes.fromhex(word)


def _profile(args: tuple[str, ...], index: int) -> int:
    return _int(args[index], "profile") if len(args) > index else 0


def _shown(display: str | None) -> str:
    return "OFF" if display is None else display
