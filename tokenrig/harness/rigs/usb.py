"""Finding rigs and USB tokens on the bus (pyusb), and a USB rig's serial port (pyserial).

A rig file may name its rig by USB identity instead of a device path, because ``/dev/ttyACM0``
changes with plug order and ``VID:PID + serial`` does not. Token2 Molto2 tokens show up on USB
themselves (CCID). ``tokenrig rigs`` uses :func:`discover` to say which configured rigs are
plugged in and which tokens are on the bus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import usb.core
import usb.util

from tokenrig.harness.rigs.config import RigConfig, UsbMatch

# USB ids of token models that appear on the bus themselves.
KNOWN_TOKENS: dict[tuple[int, int], str] = {
    (0x349E, 0x0300): "Token2 Molto2",
}


class UsbUnavailable(RuntimeError):
    """No libusb backend: discovery cannot run on this host (the message says what to install)."""


@dataclass(frozen=True)
class UsbDevice:
    vid: int
    pid: int
    serial: str | None
    manufacturer: str | None
    product: str | None
    bus: int | None
    address: int | None
    kind: str  # "rig <name>" or a token model

    @property
    def ids(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}"


def _string(dev: Any, index: int) -> str | None:
    if not index:
        return None
    try:
        value = usb.util.get_string(dev, index)
    except (usb.core.USBError, ValueError, NotImplementedError):
        return None
    return str(value) if value is not None else None


def discover(rigs: Sequence[RigConfig], *, backend: Any = None) -> list[UsbDevice]:
    """USB devices that are a configured rig (by its USB match) or a known token."""
    matches = [(rig.name, rig.usb) for rig in rigs if rig.usb is not None]
    wanted = {(m.vid, m.pid) for _, m in matches if m is not None} | set(KNOWN_TOKENS)
    try:
        devices: Iterable[Any] = usb.core.find(find_all=True, backend=backend) or ()
        found = []
        for dev in devices:
            ids = (int(dev.idVendor), int(dev.idProduct))
            if ids not in wanted:
                continue
            serial = _string(dev, dev.iSerialNumber)
            kind = _kind(ids, serial, matches)
            if kind is None:
                continue
            found.append(
                UsbDevice(
                    vid=ids[0],
                    pid=ids[1],
                    serial=serial,
                    manufacturer=_string(dev, dev.iManufacturer),
                    product=_string(dev, dev.iProduct),
                    bus=dev.bus,
                    address=dev.address,
                    kind=kind,
                )
            )
    except usb.core.NoBackendError as exc:
        raise UsbUnavailable(
            "USB discovery needs libusb-1.0 (Debian: apt-get install libusb-1.0-0)"
        ) from exc
    return found


def _kind(
    ids: tuple[int, int], serial: str | None, matches: Sequence[tuple[str, UsbMatch | None]]
) -> str | None:
    for name, match in matches:
        if match is not None and match.matches(ids[0], ids[1], serial):
            return f"rig {name}"
    return KNOWN_TOKENS.get(ids)


PortLister = Callable[[], Iterable[Any]]


def _comports() -> Iterable[Any]:
    from serial.tools import list_ports

    return list_ports.comports()


def serial_port_for(match: UsbMatch, *, ports: PortLister = _comports) -> str | None:
    """The tty of the USB rig ``match`` (via the kernel's USB-serial metadata), if plugged in."""
    for port in ports():
        vid, pid = getattr(port, "vid", None), getattr(port, "pid", None)
        if vid is None or pid is None:
            continue
        if match.matches(int(vid), int(pid), getattr(port, "serial_number", None)):
            return str(port.device)
    return None
