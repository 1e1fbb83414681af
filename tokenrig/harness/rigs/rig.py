"""The serial-protocol rig: its connection, its lock, and the tokens in its slots.

:func:`open_rig` is the one way in for every command and fixture: a rig file, a pyserial URL,
``sim`` becomes a :class:`RigConfig` whose kind (see
:mod:`tokenrig.harness.rigs.kinds`) opens it. This module is the ``serial`` kind, and
:func:`connect_rig` is what every kind that speaks the rig protocol (serial, sim) ends in.
Closing the rig undoes everything opening did: its lock, and whatever the kind started.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.rigs.config import SIM_URLS, RigConfig, RigFileError, load_rig_file
from tokenrig.harness.rigs.kind import OpenOptions, OpenRig
from tokenrig.harness.rigs.lock import RigLock
from tokenrig.harness.rigs.usb import serial_port_for
from tokenrig.harness.tokens.base import InfrastructureError, TokenIdentity
from tokenrig.harness.tokens.models import ModelSpec, model, model_for_serial
from tokenrig.harness.tokens.rig_token import RigTimeMap, RigToken
from tokenrig.harness.transports.rig_client import RigClient, SlotInfo
from tokenrig.harness.transports.wire_log import WireLog

SUPPORTED_MAJOR = "1"


def rig_config_for(target: str | Path) -> RigConfig:
    """A rig file path, or a ``--rig`` string (``sim``, a pyserial URL or
    device path) as an ad-hoc rig of the kind that claims it."""
    from tokenrig.harness.rigs.kinds import ad_hoc_config

    text = str(target)
    if text.endswith(".toml") or (Path(text).is_file() and not text.startswith("/dev/")):
        return load_rig_file(text)
    return ad_hoc_config(text)


class Rig:
    """A connected rig. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        config: RigConfig,
        client: RigClient,
        *,
        lock: RigLock | None = None,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.lock = lock
        self.time_map = RigTimeMap()
        self._on_close = on_close
        # The simulated rig behind this one when it runs in this process (set by the sim kind;
        # typed loosely so this module need not import the simulator).
        self.sim: Any = None
        self._tokens: dict[int, RigToken] = {}
        self._closed = False

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def url(self) -> str:
        return self.client.url

    def slots(self) -> list[SlotInfo]:
        return [self.client.slot_info(i) for i in range(1, self.client.slot_count() + 1)]

    def token(self, slot: int) -> RigToken:
        if slot not in self._tokens:
            info = self.client.slot_info(slot)
            if not info.present:
                raise InfrastructureError(f"rig {self.name} slot {slot}: empty")
            spec = _spec_for(info, self.name)
            identity = TokenIdentity(serial=info.serial, model=spec.name, firmware=info.firmware)
            self._tokens[slot] = RigToken(
                self.client, slot, identity=identity, spec=spec, time_map=self.time_map
            )
        return self._tokens[slot]

    def tokens(self) -> list[RigToken]:
        return [self.token(info.slot) for info in self.slots() if info.present]

    def mismatches(self) -> list[str]:
        """Where the rig file expects another model (or serial) than the slot holds."""
        problems = []
        for expected in self.config.slots:
            info = self.client.slot_info(expected.slot)
            if not info.present:
                problems.append(f"slot {expected.slot}: expected {expected.model}, slot is empty")
            elif info.model.lower() != expected.model.lower():
                problems.append(
                    f"slot {expected.slot}: expected {expected.model}, has {info.model}"
                )
            elif expected.serial and info.serial != expected.serial:
                problems.append(
                    f"slot {expected.slot}: expected serial {expected.serial}, has {info.serial}"
                )
        return problems

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.client.close()
            self.client.log.close()
        finally:
            try:
                if self.lock is not None:
                    self.lock.release()
            finally:
                if self._on_close is not None:
                    self._on_close()

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Rig({self.name} at {self.url})"


