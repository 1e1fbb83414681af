"""An open rig: its connection, its lock, and the tokens in its slots.

:func:`open_rig` is the one way in: from a rig file, a pyserial URL, or ``sim`` (a simulated rig
started in this process on a fresh kernel pty, so even the default run uses the real serial
path). Closing the rig stops what it started and releases the lock.
"""

from __future__ import annotations

from pathlib import Path

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock, VirtualClock
from tokenrig.harness.rigs.config import SIM_URLS, RigConfig, SlotConfig, load_rig_file
from tokenrig.harness.rigs.lock import RigLock
from tokenrig.harness.rigs.usb import serial_port_for
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware, realistic_batch
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer, TcpRigServer
from tokenrig.harness.tokens.base import InfrastructureError, TokenIdentity
from tokenrig.harness.tokens.models import ModelSpec, model, model_for_serial
from tokenrig.harness.tokens.rig_token import RigTimeMap, RigToken
from tokenrig.harness.transports.rig_client import RigClient, SlotInfo
from tokenrig.harness.transports.wire_log import WireLog

SUPPORTED_MAJOR = "1"
DEFAULT_SIM_SLOTS = 8
DEFAULT_SIM_SEED = 2026
MIXED_MODELS = ("miniOTP-2", "miniOTP-3", "OTPC-P1", "OTPC-P2", "C301", "C302", "Molto2")


def default_sim_slots(
    count: int = DEFAULT_SIM_SLOTS, seed: int = DEFAULT_SIM_SEED
) -> tuple[SlotConfig, ...]:
    """The default simulated box: a realistic batch of mixed models (as in rigs/sim.toml)."""
    batch = realistic_batch(count, clock=VirtualClock(), seed=seed, models=MIXED_MODELS)
    return tuple(
        SlotConfig(
            slot=i,
            model=fw.identity.model,
            serial=fw.identity.serial,
            drift_ppm=fw.drift_ppm,
            rtc_offset=round(fw.rtc_now() - fw.clock.now(), 3),
        )
        for i, fw in enumerate(batch, start=1)
    )


def rig_config_for(target: str | Path) -> RigConfig:
    """A rig file path, or a URL (pyserial URL, device path, ``sim``) as an ad-hoc rig."""
    text = str(target)
    if text.endswith(".toml") or (Path(text).is_file() and not text.startswith("/dev/")):
        return load_rig_file(text)
    if text in SIM_URLS:
        return RigConfig(name="sim", url=text, slots=default_sim_slots())
    return RigConfig(name=text, url=text)


def sim_firmware_for_slot(slot: SlotConfig, clock: Clock) -> SimFirmware:
    """The simulated token a rig file describes for one slot (model, drift, faults...)."""
    return make_sim_firmware(
        slot.model,
        clock=clock,
        index=slot.slot,
        serial=slot.serial,
        firmware=slot.firmware,
        drift_ppm=slot.drift_ppm,
        rtc_offset=slot.rtc_offset,
        faults=slot.faults,
        temperature_c=slot.temperature_c,
    )


def build_sim_rig(
    config: RigConfig, *, clock: Clock = SYSTEM_CLOCK, serial: str = "SIMRIG-0001"
) -> SimRig:
    """The simulated rig a ``url = "sim"`` rig file describes (empty slots where none given)."""
    count = max(slot.slot for slot in config.slots)
    slots: list[SimFirmware | None] = [None] * count
    for slot in config.slots:
        slots[slot.slot - 1] = sim_firmware_for_slot(slot, clock)
    return SimRig(slots, clock=clock, serial=serial, apdu_factory=card_for if config.apdu else None)


class Rig:
    """A connected rig. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        config: RigConfig,
        client: RigClient,
        *,
        lock: RigLock | None = None,
        server: PtyRigServer | TcpRigServer | None = None,
    ) -> None:
        self.config = config
        self.client = client
        self.lock = lock
        self.server = server
        self.time_map = RigTimeMap()
        self._tokens: dict[int, RigToken] = {}

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def url(self) -> str:
        return self.client.url

    @property
    def sim(self) -> SimRig | None:
        """The simulated rig behind this one, when it runs in this process."""
        return self.server.rig if self.server is not None else None

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
        self.client.close()
        self.client.log.close()
        if self.server is not None:
            self.server.stop()
        if self.lock is not None:
            self.lock.release()

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
) -> Rig:
    """Connect to a rig (starting it first if simulated), lock it, and check its protocol."""
    config = target if isinstance(target, RigConfig) else rig_config_for(target)
    server: PtyRigServer | TcpRigServer | None = None
    if config.is_sim:
        sim = build_sim_rig(config, clock=clock)
        server = TcpRigServer(sim) if config.url == "sim:tcp" else PtyRigServer(sim)
        server.start()
        url = server.url
    elif config.usb is not None:
        found = serial_port_for(config.usb)
        if found is None:
            raise InfrastructureError(f"rig {config.name}: USB device {config.usb} not plugged in")
        url = found
    else:
        assert config.url is not None  # parse_rig guarantees url or usb
        url = config.url
        if url.startswith("pcsc://"):
            raise InfrastructureError(
                f"rig {config.name}: {url} is a PC/SC reader, not a serial rig; it can burn "
                "and read the clock over APDUs but has no button or display to drive"
            )
    rig_lock = None
    rig: Rig | None = None
    try:
        if lock:
            key = url if config.is_sim else config.lock_key
            rig_lock = RigLock(key, lock_dir=lock_dir, wait=lock_wait).acquire()
        log_path = log_dir / f"{_safe(config.name)}.wire.log" if log_dir else None
        client = RigClient(
            url,
            name=config.name,
            timeout=config.timeout,
            clock=clock,
            wire_log=WireLog(config.name, log_path),
        ).open()
        rig = Rig(config, client, lock=rig_lock, server=server)
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
        if server is not None:
            server.stop()
        if rig_lock is not None:
            rig_lock.release()
        raise


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "rig"
