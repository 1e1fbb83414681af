"""Rigs shared through labgrid places, against a real labgrid lab on loopback.

A real ``labgrid-coordinator`` and ``labgrid-exporter`` (ports chosen free, stopped by process
group) export simulated rigs on kernel ptys; places are made with the real ``labgrid-client``.
Another station is another ``LG_HOSTNAME``/``LG_USERNAME``: the real ``labgrid-client`` as a
colleague's station, or a second ``tokenrig`` process. Qualification runs in real time over the
RFC 2217 port the exporter's ser2net serves, with the procedures that need no soak.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tokenrig.fixtures.labgrid_lab import LabgridLab, labgrid_lab
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.rigs.config import RigConfig, RigFileError, load_rig_file
from tokenrig.harness.rigs.labgrid_client import LabgridError, PlaceBusy, station_identity
from tokenrig.harness.rigs.labgrid_kind import PlaceRef, hold, hold_places
from tokenrig.harness.rigs.rig import open_rig, rig_config_for
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer

FAST_REAL_TIME = """name = "labgrid-smoke"
description = "burn, clock after sync and power cycle, real time"
procedures = ["burn", "clock_offset", "power_cycle"]

[limits."clock.offset_resolution"]
high = 0.5  # this test is about the plumbing; a loaded CI host may poll slower
"""
# A station other than this test process's own (which is LG_HOSTNAME/LG_USERNAME unset).
ALICE = {"host": "station-a", "user": "alice"}
BOB = {"host": "station-b", "user": "bob"}
PLACES = {"bench-a": ("C302", "miniOTP-3"), "bench-b": ("OTPC-P1",)}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabgridLab]:
    """One lab for the module: an exporter ``righost`` with two simulated rigs, one place each."""
    servers = []
    ttys = {}
    for index, (place, models) in enumerate(PLACES.items()):
        firmwares = [
            make_sim_firmware(m, clock=SYSTEM_CLOCK, index=10 * (index + 1) + i, drift_ppm=2.0)
            for i, m in enumerate(models)
        ]
        rig = SimRig(firmwares, clock=SYSTEM_CLOCK, serial=f"LG-{index}", apdu_factory=card_for)
        server = PtyRigServer(rig).start()
        servers.append(server)
        ttys[place.replace("-", "_")] = server.path
    try:
        with labgrid_lab(tmp_path_factory.mktemp("labgrid")) as started:
            started.export("righost", ttys)
            for place in PLACES:
                group = place.replace("-", "_")
                started.create_place(place, f"righost/{group}/*", {"rig": "tokens"})
            yield started
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "fast.toml"
    path.write_text(FAST_REAL_TIME)
    return path


def _qualify(out: Path, profile: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "tokenrig", "qualify", *extra,
        "--profile", str(profile), "--out", str(out),
    ]  # fmt: skip


def _run(
    lab: LabgridLab, station: dict[str, str], argv: list[str], timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        env=lab.station_env(**station),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
def test_qualify_over_a_place_passes_and_gives_it_back(
    lab: LabgridLab, tmp_path: Path, profile: Path
) -> None:
    out = tmp_path / "out"
    argv = _qualify(out, profile, "--rig", "labgrid:bench-a")
    result = _run(lab, BOB, argv)
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((out / "records.json").read_text())
    assert [(t["rig"], t["slot"], t["verdict"]) for t in data["tokens"]] == [
        ("bench-a", 1, "pass"),
        ("bench-a", 2, "pass"),
    ]
    # Driven over the port the exporter served for this hold.
    assert [r["url"].split(":")[0] for r in data["run"]["rigs"]] == ["rfc2217"]
    assert lab.place("bench-a").holder is None


@pytest.mark.slow
def test_a_second_station_is_refused_naming_the_holder_then_waits_for_it(
    lab: LabgridLab, tmp_path: Path, profile: Path
) -> None:
    alice = lab.station_env(**ALICE)
    lab.client("-p", "bench-b", "acquire", env=alice)
    try:
        assert lab.place("bench-b").holder == "station-a/alice"
        refused = _run(lab, BOB, _qualify(tmp_path / "r", profile, "--rig", "labgrid:bench-b"))
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "labgrid place bench-b is held by station-a/alice" in refused.stderr
        assert "--wait" in refused.stderr
        assert not (tmp_path / "r").exists()  # refused before anything was prepared
        assert lab.place("bench-b").holder == "station-a/alice"  # untouched

        argv = _qualify(tmp_path / "w", profile, "--rig", "labgrid:bench-b", "--wait", "120")
        waiting = subprocess.Popen(
            argv,
            env=lab.station_env(**BOB),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.0)  # long enough for it to find the place held and reserve it
        assert waiting.poll() is None
        assert lab.place("bench-b").holder == "station-a/alice"
    finally:
        lab.client("-p", "bench-b", "release", env=alice)
    stdout, stderr = waiting.communicate(timeout=240)
    assert waiting.returncode == 0, stdout + stderr
    data = json.loads((tmp_path / "w" / "records.json").read_text())
    assert {t["verdict"] for t in data["tokens"]} == {"pass"}
    assert lab.place("bench-b").holder is None


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_place_is_released_when_the_holder_is_stopped(
    lab: LabgridLab, tmp_path: Path, profile: Path, signum: int
) -> None:
    argv = _qualify(tmp_path / "out", profile, "--rig", "labgrid:bench-a")
    holder = subprocess.Popen(
        argv, env=lab.station_env(**BOB), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        held = lab.wait_holder("bench-a", "station-b/bob")
        assert held.holder == "station-b/bob", holder.stderr
        time.sleep(1.0)  # into the suite, with the place held
        holder.send_signal(signum)
        _, stderr = holder.communicate(timeout=60)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert holder.returncode == 128 + signum, stderr
    assert lab.place("bench-a").holder is None


def test_open_rig_acquires_reads_and_releases_in_process(
    lab: LabgridLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rig_file = tmp_path / "shared.toml"
    rig_file.write_text(
        f'name = "shared-a"\n[labgrid]\nplace = "bench-a"\ncoordinator = "{lab.address}"\n'
        '\n[[slots]]\nslot = 1\nmodel = "C302"\n'
    )
    config = load_rig_file(rig_file)
    assert config.kind == "labgrid"
    with open_rig(config, lock_dir=tmp_path / "locks") as rig:
        assert lab.place("bench-a").holder == station_identity()
        assert rig.url.startswith("rfc2217://127.0.0.1:")
        assert [s.model for s in rig.slots() if s.present] == ["C302", "miniOTP-3"]
        assert rig.mismatches() == []
        first_url = rig.url
    assert lab.place("bench-a").holder is None
    # Each hold is served afresh (a new ser2net); the ad-hoc form reads LG_COORDINATOR.
    monkeypatch.setenv("LG_COORDINATOR", lab.address)
    with open_rig("labgrid:bench-a", lock_dir=tmp_path / "locks") as rig:
        assert rig.name == "bench-a"
        assert rig.url != first_url
    assert lab.place("bench-a").holder is None
    # By tag: the first free place with the tag, named after it.
    with open_rig("labgrid:rig=tokens", lock_dir=tmp_path / "locks") as rig:
        assert rig.name == "bench-a"
        assert lab.place("bench-a").holder == station_identity()
        assert lab.place("bench-b").holder is None
    assert lab.place("bench-a").holder is None


def test_a_place_held_elsewhere_is_place_busy_and_nothing_is_taken(
    lab: LabgridLab, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LG_COORDINATOR", lab.address)
    alice = lab.station_env(**ALICE)
    lab.client("-p", "bench-b", "acquire", env=alice)
    try:
        started = time.monotonic()
        with pytest.raises(PlaceBusy) as caught:
            open_rig("labgrid:bench-b", lock_dir=tmp_path / "locks", lock_wait=1.0)
        assert time.monotonic() - started >= 1.0  # it did wait, through a reservation
        assert caught.value.holder == "station-a/alice"
        assert "after waiting 1 s" in str(caught.value)
        assert lab.place("bench-b").holder == "station-a/alice"
        reservations = lab.client("reservations", env=alice).stdout
        assert "Reservation" not in reservations  # the waiting reservation was cancelled
    finally:
        lab.client("-p", "bench-b", "release", env=alice)


def test_unknown_place_and_unreachable_coordinator_are_one_line_errors(
    lab: LabgridLab, tmp_path: Path, profile: Path
) -> None:
    result = _run(lab, BOB, _qualify(tmp_path / "o", profile, "--rig", "labgrid:nope"))
    assert result.returncode == 2
    assert "no place 'nope' (places: bench-a, bench-b)" in result.stderr
    assert "Traceback" not in result.stderr
    env = {**lab.station_env(**BOB), "LG_COORDINATOR": "127.0.0.1:1"}
    argv = _qualify(tmp_path / "o2", profile, "--rig", "labgrid:bench-a")
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "labgrid coordinator 127.0.0.1:1: not reachable" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('name = "x"\nurl = "/dev/ttyACM0"\n[labgrid]\nplace = "a"\n', "url"),
        ('name = "x"\n[labgrid]\nplace = "a"\nwho = "me"\n', "labgrid.who"),
        ('name = "x"\n[labgrid]\ncoordinator = "h:1"\n', "labgrid.place"),
        ('name = "x"\nkind = "labgrid"\n', "labgrid"),
        ('name = "x"\nurl = "labgrid:bench-a"\n', "url"),
        ('name = "x"\n[labgrid]\nplace = "a"\ntags = {rig = "t"}\n', "labgrid.place"),
        ('name = "x"\n[labgrid]\ntags = {Rig = "t"}\n', "labgrid.tags"),
    ],
)
def test_bad_labgrid_rig_files_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(RigFileError) as caught:
        load_rig_file(path)
    assert caught.value.key == key


def test_labgrid_targets_are_claimed_by_the_labgrid_kind() -> None:
    config = rig_config_for("labgrid:bench-a")
    assert (config.kind, config.name, config.options) == (
        "labgrid",
        "bench-a",
        {"labgrid": {"place": "bench-a"}},
    )
    tagged = rig_config_for("labgrid:rig=tokens,site=b")
    assert tagged.options == {"labgrid": {"tags": {"rig": "tokens", "site": "b"}}}
    with pytest.raises(RigFileError):
        rig_config_for("labgrid:")


@pytest.mark.slow
def test_a_tag_qualifies_every_free_place_one_worker_each(
    lab: LabgridLab, tmp_path: Path, profile: Path
) -> None:
    alice = lab.station_env(**ALICE)
    lab.client("-p", "bench-b", "acquire", env=alice)
    try:
        out = tmp_path / "one"
        argv = _qualify(out, profile, "--rig", "labgrid:rig=tokens", "--jobs", "2")
        result = _run(lab, BOB, argv)
    finally:
        lab.client("-p", "bench-b", "release", env=alice)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "labgrid place bench-b (labgrid:rig=tokens) is held by station-a/alice" in result.stderr
    assert "using 1" in result.stderr  # one place left: one worker
    data = json.loads((out / "records.json").read_text())
    assert sorted({t["rig"] for t in data["tokens"]}) == ["bench-a"]

    out = tmp_path / "both"
    result = _run(lab, BOB, _qualify(out, profile, "--rig", "labgrid:rig=tokens", "--jobs", "2"))
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads((out / "records.json").read_text())
    assert sorted((t["rig"], t["slot"]) for t in data["tokens"]) == [
        ("bench-a", 1),
        ("bench-a", 2),
        ("bench-b", 1),
    ]
    assert {t["verdict"] for t in data["tokens"]} == {"pass"}
    parts = [json.loads(p.read_text()) for p in sorted((out / "parts").glob("records-gw*.json"))]
    assert sorted(sorted({t["rig"] for t in part["tokens"]}) for part in parts) == [
        ["bench-a"],
        ["bench-b"],
    ]
    assert lab.place("bench-a").holder is None
    assert lab.place("bench-b").holder is None


def test_rigs_lists_the_places_with_tags_holder_and_port(
    lab: LabgridLab, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tokenrig.harness.cli.main import main

    alice = lab.station_env(**ALICE)
    lab.client("-p", "bench-b", "acquire", env=alice)
    try:
        status = main(["rigs", "--no-usb", "--dir", str(tmp_path), "--labgrid", lab.address])
    finally:
        lab.client("-p", "bench-b", "release", env=alice)
    assert status == 0
    lines = capsys.readouterr().out.splitlines()
    start = lines.index(f"labgrid places (coordinator {lab.address}):")
    a, b = lines[start + 1 :]
    assert a.split()[:4] == ["bench-a", "tags", "rig=tokens", "free"]
    assert "righost/bench_a/NetworkSerialPort/RawSerialPort available" in a
    assert "held by station-a/alice" in b


@pytest.mark.slow
def test_burn_enroll_and_pytest_take_a_place_and_give_it_back(lab: LabgridLab) -> None:
    uri = "otpauth://totp/a@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=T"
    tokenrig = [sys.executable, "-m", "tokenrig"]
    burn = [*tokenrig, "burn", "--uri", uri, "--rig", "labgrid:bench-a", "--slot", "1"]
    result = _run(lab, BOB, burn)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "burned rig bench-a slot 1: C302" in result.stdout
    assert lab.place("bench-a").holder is None

    result = _run(lab, BOB, [*tokenrig, "enroll", "--rig", "labgrid:bench-a"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "enrolled tokenrig-cli-" in result.stdout
    assert lab.place("bench-a").holder is None

    pytest_run = [sys.executable, "-m", "pytest", "tokenrig/suites/rig_conformance"]
    pytest_run += [
        "--rig",
        "labgrid:bench-a",
        "-q",
        "-p",
        "no:randomly",
        "-k",
        "idn or major or echoed",
    ]
    result = _run(lab, BOB, pytest_run)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout
    assert lab.place("bench-a").holder is None

    alice = lab.station_env(**ALICE)
    lab.client("-p", "bench-a", "acquire", env=alice)
    try:
        refused = _run(lab, BOB, burn)
        held = _run(lab, BOB, [*pytest_run, "--rig-wait", "0.5"])
    finally:
        lab.client("-p", "bench-a", "release", env=alice)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "labgrid place bench-a is held by station-a/alice" in refused.stderr
    assert held.returncode == 2, held.stdout + held.stderr
    assert "held by station-a/alice" in held.stdout + held.stderr
    assert "after waiting 0.5 s" in held.stdout + held.stderr


def test_a_coordinator_gone_mid_run_is_said_at_release_not_raised(tmp_path: Path) -> None:
    firmware = make_sim_firmware("C302", clock=SYSTEM_CLOCK, index=1)
    with (
        PtyRigServer(SimRig([firmware], clock=SYSTEM_CLOCK)) as server,
        labgrid_lab(tmp_path / "lab") as short_lived,
    ):
        short_lived.export("h", {"bench": server.path})
        short_lived.create_place("bench", "h/bench/*")
        table = {"place": "bench", "coordinator": short_lived.address}
        config = RigConfig(name="bench", kind="labgrid", options={"labgrid": table})
        notes: list[str] = []
        with contextlib.ExitStack() as stack:
            [(_, served)] = hold_places([config], stack, note=notes.append)
            assert served is not None
            assert str(served.url).startswith("rfc2217://127.0.0.1:")
            short_lived.stop_coordinator()
        # The run's verdict stands; the release failure is one line saying what to do.
        assert len(notes) == 1
        assert "labgrid place bench: release failed" in notes[0]
        assert "labgrid-client -p bench release" in notes[0]
        with pytest.raises(LabgridError, match="not reachable"):
            hold(PlaceRef(place="bench", coordinator=short_lived.address))


def test_without_the_labgrid_extra_a_place_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # labgrid's modules made unimportable, as on an install without the extra.
    for name in ("labgrid", "labgrid.remote", "labgrid.remote.client"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(LabgridError, match=r"pip install 'tokenrig\[labgrid\]'"):
        open_rig("labgrid:bench-a", lock=False)
