"""The camera rig as a rig kind (``kind = "camera"``): webcam, USB relay board, NFC reader.

The ``[camera]`` table (:mod:`tokenrig.harness.camera.config`) says where frames come from,
which relay channel (or command) presses each slot's button, an optional power channel and
the NFC reader that burns seeds. ``source = "sim"`` builds the whole bench in simulation:
the ``[[slots]]`` become simulated firmware (faults allowed), rendered into webcam-like
frames by :class:`~tokenrig.harness.sim.live_camera.LiveSimCamera` on a virtual clock, with
presses going through the real HID relay code to a simulated board. OpenCV and the simulator
are imported in :meth:`CameraKind.open` only (the registry loads every kind's module).

A slot with an NFC reader (its own ``[[camera.slot]] nfc_reader`` or the shared
``camera.nfc_reader``) burns and reads its clock over PC/SC (:mod:`tokenrig.harness.camera.nfc`),
also with ``source = "sim"``: then the card on the reader must answer for the slot's simulated
firmware (the tests put a vpcd card built on :attr:`CameraRig.bench`'s firmware there), so
a burn over NFC is what the camera then reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenrig.harness.camera.config import CameraOptions, camera_options
from tokenrig.harness.clock import Clock, VirtualClock
from tokenrig.harness.rigs.config import RigConfig, RigFileError
from tokenrig.harness.rigs.kind import OpenOptions
from tokenrig.harness.tokens.base import InfrastructureError, Token, TokenIdentity
from tokenrig.harness.tokens.models import model
from tokenrig.harness.transports.rig_client import SlotInfo

if TYPE_CHECKING:
    from tokenrig.harness.camera.calibration import Calibration
    from tokenrig.harness.camera.camera_token import Programmer
    from tokenrig.harness.camera.frames import FrameSource
    from tokenrig.harness.camera.relay import Presser
    from tokenrig.harness.sim.camera_bench import SimBench

_SIM_ONLY = ("drift_ppm", "rtc_offset", "temperature_c", "faults")


class CameraRig:
    """An open camera rig: one frame source shared by the slots, a token per slot."""

    def __init__(
        self,
        config: RigConfig,
        tokens: dict[int, Token],
        *,
        clock: Clock,
        source: FrameSource,
        stack: ExitStack,
        bench: SimBench | None = None,
    ) -> None:
        self._config = config
        self.bench = bench  # source = "sim": the simulated firmware, board and camera
        self._tokens = tokens
        self.clock = clock  # the clock readings are stamped by (virtual for source = "sim")
        self.source = source
        self._stack = stack

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def url(self) -> str:
        return f"camera:{camera_options(self._config).source}"

    def slots(self) -> list[SlotInfo]:
        return [
            SlotInfo(n, True, t.identity.model, t.identity.serial, t.identity.firmware)
            for n, t in sorted(self._tokens.items())
        ]

    def token(self, slot: int) -> Token:
        if slot not in self._tokens:
            raise InfrastructureError(f"camera rig {self.name}: no slot {slot}")
        return self._tokens[slot]

    def tokens(self) -> Sequence[Token]:
        return [self._tokens[n] for n in sorted(self._tokens)]

    def mismatches(self) -> list[str]:
        return []  # a camera cannot read a serial: the rig file is taken as it is

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> CameraRig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CameraKind:
    name = "camera"
    sections: frozenset[str] = frozenset({"camera"})
    simulated = True  # slots may carry faults etc., but only with source = "sim" (check)

    def ad_hoc(self, target: str) -> RigConfig | None:
        return None

    def check(self, config: RigConfig, raw: Mapping[str, Any]) -> None:
        options = camera_options(config)
        if config.url is not None or config.usb is not None:
            raise RigFileError(config.source, "url", "a camera rig is reached through [camera]")
        if not config.slots:
            raise RigFileError(config.source, "slots", "a camera rig needs [[slots]] entries")
        numbers = {s.slot for s in config.slots}
        for i, entry in enumerate(options.slots, start=1):
            if entry.slot not in numbers:
                raise RigFileError(
                    config.source, f"camera.slot[{i}].slot", f"slot {entry.slot} not in [[slots]]"
                )
        shared = [s for s in config.slots if options.reader_for(s.slot)[1]]
        if len(shared) > 1 and not options.simulated:
            for slot in shared:
                if slot.serial is None:
                    index = config.slots.index(slot) + 1
                    raise RigFileError(
                        config.source,
                        f"slots[{index}].serial",
                        "slots sharing camera.nfc_reader need their token's serial: each burn "
                        "checks that the token on the reader is the slot's",
                    )
        if not options.simulated:
            for i, slot in enumerate(raw.get("slots", []), start=1):
                for key in _SIM_ONLY:
                    if key in slot:
                        raise RigFileError(
                            config.source, f"slots[{i}].{key}", 'only with camera.source = "sim"'
                        )
        else:
            from tokenrig.harness.sim.faults import FAULTS

            for i, slot in enumerate(config.slots, start=1):
                for fault in slot.faults:
                    if fault not in FAULTS:
                        raise RigFileError(
                            config.source, f"slots[{i}].faults", f"unknown fault {fault!r}"
                        )

    def open(self, config: RigConfig, options: OpenOptions) -> CameraRig:
        return open_camera_rig(config, options.clock)


def _calibration(config: RigConfig, options: CameraOptions) -> Calibration:
    from tokenrig.harness.camera.calibration import Calibration, load_calibration

    if options.latency_ms is not None or options.lcd_delay_ms is not None:
        return Calibration(
            camera_latency=(options.latency_ms or 0.0) / 1000,
            lcd_delay=(options.lcd_delay_ms or 0.0) / 1000,
        )
    path = options.calibration_file(config.source)
    from tokenrig.harness.camera.calibration import UNCALIBRATED

    return load_calibration(path) if path is not None else UNCALIBRATED


def open_camera_rig(config: RigConfig, clock: Clock, *, build_led: bool = False) -> CameraRig:
    """Open the camera, the relay board and the programmers; undo all of it on a failure."""
    from tokenrig.harness.camera.camera_token import CameraToken
    from tokenrig.harness.camera.decoder import find_windows
    from tokenrig.harness.camera.frames import open_source
    from tokenrig.harness.camera.nfc import CameraNfc
    from tokenrig.harness.camera.reading import SlotReader
    from tokenrig.harness.camera.relay import CommandPresser, HidRelayBoard, HidRelayChannel

    opts = camera_options(config)
    stack = ExitStack()
    try:
        programmers: dict[int, Programmer] = {}
        backend = None
        bench: SimBench | None = None
        if opts.simulated:
            from tokenrig.harness.sim.camera_bench import SimBench

            clock = VirtualClock(start=clock.now())
            bench = SimBench(config, opts, clock)
            source: FrameSource = bench.camera
            backend = bench.relay_backend
            programmers.update(bench.programmers())
        else:
            source = open_source(opts.source, clock=clock, fps=opts.fps)
        stack.callback(source.close)
        needs_board = opts.power is not None or any(
            opts.slot(s.slot).command is None for s in config.slots
        )
        board = None
        if needs_board:
            board = HidRelayBoard(opts.board, backend=backend).open()
            stack.callback(board.close)
        power: Presser | None = None
        if opts.power is not None and board is not None:
            power = HidRelayChannel(board, opts.power, clock=clock)
            power.set(True)
        calibration = _calibration(config, opts)
        found = None
        tokens: dict[int, Token] = {}
        for position, slot in enumerate(sorted(config.slots, key=lambda s: s.slot)):
            entry = opts.slot(slot.slot)
            quad = entry.quad()
            if quad is None:
                if found is None:
                    frame = source.grab()
                    if frame is None:
                        raise InfrastructureError(f"camera {source.name}: no frame")
                    found = find_windows(frame.image)
                    if len(found) != len(config.slots):
                        raise InfrastructureError(
                            f"camera rig {config.name}: {len(found)} LCD windows in view, "
                            f"{len(config.slots)} slots; give camera.slot regions "
                            "(tokenrig camera snapshot shows what is found)"
                        )
                quad = found[position]
            presser: Presser | None
            if entry.command is not None:
                presser = CommandPresser(entry.command, slot=slot.slot, channel=entry.channel)
            elif board is not None:
                presser = HidRelayChannel(board, entry.channel or slot.slot, clock=clock)
            else:
                presser = None
            spec = model(slot.model)
            where = f"camera rig {config.name} slot {slot.slot}"
            programmer = programmers.get(slot.slot)
            serial = slot.serial or (
                programmer.identity.serial if programmer else f"slot{slot.slot}"
            )
            nfc_reader, shared = opts.reader_for(slot.slot)
            if nfc_reader is not None:  # burns and clock reads over PC/SC, opened per use
                programmer = CameraNfc(
                    nfc_reader,
                    spec=spec,
                    serial=serial if (slot.serial or programmer) else None,
                    clock=clock,
                    where=where,
                    shared=shared,
                )
            reader = SlotReader(
                _grabber(source), quad, calibration=calibration, where=where, give_up=90
            )
            tokens[slot.slot] = CameraToken(
                identity=TokenIdentity(serial, spec.name, slot.firmware),
                spec=spec,
                reader=reader,
                presser=presser,
                programmer=programmer,
                clock=clock,
                power=power,
                press_s=opts.press_ms / 1000,
                where=where,
            )
        return CameraRig(config, tokens, clock=clock, source=source, stack=stack, bench=bench)
    except BaseException:
        stack.close()
        raise


def _grabber(source: FrameSource) -> Any:
    def grab() -> Any:
        frame = source.grab()
        if frame is None:
            raise InfrastructureError(f"camera {source.name}: the video ended")
        return frame

    return grab


def calibrate_rig(config: RigConfig, slot: int, *, lcd: bool = True) -> tuple[Calibration, Path]:
    """Calibrate the rig of ``config`` with ``slot``'s relay channel (its LED in view); with
    ``lcd`` also the LCD delay, which needs a burned token in ``slot``."""
    from tokenrig.harness.camera.calibration import calibrate
    from tokenrig.harness.camera.camera_token import CameraToken
    from tokenrig.harness.camera.reading import read_frame
    from tokenrig.harness.camera.relay import HidRelayChannel
    from tokenrig.harness.clock import SYSTEM_CLOCK

    opts = camera_options(config)
    path = opts.calibration_file(config.source) or Path(f"{config.name}.calibration.json")
    led = opts.led
    if led is None and opts.simulated:
        from tokenrig.harness.sim.live_camera import LED_BOX

        led = LED_BOX
    if led is None:
        raise RigFileError(config.source, "camera.led", "give the relay LED's box to calibrate")
    with open_camera_rig(config, SYSTEM_CLOCK) as rig:
        token = rig.token(slot)
        assert isinstance(token, CameraToken)
        presser = token.presser  # the channel whose LED is filmed
        if not isinstance(presser, HidRelayChannel):
            raise InfrastructureError(f"slot {slot}: calibration needs a relay channel presser")
        quad = token.reader.quad
        result = calibrate(
            rig.source,
            rig.clock,
            led=led,
            switch=presser.set,
            reads_code=(lambda f: read_frame(f, quad).status == "code") if lcd else None,
            wait_off=lambda: _wait_off(rig, quad),
        )
    return result, path


def _wait_off(rig: CameraRig, quad: Any) -> None:
    """Wait (a frame a second, up to 2 minutes) until the display has timed out."""
    from tokenrig.harness.camera.reading import read_frame

    for _ in range(120):
        frame = rig.source.grab()
        if frame is not None and read_frame(frame, quad).status == "off":
            return
        rig.clock.sleep(1.0)
    raise InfrastructureError(f"camera rig {rig.name}: the display did not go off in 2 minutes")


CAMERA_KIND = CameraKind()
