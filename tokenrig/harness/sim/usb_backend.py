"""A pyusb backend that presents simulated USB devices.

pyusb supports custom backends (``usb.backend.IBackend``); this one answers enumeration and
string-descriptor requests for a list of :class:`SimUsbDevice`, so USB discovery runs its real
code path (``usb.core.find`` + ``usb.util.get_string``) on a machine without USB.
"""

from __future__ import annotations

import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import usb.backend

_GET_DESCRIPTOR = 0x06
_STRING = 0x03
_LANGID_EN_US = b"\x09\x04"


@dataclass(frozen=True)
class SimUsbDevice:
    vid: int
    pid: int
    serial: str | None = None
    manufacturer: str | None = None
    product: str | None = None
    bus: int = 1
    address: int = 1


class SimUsbBackend(usb.backend.IBackend):  # type: ignore[misc]
    """Enumerates ``devices``; string descriptors 1/2/3 are manufacturer/product/serial."""

    def __init__(self, devices: Sequence[SimUsbDevice]) -> None:
        self.devices = list(devices)

    def enumerate_devices(self) -> Iterator[int]:
        yield from range(len(self.devices))

    def get_device_descriptor(self, dev: int) -> SimpleNamespace:
        d = self.devices[dev]
        return SimpleNamespace(
            bLength=18,
            bDescriptorType=1,
            bcdUSB=0x0200,
            bDeviceClass=0,
            bDeviceSubClass=0,
            bDeviceProtocol=0,
            bMaxPacketSize0=64,
            idVendor=d.vid,
            idProduct=d.pid,
            bcdDevice=0x0100,
            iManufacturer=1 if d.manufacturer else 0,
            iProduct=2 if d.product else 0,
            iSerialNumber=3 if d.serial else 0,
            bNumConfigurations=1,
            bus=d.bus,
            address=d.address,
            port_number=None,
            port_numbers=None,
            speed=None,
        )

    def open_device(self, dev: int) -> int:
        return dev

    def close_device(self, handle: int) -> None:
        return None

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
        if bRequest != _GET_DESCRIPTOR or (wValue >> 8) != _STRING:
            raise NotImplementedError("only string descriptors are simulated")
        index = wValue & 0xFF
        d = self.devices[handle]
        if index == 0:
            raw = _LANGID_EN_US
        else:
            text = {1: d.manufacturer, 2: d.product, 3: d.serial}.get(index) or ""
            raw = text.encode("utf-16-le")
        blob = bytes([2 + len(raw), _STRING]) + raw
        n = min(len(blob), len(data))
        data[:n] = array.array("B", blob[:n])
        return n
