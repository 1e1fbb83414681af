"""Two rigs on a remote rig host, qualified in one run: simulated rigs on kernel ptys, each
exported over RFC 2217 by its own real ser2net on loopback, and ``tokenrig qualify --rig A
--rig B --jobs 2`` in real time. Each worker owns one rig; the records merge into one batch.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tokenrig.fixtures.rig import start_ser2net
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer

# Real time: the procedures that need no soak; a token takes a few seconds.
FAST_REAL_TIME = """name = "remote-smoke"
description = "burn, clock after sync and power cycle, real time"
procedures = ["burn", "clock_offset", "power_cycle"]

[limits."clock.offset_resolution"]
high = 0.5  # this test is about the plumbing; a loaded CI host may poll slower
"""


@pytest.mark.slow
def test_two_rigs_behind_two_ser2net_in_one_run(tmp_path: Path) -> None:
    profile = tmp_path / "remote.toml"
    profile.write_text(FAST_REAL_TIME)
    with contextlib.ExitStack() as stack:
        rig_files = []
        for rig_index, models in enumerate((("C302", "miniOTP-3"), ("OTPC-P1", "C301"))):
            firmwares = [
                make_sim_firmware(
                    m, clock=SYSTEM_CLOCK, index=10 * (rig_index + 1) + i, drift_ppm=2.0
                )
                for i, m in enumerate(models)
            ]
            server = PtyRigServer(
                SimRig(
                    firmwares,
                    clock=SYSTEM_CLOCK,
                    serial=f"REMOTE-{rig_index}",
                    apdu_factory=card_for,
                )
            ).start()
            stack.callback(server.stop)
            url = stack.enter_context(start_ser2net(server.path, tmp_path))
            rig_file = tmp_path / f"bench{rig_index}.toml"
            rig_file.write_text(f'name = "bench{rig_index}"\nurl = "{url}"\ntimeout = 3.0\n')
            rig_files.append(rig_file)
        out = tmp_path / "out"
        result = subprocess.run(
            [
                sys.executable, "-m", "tokenrig", "qualify",
                "--rig", str(rig_files[0]), "--rig", str(rig_files[1]),
                "--jobs", "2", "--profile", str(profile), "--out", str(out),
            ],
            capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((out / "records.json").read_text())
    by_rig = {(t["rig"], t["slot"]): t for t in data["tokens"]}
    assert sorted(by_rig) == [("bench0", 1), ("bench0", 2), ("bench1", 1), ("bench1", 2)]
    assert {t["verdict"] for t in data["tokens"]} == {"pass"}
    assert data["run"]["virtual_time"] is False
    assert [r["url"].split(":")[0] for r in data["run"]["rigs"]] == ["rfc2217", "rfc2217"]
    # One worker per rig: each part file holds whole rigs.
    parts = [json.loads(p.read_text()) for p in sorted((out / "parts").glob("records-gw*.json"))]
    rigs_per_part = [{t["rig"] for t in part["tokens"]} for part in parts]
    assert sorted(map(sorted, rigs_per_part)) == [["bench0"], ["bench1"]]
    for token in data["tokens"]:
        resolution = next(
            m for m in token["measurements"] if m["name"] == "clock.offset_resolution"
        )
        assert resolution["value"] > 0
