"""Pressing a token's button (and switching its power) with parts a lab can buy.

Every presser offers the same three things (:class:`Presser`): close the contact for a while
(a button press), and hold it closed or open (a power switch). Two kinds:

* :class:`HidRelayChannel`: one channel of a DCT Tech USB HID relay board ("USBRelay2",
  "USBRelay8"..., VID 0x16c0 PID 0x05df). The board speaks HID feature reports, 8 bytes:
  ``FF ch`` switches channel ``ch`` on, ``FD ch`` off, ``FE``/``FC`` all on/off; reading the
  feature report gives the board's 5-character id (bytes 0-4) and the channel states as a
  bit mask (byte 7). It goes through pyusb (libusb), which the harness already depends on,
  so no HID library is needed; the kernel's usbhid driver is detached from the board while
  it is used. After every switch the state is read back, so a press that did not happen is
  an error, not a silent miss.
* :class:`CommandPresser`: any command the lab already has (a GPIO tool, a network relay's
  curl call), with ``{slot}``, ``{channel}``, ``{action}`` and ``{ms}`` filled in.

A board that is not there is an :class:`~tokenrig.harness.tokens.base.InfrastructureError`
naming the VID:PID, the board id asked for, and what to check (plugged in, udev rule).
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import usb.core
import usb.util

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.tokens.base import InfrastructureError

DCT_VID = 0x16C0
DCT_PID = 0x05DF
_SET_REPORT, _GET_REPORT = 0x09, 0x01
_FEATURE = 0x0300  # wValue: report type feature (3), report id 0
_OUT = usb.util.CTRL_OUT | usb.util.CTRL_TYPE_CLASS | usb.util.CTRL_RECIPIENT_INTERFACE
_IN = usb.util.CTRL_IN | usb.util.CTRL_TYPE_CLASS | usb.util.CTRL_RECIPIENT_INTERFACE
ON, OFF, ALL_ON, ALL_OFF = 0xFF, 0xFD, 0xFE, 0xFC
UDEV_HINT = (
    'udev rule: SUBSYSTEM=="usb", ATTR{idVendor}=="16c0", ATTR{idProduct}=="05df", '
    'MODE="0660", GROUP="plugdev" (then replug the board)'
)


class Presser(Protocol):
    """Something wired across a token's button or its battery."""

    @property
    def name(self) -> str: ...

    def press(self, duration: float) -> None:
        """Close the contact for ``duration`` seconds, then open it."""
        ...

    def set(self, closed: bool) -> None:
        """Hold the contact closed (power on through a relay) or open."""
        ...


@dataclass(frozen=True)
class BoardState:
    board_id: str
    channels: int
    closed: frozenset[int]


class HidRelayBoard:
    """One DCT Tech USB HID relay board, found by its board id (or the only one plugged in)."""

    def __init__(self, board_id: str | None = None, *, backend: Any = None) -> None:
        self._want = board_id
        self._backend = backend
        self._dev: Any = None
        self.channels = 0
        self.board_id = ""

    def open(self) -> HidRelayBoard:
        boards = self._boards()
        if not boards:
            raise self._missing("no board plugged in")
        if self._want is None and len(boards) > 1:
            ids = ", ".join(state.board_id for _, state in boards)
            raise InfrastructureError(
                f"USB HID relay {DCT_VID:04x}:{DCT_PID:04x}: {len(boards)} boards ({ids}); "
                'name one with board = "ID" in the rig file'
            )
        for dev, state in boards:
            if self._want is None or state.board_id == self._want:
                self._dev, self.board_id, self.channels = dev, state.board_id, state.channels
                return self
        found = ", ".join(state.board_id for _, state in boards)
        raise self._missing(f"board {self._want!r} not among those plugged in ({found})")

    def _missing(self, what: str) -> InfrastructureError:
        return InfrastructureError(
            f"USB HID relay {DCT_VID:04x}:{DCT_PID:04x}: {what}; check it is plugged in "
            f"(lsusb | grep -i 16c0:05df) and that this user may open it ({UDEV_HINT})"
        )

    def _boards(self) -> list[tuple[Any, BoardState]]:
        try:
            devices = list(
                usb.core.find(
                    find_all=True, idVendor=DCT_VID, idProduct=DCT_PID, backend=self._backend
                )
                or ()
            )
        except usb.core.NoBackendError as exc:
            raise InfrastructureError(
                "USB HID relay: no libusb (Debian: apt-get install libusb-1.0-0)"
            ) from exc
        found = []
        for dev in devices:
            product = _product(dev)
            if not product.startswith("USBRelay"):
                continue  # 16c0:05df is V-USB's shared id: other gadgets use it too
            try:
                state = _read_state(dev, int(product[8:] or 1))
            except usb.core.USBError as exc:
                raise self._missing(f"cannot talk to the board at bus {dev.bus} ({exc})") from exc
            found.append((dev, state))
        return found

    def state(self) -> BoardState:
        return _read_state(self._need(), self.channels)

    def switch(self, channel: int, closed: bool) -> None:
        """Close or open ``channel`` (1-based) and read back that the board did it."""
        if not 1 <= channel <= self.channels:
            raise InfrastructureError(
                f"USB HID relay {self.board_id}: channel {channel} not on this "
                f"{self.channels}-channel board"
            )
        dev = self._need()
        try:
            dev.ctrl_transfer(
                _OUT,
                _SET_REPORT,
                _FEATURE,
                0,
                bytes([ON if closed else OFF, channel, 0, 0, 0, 0, 0, 0]),
            )
        except usb.core.USBError as exc:
            raise InfrastructureError(
                f"USB HID relay {self.board_id}: switching channel {channel} failed ({exc})"
            ) from exc
        if (channel in self.state().closed) != closed:
            raise InfrastructureError(
                f"USB HID relay {self.board_id}: channel {channel} did not switch "
                f"{'on' if closed else 'off'} (read back the old state)"
            )

    def _need(self) -> Any:
        if self._dev is None:
            self.open()
        return self._dev

    def close(self) -> None:
        if self._dev is not None:
            usb.util.dispose_resources(self._dev)
            self._dev = None


