"""What sharing a rig through a labgrid place costs.

A real coordinator and exporter on loopback (tokenrig.fixtures.labgrid_lab) export one
simulated single-token rig on a kernel pty. Measured:
- acquire: asking the coordinator for the place until its serial port is known (the exporter
  starts a ser2net for each acquisition), then release;
- acquire to first verdict: ``tokenrig qualify --rig labgrid:PLACE`` with one procedure on the
  one token, process start to exit; side by side with the same qualify over the bare pty, so
  the difference is what the place costs a run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from tokenrig.fixtures.labgrid_lab import LabgridLab, labgrid_lab
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.rigs.labgrid_kind import PlaceRef, hold
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer

pytestmark = pytest.mark.filterwarnings(
    "ignore:set(Daemon|Name)\\(\\) is deprecated:DeprecationWarning"  # pyserial rfc2217
)
ONE_PROCEDURE = """name = "bench-labgrid"
description = "one procedure in real time: the clock offset after a sync"
procedures = ["clock_offset"]

[limits."clock.offset_resolution"]
high = 0.5
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabgridLab, str]]:
    firmware = make_sim_firmware("C302", clock=SYSTEM_CLOCK, index=1)
    rig = SimRig([firmware], clock=SYSTEM_CLOCK, serial="LG-BENCH", apdu_factory=card_for)
    with PtyRigServer(rig) as server, labgrid_lab(tmp_path_factory.mktemp("lab")) as started:
        started.export("benchhost", {"bench": server.path})
        started.create_place("bench", "benchhost/bench/*")
        yield started, server.path


def test_acquire_until_the_port_is_served(
    benchmark: BenchmarkFixture, lab: tuple[LabgridLab, str]
) -> None:
    started, _ = lab
    ref = PlaceRef(place="bench", coordinator=started.address)

    def acquire_and_release() -> float:
        held = hold(ref)
        held.release()
        return held.acquire_seconds

    seconds = benchmark.pedantic(acquire_and_release, rounds=5, iterations=1)
    assert seconds > 0
    assert started.place("bench").holder is None


def _qualify(started: LabgridLab, rig: str, out: Path) -> dict[str, object]:
    out.parent.mkdir(parents=True)
    profile = out.parent / "one.toml"
    profile.write_text(ONE_PROCEDURE)
    argv = [sys.executable, "-m", "tokenrig", "qualify", "--rig", rig]
    argv += ["--profile", str(profile), "--out", str(out)]
    result = subprocess.run(
        argv,
        env=started.station_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, object] = json.loads((out / "records.json").read_text())
    return data


@pytest.mark.parametrize("via", ["labgrid", "pty"])
def test_acquire_to_first_verdict(
    benchmark: BenchmarkFixture, lab: tuple[LabgridLab, str], tmp_path: Path, via: str
) -> None:
    started, pty = lab
    benchmark.group = "qualify one token: labgrid place vs bare pty"
    rig_file = tmp_path / "pty.toml"
    rig_file.write_text(f'name = "bench"\nurl = "{pty}"\n')
    rig = "labgrid:bench" if via == "labgrid" else str(rig_file)
    runs = iter(range(100))

    def qualify() -> dict[str, object]:
        return _qualify(started, rig, tmp_path / f"out{next(runs)}" / "run")

    data = benchmark.pedantic(qualify, rounds=3, iterations=1)
    tokens = data["tokens"]
    assert isinstance(tokens, list)
    assert [t["verdict"] for t in tokens] == ["pass"]
    assert started.place("bench").holder is None
