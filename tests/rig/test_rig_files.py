"""Rig files: the shipped ones load, and every mistake names the file, the key and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.rigs.config import RigFileError, load_rig_file
from tokenrig.harness.rigs.rig import open_rig, rig_config_for
from tokenrig.harness.sim.factory import realistic_batch
from tokenrig.harness.sim.rig_kind import MIXED_MODELS

REPO = Path(__file__).resolve().parents[2]
SIM_TOML = REPO / "tokenrig" / "rigs" / "sim.toml"


def test_bare_sim_url_is_the_same_box_as_sim_toml() -> None:
    assert rig_config_for("sim").slots == load_rig_file(SIM_TOML).slots
    assert rig_config_for("sim:tcp").url == "sim:tcp"


def test_default_sim_rig_is_the_realistic_batch_that_sim_serve_serves() -> None:
    config = load_rig_file(SIM_TOML)
    assert config.is_sim
    batch = realistic_batch(8, clock=VirtualClock(), seed=2026, models=MIXED_MODELS)
    assert [(s.slot, s.model, s.serial, s.drift_ppm) for s in config.slots] == [
        (i, fw.identity.model, fw.identity.serial, fw.drift_ppm)
        for i, fw in enumerate(batch, start=1)
    ]
    for slot, fw in zip(config.slots, batch, strict=True):
        assert slot.rtc_offset == pytest.approx(fw.rtc_now() - fw.clock.now(), abs=1e-3)
    assert len({s.model for s in config.slots}) >= 5  # mixed models
    assert any(s.drift_ppm != 0 for s in config.slots)


SHIPPED_RIG_FILES = sorted(
    [*(REPO / "rigs").rglob("*.toml"), *(REPO / "tokenrig" / "rigs").glob("*.toml")]
)


@pytest.mark.parametrize("path", SHIPPED_RIG_FILES, ids=lambda p: p.name)
def test_every_shipped_rig_file_loads(path: Path) -> None:
    config = load_rig_file(path)
    assert config.name
    assert (config.url is None) != (config.usb is None)


def test_usb_example_reads_hex_ids() -> None:
    config = load_rig_file(REPO / "rigs" / "examples" / "usb-rig.toml")
    assert config.usb is not None
    assert (config.usb.vid, config.usb.pid, config.usb.serial) == (0x1209, 0x7A70, "RIG-000123")
    assert config.lock_key == "usb-1209:7a70 serial RIG-000123"


BAD_FILES = [
    ("name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 1\nmodel = 'C999'\n", "slots[1].model", "C999"),
    ("url = 'socket://127.0.0.1:1'\n", "name", "missing"),
    ("name = 'x'\n", "url", "exactly one of url"),
    ("name = 'x'\nurl = 'sim'\n", "slots", "at least one"),
    ("name = 'x'\nurl = 'sim'\ncolour = 'red'\n", "colour", "unknown key"),
    ("name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 0\nmodel = 'C302'\n", "slots[1].slot", "from 1"),
    (
        "name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 'one'\nmodel = 'C302'\n",
        "slots[1].slot",
        "integer",
    ),
    (
        "name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 3\nmodel = 'C302'\n"
        "[[slots]]\nslot = 3\nmodel = 'C301'\n",
        "slots[2].slot",  # the position, as every other slot error names it
        "slot number 3 used twice",
    ),
    (
        "name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 1000000000\nmodel = 'C302'\n",
        "slots[1].slot",
        "outside 1..10000",
    ),
    (
        "name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 1\nmodel = 'C302'\nfaults = ['bogus']\n",
        "slots[1].faults",
        "unknown fault 'bogus'",
    ),
    (
        "name = 'x'\nurl = '/dev/ttyACM0'\n[[slots]]\nslot = 1\nmodel = 'C302'\ndrift_ppm = 3\n",
        "slots[1].drift_ppm",
        "only a simulated rig",
    ),
    ("name = 'x'\n[usb]\nvid = 'zz'\npid = 1\n", "usb.vid", "not a hex number"),
    ("name = 'x'\n[usb]\nvid = 0x1FFFF\npid = 1\n", "usb.vid", "16-bit"),
    ("name = 'x'\n[usb]\npid = 1\n", "usb.vid", "missing"),
    ("name = 'x'\n[usb]\nvid = 1\npid = 1\nproduct = 'p'\n", "usb.product", "unknown key"),
    ("name = 'x'\nurl = 'sim'\ntimeout = -1\n[[slots]]\nslot=1\nmodel='C302'\n", "timeout", ""),
    ("name = 'x'\nurl = 'sim\n", "(syntax)", "not valid TOML"),
    ("name = true\nurl = 'sim'\n", "name", "not a boolean"),
    ('name = "a\\tb"\nurl = "sim"\n', "name", "printable"),
    ("name = ''\nurl = 'sim'\n", "name", "1 to 64"),
    (f"name = '{'r' * 65}'\nurl = 'sim'\n", "name", "1 to 64"),
    ("name = 'x'\nurl = 'sim'\ntimeout = nan\n[[slots]]\nslot=1\nmodel='C302'\n", "timeout", ""),
    (
        "name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 1\nmodel = 'C302'\ndrift_ppm = nan\n",
        "slots[1].drift_ppm",
        "finite",
    ),
    (
        "name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 1\nmodel = 'C302'\nrtc_offset = -inf\n",
        "slots[1].rtc_offset",
        "finite",
    ),
    (
        "name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 1\nmodel = 'C302'\ndrift_ppm = 1e9\n",
        "slots[1].drift_ppm",
        "within",
    ),
    (
        "name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 1\nmodel = 'C302'\ntemperature_c = nan\n",
        "slots[1].temperature_c",
        "finite",
    ),
]


@pytest.mark.parametrize(("text", "key", "reason"), BAD_FILES, ids=[b[1] for b in BAD_FILES])
def test_malformed_rig_file_names_file_key_and_reason(
    tmp_path: Path, text: str, key: str, reason: str
) -> None:
    path = tmp_path / "bench.toml"
    path.write_text(text)
    with pytest.raises(RigFileError) as info:
        load_rig_file(path)
    assert info.value.key == key
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{path}: {key}: ")


def test_missing_rig_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RigFileError, match=r"nope\.toml: \(file\): no such file"):
        load_rig_file(tmp_path / "nope.toml")


def test_sim_rig_file_opens_on_a_pty_and_holds_the_expected_tokens(tmp_path: Path) -> None:
    with open_rig(SIM_TOML, lock_dir=tmp_path) as rig:
        assert rig.url.startswith("/dev/pts/")
        assert rig.mismatches() == []
        serials = [t.serial for t in rig.tokens()]
    assert serials == [s.serial for s in load_rig_file(SIM_TOML).slots]


def test_sim_tcp_rig_file_opens_on_a_loopback_socket(tmp_path: Path) -> None:
    path = tmp_path / "tcp.toml"
    path.write_text("name = 'tcp'\nurl = 'sim:tcp'\n[[slots]]\nslot = 2\nmodel = 'C301'\n")
    with open_rig(path, lock_dir=tmp_path) as rig:
        assert rig.url.startswith("socket://127.0.0.1:")
        slots = rig.slots()
        assert [s.present for s in slots] == [False, True]
        assert slots[1].model == "C301"


def test_mismatched_slot_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text("name = 'm'\nurl = 'sim'\n[[slots]]\nslot = 1\nmodel = 'C302'\n")
    with open_rig(path, lock_dir=tmp_path) as rig:
        sim = rig.sim
        assert sim is not None
        sim.slots[0] = None  # the token was taken out
        assert rig.mismatches() == ["slot 1: expected C302, slot is empty"]


def test_pcsc_rig_file_is_refused_by_the_serial_opener(tmp_path: Path) -> None:
    from tokenrig.harness.tokens.base import InfrastructureError

    with pytest.raises(InfrastructureError, match=r"desk-reader: pcsc://.* not a serial rig"):
        open_rig(REPO / "rigs" / "examples" / "pcsc-reader.toml", lock_dir=tmp_path)