def _spec_for(info: SlotInfo, rig: str) -> ModelSpec:
    try:
        return model(info.model)
    except KeyError:
        spec = model_for_serial(info.serial)
        if spec is None:
            raise InfrastructureError(
                f"rig {rig} slot {info.slot}: unknown token model {info.model!r}"
            ) from None
        return spec


def open_rig(
    target: str | Path | RigConfig,
    *,
    clock: Clock = SYSTEM_CLOCK,
    log_dir: Path | None = None,
    lock: bool = True,
    lock_dir: Path | None = None,
    lock_wait: float = 0.0,
) -> OpenRig:
    """Open a rig of any kind (a file, an ad-hoc ``--rig`` string, or a config)."""
    from tokenrig.harness.rigs.kinds import open_config

    config = target if isinstance(target, RigConfig) else rig_config_for(target)
    options = OpenOptions(
        clock=clock, log_dir=log_dir, lock=lock, lock_dir=lock_dir, lock_wait=lock_wait
    )
    return open_config(config, options)


def connect_rig(
    config: RigConfig,
    url: str,
    options: OpenOptions,
    *,
    lock_key: str | None = None,
    on_close: Callable[[], None] | None = None,
) -> Rig:
    """Lock ``lock_key`` (default: the config's), open the rig protocol on ``url`` and check
    its version. On any failure everything is undone, ``on_close`` included."""
    rig_lock = None
    rig: Rig | None = None
    try:
        if options.lock:
            rig_lock = RigLock(
                lock_key or config.lock_key, lock_dir=options.lock_dir, wait=options.lock_wait
            ).acquire()
        log_dir = options.log_dir
        log_path = log_dir / f"{safe_file_name(config.name)}.wire.log" if log_dir else None
        client = RigClient(
            url,
            name=config.name,
            timeout=config.timeout,
            clock=options.clock,
            wire_log=WireLog(config.name, log_path),
        ).open()
        rig = Rig(config, client, lock=rig_lock, on_close=on_close)
        version = client.protocol_version()
        if version.split(".")[0] != SUPPORTED_MAJOR:
            raise InfrastructureError(
                f"rig {config.name}: speaks protocol {version}, this harness speaks "
                f"{SUPPORTED_MAJOR}.x"
            )
        return rig
    except BaseException:
        if rig is not None:
            rig.close()
            raise
        try:
            if rig_lock is not None:
                rig_lock.release()
        finally:
            if on_close is not None:
                on_close()
        raise


class SerialKind:
    """A rig of our own protocol on a serial line: a pyserial URL (device, ``rfc2217://``,
    ``socket://``) or a USB device found by vendor/product id."""

    name = "serial"
    sections: frozenset[str] = frozenset()
    simulated = False

    def ad_hoc(self, target: str) -> RigConfig | None:
        return RigConfig(name=target, url=target)

    def check(self, config: RigConfig, raw: Mapping[str, Any]) -> None:
        if config.url is not None and (config.url in SIM_URLS or config.url.startswith("labgrid:")):
            raise RigFileError(
                config.source, "url", f"{config.url!r} is not a serial URL for kind 'serial'"
            )

    def open(self, config: RigConfig, options: OpenOptions) -> Rig:
        if config.usb is not None:
            found = serial_port_for(config.usb)
            if found is None:
                raise InfrastructureError(
                    f"rig {config.name}: USB device {config.usb} not plugged in"
                )
            url = found
        else:
            if config.url is None:
                raise InfrastructureError(f"rig {config.name}: no url or [usb] to reach it by")
            url = config.url
            if url.startswith("pcsc://"):
                raise InfrastructureError(
                    f"rig {config.name}: {url} is a PC/SC reader, not a serial rig; it can burn "
                    "and read the clock over APDUs but has no button or display to drive"
                )
        return connect_rig(config, url, options)


SERIAL_KIND = SerialKind()


def safe_file_name(name: str) -> str:
    """``name`` as one file name: anything but letters, digits and ``-_.`` becomes ``_``."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "rig"
