"""Simulated DCT Tech USB HID relay boards, presented to pyusb as a backend.

There is no ``/dev/uhid`` on the CI machines (no kernel modules), so the board is simulated
one level below pyusb: the harness's relay code runs its real path (``usb.core.find``, the
product string, claiming the interface, HID SET_REPORT/GET_REPORT feature requests) against
this backend, which answers as the board's firmware does. What a channel drives is up to the
test: ``on_switch(channel, closed)`` is called on every change (the simulated camera rig
presses a simulated token's button with it, or lights an LED in the rendered frame).
"""

from __future__ import annotations

import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import usb.core

from tokenrig.harness.sim.usb_backend import SimUsbBackend, SimUsbDevice

DCT_VID, DCT_PID = 0x16C0, 0x05DF
_SET_REPORT, _GET_REPORT, _GET_DESCRIPTOR = 0x09, 0x01, 0x06

Switch = Callable[[int, bool], None]


@dataclass
class SimRelayBoard:
    """A board's firmware state: its id, channel count and which channels are closed."""

    board_id: str = "SIM01"
    channels: int = 4
    closed: set[int] = field(default_factory=set)
    on_switch: Switch | None = None
    kernel_driver: bool = True  # usbhid bound until the harness detaches it
    log: list[tuple[int, bool]] = field(default_factory=list)

    def feature_report(self) -> bytes:
        mask = sum(1 << (ch - 1) for ch in self.closed)
        return self.board_id.encode("ascii")[:5].ljust(5, b"\x00") + b"\x00\x00" + bytes([mask])

    def command(self, report: bytes) -> None:
        op, channel = report[0], report[1] if len(report) > 1 else 0
        if op in (0xFE, 0xFC):
            targets = list(range(1, self.channels + 1))
        elif op in (0xFF, 0xFD) and 1 <= channel <= self.channels:
            targets = [channel]
        else:
            return  # the real firmware ignores what it does not understand
        closed = op in (0xFF, 0xFE)
        for ch in targets:
            if (ch in self.closed) != closed:
                (self.closed.add if closed else self.closed.discard)(ch)
                self.log.append((ch, closed))
                if self.on_switch is not None:
                    self.on_switch(ch, closed)


class SimRelayBackend(SimUsbBackend):
    """Presents ``boards`` (and any ``others``, such as a non-relay V-USB gadget on the same
    VID:PID) with the DCT Tech product strings "USBRelay<N>"."""

    def __init__(
        self, boards: Sequence[SimRelayBoard], others: Sequence[SimUsbDevice] = ()
    ) -> None:
        devices = [
            SimUsbDevice(
                DCT_VID,
                DCT_PID,
                manufacturer="www.dcttech.com",
                product=f"USBRelay{b.channels}",
                address=i + 2,
            )
            for i, b in enumerate(boards)
        ]
        super().__init__([*devices, *others])
        self.boards = list(boards)
        self.claimed: set[tuple[int, int]] = set()

    def _board(self, handle: int) -> SimRelayBoard | None:
        return self.boards[handle] if handle < len(self.boards) else None

    def claim_interface(self, handle: int, intf: int) -> None:
        board = self._board(handle)
        if board is not None and board.kernel_driver:
            raise usb.core.USBError("Resource busy (usbhid holds the interface)", errno=16)
        self.claimed.add((handle, intf))

    def release_interface(self, handle: int, intf: int) -> None:
        self.claimed.discard((handle, intf))

    def is_kernel_driver_active(self, handle: int, intf: int) -> bool:
        board = self._board(handle)
        return board is not None and board.kernel_driver

    def detach_kernel_driver(self, handle: int, intf: int) -> None:
        board = self._board(handle)
        if board is not None:
            board.kernel_driver = False

    def ctrl_transfer(
        self,
        handle: int,
        bmRequestType: int,
        bRequest: int,
        wValue: int,
        wIndex: int,
        data: Any,
        timeout: int,
    ) -> int:
        if bRequest == _GET_DESCRIPTOR and bmRequestType & 0x60 == 0:
            return super().ctrl_transfer(
                handle, bmRequestType, bRequest, wValue, wIndex, data, timeout
            )
        board = self._board(handle)
        if board is None or (wValue >> 8) != 3:
            raise usb.core.USBError("Pipe error (request not supported)", errno=32)
        if bRequest == _GET_REPORT:
            blob = board.feature_report()
            n = min(len(blob), len(data))
            data[:n] = array.array("B", blob[:n])
            return n
        if bRequest == _SET_REPORT:
            board.command(bytes(data))
            return len(data)
        raise usb.core.USBError("Pipe error (request not supported)", errno=32)
