"""USB discovery through pyusb's real code path on a simulated bus, and the CLI commands."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tokenrig.harness.cli import rigs as rigs_cli
from tokenrig.harness.cli import sim as sim_cli
from tokenrig.harness.cli.main import UsageError
from tokenrig.harness.rigs.config import RigConfig, UsbMatch, load_rig_file
from tokenrig.harness.rigs.usb import discover, serial_port_for
from tokenrig.harness.sim.faults import FAULTS
from tokenrig.harness.sim.usb_backend import SimUsbBackend, SimUsbDevice

REPO = Path(__file__).resolve().parents[2]
# The installed entry point's code path, through ``python -m tokenrig``.
TOKENRIG = [sys.executable, "-m", "tokenrig"]
MOLTO2 = SimUsbDevice(0x349E, 0x0300, "MOLTO2-0042", "Token2", "Molto2", bus=1, address=4)
RIG = SimUsbDevice(0x1209, 0x7A70, "RIG-000123", "ACME", "TokenRig 8", bus=1, address=5)
OTHER_RIG = SimUsbDevice(0x1209, 0x7A70, "RIG-999999", "ACME", "TokenRig 8", bus=1, address=6)
KEYBOARD = SimUsbDevice(0x046D, 0xC31C, "KB1", "Logitech", "Keyboard", bus=1, address=7)


def _usb_rig() -> RigConfig:
    return load_rig_file(REPO / "rigs" / "examples" / "usb-rig.toml")


def test_discovery_finds_the_configured_rig_and_molto2_tokens_only() -> None:
    backend = SimUsbBackend([KEYBOARD, MOLTO2, RIG, OTHER_RIG])
    found = discover([_usb_rig()], backend=backend)
    assert [(d.ids, d.serial, d.kind) for d in found] == [
        ("349e:0300", "MOLTO2-0042", "Token2 Molto2"),
        ("1209:7a70", "RIG-000123", "rig bench-usb-1"),
    ]
    assert found[1].manufacturer == "ACME"
    assert (found[1].bus, found[1].address) == (1, 5)


def test_rig_without_serial_match_takes_any_serial() -> None:
    config = RigConfig(name="any", usb=UsbMatch(0x1209, 0x7A70))
    found = discover([config], backend=SimUsbBackend([OTHER_RIG]))
    assert [d.kind for d in found] == ["rig any"]


def test_usb_rig_is_resolved_to_its_tty() -> None:
    ports = [
        SimpleNamespace(device="/dev/ttyUSB0", vid=None, pid=None, serial_number=None),
        SimpleNamespace(device="/dev/ttyACM1", vid=0x1209, pid=0x7A70, serial_number="RIG-9"),
        SimpleNamespace(device="/dev/ttyACM2", vid=0x1209, pid=0x7A70, serial_number="RIG-000123"),
    ]
    match = _usb_rig().usb
    assert match is not None
    assert serial_port_for(match, ports=lambda: ports) == "/dev/ttyACM2"
    assert serial_port_for(UsbMatch(0x1, 0x2), ports=lambda: ports) is None


def test_rigs_listing_shows_configured_rigs_and_usb_devices() -> None:
    configs = rigs_cli.load_rigs(REPO / "rigs")
    lines = rigs_cli.listing(configs, backend=SimUsbBackend([MOLTO2, RIG]))
    text = "\n".join(lines)
    assert "sim " in text
    assert "usb 1209:7a70 serial RIG-000123" in text
    assert "349e:0300  serial MOLTO2-0042" in text
    assert "rig bench-usb-1" in text


def test_rigs_listing_with_empty_bus_says_so() -> None:
    lines = rigs_cli.listing([_usb_rig()], backend=SimUsbBackend([KEYBOARD]))
    assert lines[-1] == "  (no rig or token found)"


def test_rigs_command_rejects_a_malformed_file_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("name = 'b'\nurl = 'sim'\n[[slots]]\nslot=1\nmodel='X1'\n")
    with pytest.raises(UsageError, match=r"bad\.toml: slots\[1\]\.model: unknown token model"):
        rigs_cli.load_rigs(tmp_path)
    proc = subprocess.run(
        [*TOKENRIG, "rigs", "--dir", str(tmp_path), "--no-usb"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "bad.toml: slots[1].model" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_sim_faults_prints_one_fault_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert sim_cli.run_faults(argparse.Namespace()) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(FAULTS)
    for line, description in zip(lines, FAULTS.values(), strict=True):
        assert line.endswith(description)


@pytest.mark.parametrize(
    ("faults", "models", "message"),
    [
        (["3=bogus"], [], "--fault 3=bogus: unknown fault"),
        (["9=off_by_one_step"], [], "slot 9 out of range 1..8"),
        (["x"], [], "expected SLOT=VALUE"),
        ([], ["2=C999"], "--model 2=C999: unknown token model"),
    ],
)
def test_sim_serve_rejects_bad_slot_options(
    faults: list[str], models: list[str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        sim_cli.build_tokens(8, faults, models, seed=1)


def test_sim_serve_applies_models_and_faults_per_slot() -> None:
    tokens = sim_cli.build_tokens(4, ["2=off_by_one_step"], ["4=Molto2"], seed=1)
    assert tokens[1].faults == frozenset({"off_by_one_step"})
    assert tokens[3].identity.model == "Molto2"
    assert not tokens[0].faults
