"""The reference simulated rig is exactly as strict as docs/rig-protocol.md, never looser.

Firmware engineers compare their rig against it; a sim that accepts ``PRESS 1 0 junk`` or
``+1`` would teach them the wrong protocol and hide host bugs.
"""

from __future__ import annotations

import pytest

from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig


@pytest.fixture
def rig() -> SimRig:
    return SimRig([make_sim_firmware("C302", clock=SYSTEM_CLOCK)], clock=SYSTEM_CLOCK)


def _answer(rig: SimRig, line: str) -> str:
    answer = rig.handle_line(line.encode())
    assert answer is not None
    return answer.decode().rstrip("\n")


@pytest.mark.parametrize(
    "line",
    [
        "@t PRESS 1 0 extra junk",
        "@t PRESS +1",
        "@t PRESS 1_0",
        "@t DISP? 01x",
        "@t TCLK 1 -1",
        "@t TCLK 1 4294967296",
        "@t CONF 1 0 +31 SHA1 30 6 30",
        "@t CONF 1 0 31 SHA1 30 6",
        "@t SEED 1 0 ABC",
        "@t SEED 1 0 3132 extra",
        "@t SEED 1 0 0x3132",
        "@t SLOTS? 1",
        "@t *IDN? please",
        "@t WATCH? 1",
        "@t SLOT? 1 2",
    ],
)
def test_malformed_or_extra_arguments_are_err_101(rig: SimRig, line: str) -> None:
    assert _answer(rig, line).startswith("@t ERR 101 "), line


def test_an_odd_length_seed_is_refused_without_quoting_it(rig: SimRig) -> None:
    seed = "A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B"  # 39 digits
    answer = _answer(rig, f"@t SEED 1 0 {seed}")
    assert answer.startswith("@t ERR 101 ")
    assert seed[:16] not in answer


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("@t PRESS 1", "@t OK"),
        ("@t PRESS 1 0", "@t OK"),
        ("@t TCLK 1 0", "@t OK KEPT"),
        ("@t TCLK 1 4294967295 0", "@t OK KEPT"),
        ("@t SLOT? 01", "@t OK PRESENT C302"),
    ],
)
def test_well_formed_requests_still_work(rig: SimRig, line: str, expected: str) -> None:
    assert _answer(rig, line).startswith(expected)
