"""Rig files (``rigs/*.toml``): what a rig is, as validated data.

A rig is a name, its kind (see :mod:`tokenrig.harness.rigs.kinds`; by default a serial-protocol
rig, or a simulated one for ``url = "sim"``), how to reach it (a pyserial URL, a USB match,
``sim``, or a table the kind owns such as ``[labgrid]``), and its slots with the models
expected in them. Every mistake in a file is
reported with the file, the key and the reason, because the person reading the error is at a
bench with a rig, not in a debugger.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenrig.harness.tokens.models import model

SIM_URLS = ("sim", "sim:pty", "sim:tcp")
# A rig board has a handful of slots, but a simulated batch for qualification may have
# thousands (`tokenrig qualify --sim --slots 1000`). The cap only refuses numbers that would
# make a simulated rig allocate gigabytes.
MAX_SLOTS = 10_000
# A simulated crystal 10 % off or a clock 30 years off is already far past any real token;
# beyond that the simulated time arithmetic stops meaning anything.
RIG_NAME_MAX = 64
DRIFT_PPM_LIMIT = 100_000.0
RTC_OFFSET_LIMIT = 1.0e9
_TOP_KEYS = {"name", "kind", "description", "url", "usb", "slots", "timeout", "apdu"}
_USB_KEYS = {"vid", "pid", "serial"}
_SLOT_KEYS = {
    "slot",
    "model",
    "serial",
    "firmware",
    "drift_ppm",
    "rtc_offset",
    "temperature_c",
    "faults",
}
_SIM_ONLY = ("drift_ppm", "rtc_offset", "temperature_c", "faults")


class RigFileError(ValueError):
    """A rig file is malformed: names the file, the key and what is wrong."""

    def __init__(self, path: Path | str, key: str, reason: str) -> None:
        super().__init__(f"{path}: {key}: {reason}")
        self.path = str(path)
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class UsbMatch:
    """Which USB device is this rig: vendor and product id, optionally its serial number."""

    vid: int
    pid: int
    serial: str | None = None

    def matches(self, vid: int, pid: int, serial: str | None) -> bool:
        return (vid, pid) == (self.vid, self.pid) and self.serial in (None, serial)

    def __str__(self) -> str:
        extra = f" serial {self.serial}" if self.serial else ""
        return f"{self.vid:04x}:{self.pid:04x}{extra}"


@dataclass(frozen=True)
class SlotConfig:
    """A slot and what is expected in it; the drift/offset/faults fields only shape a sim."""

    slot: int
    model: str
    serial: str | None = None
    firmware: str = "1.0"
    drift_ppm: float = 0.0
    rtc_offset: float = 0.0
    temperature_c: float | None = None
    faults: tuple[str, ...] = ()


@dataclass(frozen=True)
class RigConfig:
    name: str
    url: str | None = None
    usb: UsbMatch | None = None
    slots: tuple[SlotConfig, ...] = ()
    description: str = ""
    timeout: float = 2.0
    apdu: bool = True  # sim rigs: offer NFC pass-through (APDU) to the simulated cards
    source: str = field(default="", compare=False)
    # "" = as before kinds existed: "sim" for a sim URL, else "serial".
    kind: str = ""
    # The tables the kind owns (e.g. {"labgrid": {...}}), checked by the kind itself.
    options: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", "sim" if self.url in SIM_URLS else "serial")

    @property
    def is_sim(self) -> bool:
        return self.kind == "sim"

    @property
    def lock_key(self) -> str:
        """What identifies the physical rig for exclusive use."""
        if self.usb is not None:
            return f"usb-{self.usb}"
        return self.url or self.name


def load_rig_file(path: Path | str) -> RigConfig:
    """Read and validate one rig file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RigFileError(path, "(file)", "no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise RigFileError(path, "(syntax)", f"not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RigFileError(path, "(file)", f"cannot read: {exc}") from None
    return parse_rig(data, source=str(path))


def parse_rig(data: dict[str, Any], *, source: str) -> RigConfig:
    from tokenrig.harness.rigs import kinds  # the registry imports this module

    kind_name = _get(data, "kind", str, source) or kinds.infer_kind(data)
    kind = kinds.kind_named(kind_name, source=source)
    _no_unknown(data, _TOP_KEYS | kind.sections, source, "")
    name = _get(data, "name", str, source, required=True)
    _check_name(name, source)
    url = _get(data, "url", str, source)
    usb = _usb(data.get("usb"), source) if "usb" in data else None
    # A kind with a table of its own (``[labgrid]``...) is reached through it and refuses
    # url/usb in its check; the others are reached by exactly one of them.
    if not kind.sections and (url is None) == (usb is None):
        raise RigFileError(source, "url", "give exactly one of url (or 'sim') and [usb]")
    raw_slots = data.get("slots", [])
    if not isinstance(raw_slots, list) or not all(isinstance(s, dict) for s in raw_slots):
        raise RigFileError(source, "slots", "must be an array of tables ([[slots]])")
    slots = tuple(_slot(s, i, source, sim=kind.simulated) for i, s in enumerate(raw_slots))
    seen: set[int] = set()
    for position, slot in enumerate(slots, start=1):
        if slot.slot in seen:
            raise RigFileError(
                source, f"slots[{position}].slot", f"slot number {slot.slot} used twice"
            )
        seen.add(slot.slot)
    timeout = float(_get(data, "timeout", (int, float), source) or 2.0)
    if not math.isfinite(timeout) or timeout <= 0:  # nan/inf would make every wait unbounded
        raise RigFileError(source, "timeout", "must be positive seconds")
    config = RigConfig(
        name=name,
        url=url,
        usb=usb,
        slots=slots,
        description=_get(data, "description", str, source) or "",
        timeout=timeout,
        apdu=_get(data, "apdu", bool, source) is not False,
        source=source,
        kind=kind.name,
        options={key: data[key] for key in kind.sections if key in data},
    )
    kind.check(config, data)
    return config


def _usb(raw: object, source: str) -> UsbMatch:
    if not isinstance(raw, dict):
        raise RigFileError(source, "usb", "must be a table with vid, pid and optional serial")
    _no_unknown(raw, _USB_KEYS, source, "usb.")
    vid = _hex_id(raw, "vid", source)
    pid = _hex_id(raw, "pid", source)
    serial = _get(raw, "serial", str, source, key_name="usb.serial")
    return UsbMatch(vid=vid, pid=pid, serial=serial)


def _hex_id(raw: dict[str, Any], key: str, source: str) -> int:
    value = raw.get(key)
    if value is None:
        raise RigFileError(source, f"usb.{key}", "missing (e.g. 0x349E)")
    if isinstance(value, str):
        try:
            value = int(value, 16)
        except ValueError:
            raise RigFileError(source, f"usb.{key}", f"{value!r} is not a hex number") from None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
        raise RigFileError(source, f"usb.{key}", "must be a 16-bit id such as 0x349E")
    return value


def _slot(raw: dict[str, Any], position: int, source: str, *, sim: bool) -> SlotConfig:
    where = f"slots[{position + 1}]"
    _no_unknown(raw, _SLOT_KEYS, source, f"{where}.")
    number = _get(raw, "slot", int, source, required=True, key_name=f"{where}.slot")
    if not 1 <= number <= MAX_SLOTS:
        raise RigFileError(
            source,
            f"{where}.slot",
            f"{number} is outside 1..{MAX_SLOTS} (slots are numbered from 1)",
        )
    model_name = _get(raw, "model", str, source, required=True, key_name=f"{where}.model")
    try:
        spec = model(model_name)
    except KeyError as exc:
        raise RigFileError(source, f"{where}.model", str(exc.args[0])) from None
    if not sim:
        for key in _SIM_ONLY:
            if key in raw:
                raise RigFileError(source, f"{where}.{key}", "only a simulated rig (url = 'sim')")
    faults = raw.get("faults", [])  # the names are checked by the simulated kind
    if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
        raise RigFileError(source, f"{where}.faults", "must be a list of fault names")
    temperature = _get(
        raw, "temperature_c", (int, float), source, key_name=f"{where}.temperature_c"
    )
    return SlotConfig(
        slot=number,
        model=spec.name,
        serial=_get(raw, "serial", str, source, key_name=f"{where}.serial"),
        firmware=_get(raw, "firmware", str, source, key_name=f"{where}.firmware") or "1.0",
        drift_ppm=_bounded(raw, "drift_ppm", source, f"{where}.drift_ppm", DRIFT_PPM_LIMIT, "ppm"),
        rtc_offset=_bounded(
            raw, "rtc_offset", source, f"{where}.rtc_offset", RTC_OFFSET_LIMIT, "s"
        ),
        temperature_c=None if temperature is None else float(temperature),
        faults=tuple(faults),
    )


def _no_unknown(raw: dict[str, Any], allowed: set[str], source: str, prefix: str) -> None:
    for key in raw:
        if key not in allowed:
            raise RigFileError(
                source, f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})"
            )


