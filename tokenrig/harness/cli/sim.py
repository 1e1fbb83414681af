"""``tokenrig sim``: run a simulated rig, list the firmware fault profiles.

``sim serve`` puts N simulated tokens behind the rig protocol on a real kernel pty (or TCP) and
prints where a client connects, so any rig client, the conformance suite or ser2net can be
pointed at it exactly as at a real rig.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from tokenrig.harness.cli.main import EXIT_OK, UsageError
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.rigs.config import MAX_SLOTS as RIG_MAX_SLOTS
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware, realistic_batch
from tokenrig.harness.sim.faults import FAULTS
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.sim.rig_kind import DEFAULT_SIM_SEED, DEFAULT_SIM_SLOTS, MIXED_MODELS
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer, TcpRigServer
from tokenrig.harness.tokens.models import MODELS, model

MAX_SLOTS = RIG_MAX_SLOTS


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("sim", help="simulated rig and firmware faults")
    sub = parser.add_subparsers(dest="sim_command", metavar="SIM_COMMAND")
    sub.required = True

    serve = sub.add_parser("serve", help="serve a simulated rig on a pty or TCP until interrupted")
    serve.add_argument("--slots", type=int, default=DEFAULT_SIM_SLOTS, metavar="N")
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SLOT=NAME",
        help="give the token in SLOT a firmware fault (see `tokenrig sim faults`); repeatable",
    )
    serve.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="SLOT=MODEL",
        help=f"token model in SLOT ({', '.join(MODELS)}); repeatable",
    )
    serve.add_argument(
        "--seed", type=int, default=DEFAULT_SIM_SEED, help="batch seed (drift, offsets, mix)"
    )
    where = serve.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a kernel pty (default)")
    where.add_argument("--tcp", metavar="HOST:PORT", help="serve on TCP (port 0: any free port)")
    serve.add_argument("--no-apdu", action="store_true", help="refuse NFC APDU pass-through")
    serve.set_defaults(func=run_serve)

    faults = sub.add_parser("faults", help="list the firmware fault profiles")
    faults.set_defaults(func=run_faults)


def run_faults(args: argparse.Namespace) -> int:
    width = max(len(name) for name in FAULTS)
    for name, description in FAULTS.items():
        print(f"{name:<{width}}  {description}")
    return EXIT_OK


def _assignments(items: Sequence[str], option: str, slots: int) -> list[tuple[int, str]]:
    out = []
    for item in items:
        slot_text, sep, value = item.partition("=")
        if not sep or not value or not slot_text.isdigit():
            raise UsageError(f"{option} {item!r}: expected SLOT=VALUE, e.g. {option} 3=...")
        slot = int(slot_text)
        if not 1 <= slot <= slots:
            raise UsageError(f"{option} {item!r}: slot {slot} out of range 1..{slots}")
        out.append((slot, value))
    return out


def build_tokens(
    slots: int, faults: Sequence[str], models: Sequence[str], seed: int
) -> list[SimFirmware]:
    """A realistic batch for ``slots``, with models and faults overridden per slot."""
    if not 1 <= slots <= MAX_SLOTS:
        raise UsageError(f"--slots {slots}: must be 1..{MAX_SLOTS}")
    fault_map: dict[int, list[str]] = {}
    for slot, name in _assignments(faults, "--fault", slots):
        if name not in FAULTS:
            raise UsageError(f"--fault {slot}={name}: unknown fault (see `tokenrig sim faults`)")
        fault_map.setdefault(slot - 1, []).append(name)
    model_map: dict[int, str] = {}
    for slot, name in _assignments(models, "--model", slots):
        try:
            model_map[slot - 1] = model(name).name
        except KeyError as exc:
            raise UsageError(f"--model {slot}={name}: {exc.args[0]}") from None
    batch = realistic_batch(
        slots, clock=SYSTEM_CLOCK, seed=seed, models=MIXED_MODELS, faults=fault_map
    )
    for index, chosen in model_map.items():
        old = batch[index]
        batch[index] = make_sim_firmware(
            chosen,
            clock=SYSTEM_CLOCK,
            index=index + 1,
            drift_ppm=old.drift_ppm,
            rtc_offset=old.rtc_now() - SYSTEM_CLOCK.now(),
            faults=fault_map.get(index, ()),
        )
    return batch


def run_serve(args: argparse.Namespace) -> int:
    tokens = build_tokens(args.slots, args.fault, args.model, args.seed)
    rig = SimRig(list(tokens), clock=SYSTEM_CLOCK, apdu_factory=None if args.no_apdu else card_for)
    server: PtyRigServer | TcpRigServer
    if args.tcp:
        host, sep, port = args.tcp.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise UsageError(f"--tcp {args.tcp!r}: expected HOST:PORT, e.g. 127.0.0.1:0")
        if int(port) > 65535:
            raise UsageError(f"--tcp {args.tcp!r}: port {int(port)} is outside 0..65535")
        try:
            server = TcpRigServer(rig, host, int(port))
        except (OSError, OverflowError) as exc:
            raise UsageError(f"--tcp {args.tcp}: cannot listen: {exc}") from None
    else:
        server = PtyRigServer(rig)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with server:
        print(server.url, flush=True)
        for i, fw in enumerate(tokens, start=1):
            faults = ",".join(sorted(fw.faults)) or "-"
            print(
                f"slot {i}: {fw.identity.model} {fw.identity.serial} "
                f"drift {fw.drift_ppm:+.3f} ppm faults {faults}",
                file=sys.stderr,
            )
        while not stop.wait(0.5):
            pass
    return EXIT_OK
