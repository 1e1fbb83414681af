"""How long one rig round trip takes: a display read over a kernel pty and over ser2net.

The half round trip is the uncertainty of every display reading's host time, so it bounds how
close to a step boundary a verdict can be trusted. These numbers show what the serial path
costs, and a regression (e.g. a client polling too slowly) shows up here first.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from tokenrig.fixtures.rig import start_ser2net
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer
from tokenrig.harness.transports.rig_client import RigClient

pytestmark = pytest.mark.filterwarnings(
    "ignore:set(Daemon|Name)\\(\\) is deprecated:DeprecationWarning"  # pyserial rfc2217
)


@pytest.fixture(scope="module")
def pty_rig() -> Iterator[PtyRigServer]:
    rig = SimRig([make_sim_firmware("C302", clock=SYSTEM_CLOCK)], clock=SYSTEM_CLOCK)
    with PtyRigServer(rig) as server:
        yield server


def test_display_read_over_pty(benchmark: BenchmarkFixture, pty_rig: PtyRigServer) -> None:
    with RigClient(pty_rig.path, name="bench-pty") as client:
        values = benchmark(client.call, "DISP?", 1, slot=1)
    assert values[1] == "OFF"


def test_display_read_over_ser2net(
    benchmark: BenchmarkFixture, pty_rig: PtyRigServer, tmp_path: Path
) -> None:
    with start_ser2net(pty_rig.path, tmp_path) as url, RigClient(url, name="bench-2217") as client:
        values = benchmark(client.call, "DISP?", 1, slot=1)
    assert values[1] == "OFF"
