"""The simulated rig as a rig kind (``url = "sim"``, ``--rig sim``).

Opening one builds the simulated tokens a rig file describes, serves them behind the rig
protocol on a fresh kernel pty (or TCP for ``sim:tcp``) in this process, and connects the
ordinary serial client to it, so even the default run goes through the real serial path.
Closing the rig stops the server. It lives here, next to the simulator, so that
``tokenrig.harness.rigs`` never imports the simulator itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock, VirtualClock
from tokenrig.harness.rigs.config import SIM_URLS, RigConfig, RigFileError, SlotConfig
from tokenrig.harness.rigs.kind import OpenOptions
from tokenrig.harness.rigs.rig import Rig, connect_rig
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware, realistic_batch
from tokenrig.harness.sim.faults import FAULTS
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer, TcpRigServer

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


class SimKind:
    """Simulated tokens served on a pty (``sim``, ``sim:pty``) or TCP (``sim:tcp``)."""

    name = "sim"
    sections: frozenset[str] = frozenset()
    simulated = True

    def ad_hoc(self, target: str) -> RigConfig | None:
        if target not in SIM_URLS:
            return None
        return RigConfig(name="sim", url=target, slots=default_sim_slots())

    def check(self, config: RigConfig, raw: Mapping[str, Any]) -> None:
        if config.url not in SIM_URLS:
            raise RigFileError(
                config.source, "url", f"a simulated rig has url one of {', '.join(SIM_URLS)}"
            )
        if not config.slots:
            raise RigFileError(
                config.source, "slots", "a simulated rig needs at least one [[slots]] entry"
            )
        for position, slot in enumerate(config.slots, start=1):
            for fault in slot.faults:
                if fault not in FAULTS:
                    raise RigFileError(
                        config.source,
                        f"slots[{position}].faults",
                        f"unknown fault {fault!r} (see `tokenrig sim faults`)",
                    )

    def open(self, config: RigConfig, options: OpenOptions) -> Rig:
        sim = build_sim_rig(config, clock=options.clock)
        server = TcpRigServer(sim) if config.url == "sim:tcp" else PtyRigServer(sim)
        server.start()
        # Locked by where it is served: two runs of one sim file get two independent rigs.
        rig = connect_rig(config, server.url, options, lock_key=server.url, on_close=server.stop)
        rig.sim = sim
        return rig


SIM_KIND = SimKind()