def _product(dev: Any) -> str:
    try:
        return str(usb.util.get_string(dev, dev.iProduct) or "") if dev.iProduct else ""
    except (usb.core.USBError, ValueError, NotImplementedError):
        return ""


def _read_state(dev: Any, channels: int) -> BoardState:
    try:
        if dev.is_kernel_driver_active(0):
            dev.detach_kernel_driver(0)
    except (NotImplementedError, usb.core.USBError):
        pass  # no kernel driver bound (or not Linux): nothing to detach
    raw = bytes(dev.ctrl_transfer(_IN, _GET_REPORT, _FEATURE, 0, 8))
    if len(raw) < 8:
        raise usb.core.USBError(f"short feature report ({len(raw)} bytes)")
    board_id = raw[:5].decode("ascii", "replace").rstrip("\x00")
    closed = frozenset(ch for ch in range(1, channels + 1) if raw[7] >> (ch - 1) & 1)
    return BoardState(board_id, channels, closed)


class HidRelayChannel:
    """One relay channel, wired across a button (press) or in a battery lead (power)."""

    def __init__(self, board: HidRelayBoard, channel: int, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self._board = board
        self._channel = channel
        self._clock = clock

    @property
    def name(self) -> str:
        return f"USB HID relay {self._board.board_id or '?'} channel {self._channel}"

    def press(self, duration: float) -> None:
        self._board.switch(self._channel, True)
        try:
            self._clock.sleep(duration)
        finally:
            self._board.switch(self._channel, False)

    def set(self, closed: bool) -> None:
        self._board.switch(self._channel, closed)


Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)


class CommandPresser:
    """A user's command per action. ``template`` is split like a shell line (never run through
    a shell) and ``{slot}``, ``{channel}``, ``{action}`` (press/on/off) and ``{ms}`` are filled
    in; a non-zero exit is an infrastructure error quoting the command and its stderr."""

    def __init__(
        self,
        template: str,
        *,
        slot: int,
        channel: int | None = None,
        runner: Runner = _run,
    ) -> None:
        self._template = template
        self._slot = slot
        self._channel = channel if channel is not None else slot
        self._runner = runner
        self._argv = shlex.split(template)
        if not self._argv:
            raise ValueError("presser command is empty")

    @property
    def name(self) -> str:
        return f"command {self._argv[0]} (slot {self._slot})"

    def _do(self, action: str, ms: int) -> None:
        values = {"slot": self._slot, "channel": self._channel, "action": action, "ms": ms}
        try:
            argv = [part.format(**values) for part in self._argv]
        except (KeyError, IndexError, ValueError) as exc:
            raise InfrastructureError(
                f"presser command {self._template!r}: bad placeholder ({exc}); "
                "use {slot}, {channel}, {action}, {ms}"
            ) from None
        try:
            done = self._runner(argv)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InfrastructureError(f"presser command {argv[0]}: {exc}") from None
        if done.returncode != 0:
            tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise InfrastructureError(
                f"presser command {shlex.join(argv)} exited {done.returncode}: {tail[0]}"
            )

    def press(self, duration: float) -> None:
        self._do("press", round(duration * 1000))

    def set(self, closed: bool) -> None:
        self._do("on" if closed else "off", 0)
