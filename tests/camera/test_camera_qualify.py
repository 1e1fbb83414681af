"""``tokenrig qualify --rig camera.toml`` end to end on a simulated camera rig: simulated
firmware drives what is rendered into webcam-like frames of four tokens, presses and power
go through the real HID relay code to a simulated board, and the verdicts come from the
display reads alone. Healthy tokens must pass; each display fault must be caught."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tokenrig.harness.rigs.config import RigFileError, load_rig_file

PROFILE = """name = "camera-quick"
description = "burn, leading zero, clock after sync, power cycle"
procedures = ["burn", "leading_zero", "clock_offset", "power_cycle"]
"""


def _rig(tmp_path: Path, slots: list[tuple[str, str | None]], extra: str = "") -> Path:
    text = 'name = "camsim"\nkind = "camera"\napdu = false\n\n[camera]\nsource = "sim"\n'
    text += f"latency_ms = 80\npower = 5\n{extra}\n"
    for n, (model_name, fault) in enumerate(slots, start=1):
        text += f'[[slots]]\nslot = {n}\nmodel = "{model_name}"\n'
        if fault:
            text += f'faults = ["{fault}"]\n'
    path = tmp_path / "camera.toml"
    path.write_text(text)
    return path


def _qualify(tmp_path: Path, rig: Path) -> tuple[int, dict[int, Any]]:
    profile = tmp_path / "quick.toml"
    profile.write_text(PROFILE)
    out = tmp_path / "out"
    # A child process: the suite is pytest, which cannot run inside this pytest.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tokenrig",
            "qualify",
            "--rig",
            str(rig),
            "--profile",
            str(profile),
            "--out",
            str(out),
        ],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    status = done.returncode
    records = json.loads((out / "records.json").read_text())
    return status, {t["slot"]: t for t in records["tokens"]}


def _measured(token: dict[str, Any], name: str) -> float:
    return float(next(m["value"] for m in token["measurements"] if m["name"] == name))


@pytest.mark.slow
def test_four_tokens_healthy_pass_and_display_faults_are_caught(tmp_path: Path) -> None:
    rig = _rig(
        tmp_path,
        [
            ("C301", None),
            ("miniOTP-3", None),
            ("C302", "drops_leading_zero"),
            ("OTPC-P1", "off_by_one_step"),
        ],
    )
    status, tokens = _qualify(tmp_path, rig)
    assert status == 1
    assert [tokens[n]["verdict"] for n in (1, 2, 3, 4)] == ["pass", "pass", "fail", "fail"]
    for n in (1, 2):
        # The display change was timed from the frames, inside the profile's resolution.
        assert _measured(tokens[n], "clock.offset_resolution") <= 0.05
        assert abs(_measured(tokens[n], "clock.offset_after_sync")) < 0.05
    assert tokens[3]["procedures"]["leading_zero"] == "failed"
    assert any("leading zero" in r for r in tokens[3]["verdict_reasons"])
    assert tokens[4]["procedures"]["clock_offset"] == "failed"
    assert any("off-by-one" in r for r in tokens[4]["verdict_reasons"])


@pytest.mark.slow
def test_a_frozen_display_is_caught(tmp_path: Path) -> None:
    rig = _rig(tmp_path, [("C301", None), ("C301", "display_not_updating")])
    status, tokens = _qualify(tmp_path, rig)
    assert status == 1
    assert tokens[1]["verdict"] == "pass"
    assert tokens[2]["verdict"] == "fail"
    assert tokens[2]["procedures"]["clock_offset"] == "failed"


def test_rig_file_mistakes_name_the_key(tmp_path: Path) -> None:
    bad = _rig(tmp_path, [("C301", None)], extra="frobnicate = 1\n")
    with pytest.raises(RigFileError, match=r"camera\.frobnicate"):
        load_rig_file(bad)
    real = tmp_path / "real.toml"
    real.write_text(
        'name = "r"\nkind = "camera"\n[camera]\nsource = "/dev/video0"\n'
        '[[slots]]\nslot = 1\nmodel = "C301"\nfaults = ["off_by_one_step"]\n'
    )
    with pytest.raises(RigFileError, match=r"slots\[1\]\.faults.*source = \"sim\""):
        load_rig_file(real)
    region = tmp_path / "region.toml"
    region.write_text(
        'name = "r"\nkind = "camera"\n[camera]\nsource = "0"\n'
        "[[camera.slot]]\nslot = 1\nregion = [[0, 0], [1, 0]]\n"
        '[[slots]]\nslot = 1\nmodel = "C301"\n'
    )
    with pytest.raises(RigFileError, match=r"camera\.slot\[1\]\.region"):
        load_rig_file(region)


def test_a_missing_relay_board_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real camera rig whose relay board is not plugged in: exit 2 naming the board."""
    folder = tmp_path / "frames"
    folder.mkdir()
    rig = tmp_path / "real.toml"
    rig.write_text(
        f'name = "r"\nkind = "camera"\n[camera]\nsource = "{folder}"\nboard = "NOPE1"\n'
        "[[camera.slot]]\nslot = 1\nchannel = 1\nregion = [[0, 0], [10, 0], [10, 4], [0, 4]]\n"
        '[[slots]]\nslot = 1\nmodel = "C301"\n'
    )
    from tokenrig.harness.rigs.rig import open_rig
    from tokenrig.harness.tokens.base import InfrastructureError

    (folder / "a.png").write_bytes(b"")
    with pytest.raises(InfrastructureError, match="16c0:05df"):
        open_rig(rig, lock=False)


def test_calibrate_command_stores_the_simulated_cameras_latency(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tokenrig.harness.camera.calibration import load_calibration
    from tokenrig.harness.cli.main import main
    from tokenrig.harness.sim.camera_bench import SIM_LATENCY

    rig = tmp_path / "cal.toml"
    rig.write_text(
        'name = "cal"\nkind = "camera"\n[camera]\nsource = "sim"\n'
        '[[slots]]\nslot = 1\nmodel = "C301"\n'
    )
    assert main(["camera", "calibrate", "--rig", str(rig), "--latency-only"]) == 0
    shown = json.loads(capsys.readouterr().out)
    stored = load_calibration(tmp_path / "cal.calibration.json")
    assert stored.camera_latency == pytest.approx(SIM_LATENCY, abs=0.01)
    assert shown["camera_latency_ms"] == pytest.approx(stored.camera_latency * 1000, abs=0.1)
    assert stored.samples == 12
