"""A simulated serial rig that refuses every seed write and APDU by quoting it in its ERR text.

Started as a subprocess by ``test_secret_canaries.py``: ``python echo_rig.py SLOTS ECHO_LOG``.
It serves a pty, prints its path, and serves until killed. Every ``SEED`` request and every
seed-write APDU (``84 C5``: the seed under secure messaging) is answered
``ERR 300 refused <the request's bytes>`` with the bytes as hex separated by ``:``,
`` `` or ``-`` in turn (the way some rig firmware logs an APDU); every other command reaches
the simulated tokens. Each quoted payload is appended (as plain hex) to ECHO_LOG so the test
can search the run's outputs for exactly what the rig said, the SM4 body of a seed write
included (which the public device key turns back into the seed).
"""

from __future__ import annotations

import itertools
import re
import signal
import sys
import threading
from pathlib import Path

from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer

_HEX_WORD = re.compile(rb"^[0-9A-Fa-f]{16,}$")
_SEPARATORS = itertools.cycle([":", " ", "-"])


def echoing_rig(slots: int, echo_log: Path) -> SimRig:
    firmware = [make_sim_firmware("C302", clock=SYSTEM_CLOCK, index=i) for i in range(1, slots + 1)]
    rig = SimRig(firmware, clock=SYSTEM_CLOCK, apdu_factory=card_for)  # type: ignore[arg-type]
    original = rig.handle_line

    def handle_line(raw: bytes) -> bytes | None:
        words = raw.strip().split()
        tag = words[0] if words and words[0].startswith(b"@") else None
        rest = words[1:] if tag else words
        payloads = [w for w in rest[1:] if _HEX_WORD.match(w)]
        command = rest[0] if rest else b""
        seed_write = bool(payloads) and payloads[-1][:4].upper() == b"84C5"
        if payloads and (command == b"SEED" or (command == b"APDU" and seed_write)):
            quoted = bytes.fromhex(payloads[-1].decode())
            with echo_log.open("a") as log:
                log.write(quoted.hex() + "\n")
            text = f"ERR 300 refused {quoted.hex(next(_SEPARATORS)).upper()}"
            return ((tag.decode() + " " if tag else "") + text + "\n").encode()
        return original(raw)

    rig.handle_line = handle_line  # type: ignore[method-assign]
    return rig


def main(slots: int, echo_log: str) -> None:
    with PtyRigServer(echoing_rig(slots, Path(echo_log))) as server:
        print(server.path, flush=True)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        stop.wait()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