def _get(
    raw: dict[str, Any],
    key: str,
    kind: type[Any] | tuple[type[Any], ...],
    source: str,
    *,
    required: bool = False,
    key_name: str | None = None,
) -> Any:
    name = key_name or key
    if key not in raw:
        if required:
            raise RigFileError(source, name, "missing")
        return None
    value = raw[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise RigFileError(source, name, f"must be {_kind_name(kinds)}, not a boolean")
    if not isinstance(value, kinds):
        raise RigFileError(source, name, f"must be {_kind_name(kinds)}, got {value!r}")
    if float in kinds and isinstance(value, int) and abs(value) > 2**53:
        raise RigFileError(source, name, "number out of range")  # TOML integers are unbounded
    if isinstance(value, float) and not math.isfinite(value):  # TOML has nan and inf literals
        raise RigFileError(source, name, f"must be a finite number, got {value}")
    return value


def _check_name(name: str, source: str) -> None:
    """A rig name goes into one-line messages, record keys and file names: keep it one short
    printable line (file names are made safe separately)."""
    if not 1 <= len(name) <= RIG_NAME_MAX or not name.isprintable() or name != name.strip():
        raise RigFileError(
            source,
            "name",
            f"must be 1 to {RIG_NAME_MAX} printable characters without leading or trailing "
            f"spaces, got {name!r}",
        )


def _bounded(
    raw: dict[str, Any], key: str, source: str, key_name: str, limit: float, unit: str
) -> float:
    """A simulated slot's number, inside what a simulated crystal or clock can be set to."""
    value = float(_get(raw, key, (int, float), source, key_name=key_name) or 0.0)
    if abs(value) > limit:
        raise RigFileError(source, key_name, f"must be within ±{limit:g} {unit}, got {value:g}")
    return value


def _kind_name(kinds: tuple[type[Any], ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
