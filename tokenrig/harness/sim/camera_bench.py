"""A whole camera rig in simulation: firmware per slot, a simulated relay board, a camera.

The relay board is simulated below pyusb (:mod:`tokenrig.harness.sim.hid_relay`), so the
camera rig's real relay code presses the buttons: closing slot N's channel presses firmware
N's button, opening the power channel power-cycles every token. The camera renders what the
firmware displays show, on the rig's virtual clock (:class:`LiveSimCamera`), with channel 1's
LED in the frame's corner for calibration. Burns and clock reads of a slot without an NFC
reader go straight to the firmware, standing in for one; a slot with ``nfc_reader`` goes over
PC/SC, to a virtual card that a test builds on :attr:`SimBench.firmware` (``card_for``).
"""

from __future__ import annotations

from tokenrig.harness.camera.config import CameraOptions
from tokenrig.harness.camera.segments import code_segments
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.rigs.config import RigConfig
from tokenrig.harness.sim.hid_relay import SimRelayBackend, SimRelayBoard
from tokenrig.harness.sim.live_camera import LiveSimCamera
from tokenrig.harness.sim.rig_kind import sim_firmware_for_slot
from tokenrig.harness.tokens.base import Token
from tokenrig.harness.tokens.sim_token import SimToken

SIM_LATENCY = 0.08  # s: the simulated camera's latency (state latency_ms = 80 in the rig file)


class SimBench:
    def __init__(self, config: RigConfig, options: CameraOptions, clock: VirtualClock) -> None:
        self.firmware = {s.slot: sim_firmware_for_slot(s, clock) for s in config.slots}
        self._channels = {
            options.slot(n).channel or n: n for n in self.firmware if not options.slot(n).command
        }
        self._power = options.power
        wanted = [*self._channels, *([options.power] if options.power else [])]
        self.board = SimRelayBoard(
            options.board or "SIM01", channels=max([*wanted, 2]), on_switch=self._switched
        )
        self.relay_backend = SimRelayBackend([self.board])
        order = sorted(self.firmware)
        size = (640, 360) if len(order) == 1 else (960, 540)
        self.camera = LiveSimCamera(
            clock,
            lambda t: [code_segments(self.firmware[n].display()) for n in order],
            fps=options.fps,
            latency=SIM_LATENCY,
            led=lambda t: 1 in self.board.closed,
            size=size,
            name=f"simulated camera of {config.name}",
        )

    def _switched(self, channel: int, closed: bool) -> None:
        if channel == self._power:
            if not closed:
                for fw in self.firmware.values():
                    fw.power_cycle()
            return
        slot = self._channels.get(channel)
        if slot is not None and closed:
            self.firmware[slot].press()

    def programmers(self) -> dict[int, Token]:
        return {n: SimToken(fw) for n, fw in self.firmware.items()}
