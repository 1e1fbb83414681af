"""``tokenrig burn`` end to end: through the simulated rig's NFC pass-through (a real pty) and
through pcscd with virtual cards; refusals and usage errors exit 2 having written nothing."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from tokenrig.fixtures.nfc import CardSlots
from tokenrig.harness.cli.main import main
from tokenrig.harness.clock import SYSTEM_CLOCK, SystemClock
from tokenrig.harness.otp.hotp import Algorithm, totp
from tokenrig.harness.rigs.rig import open_rig
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer
from tokenrig.harness.tokens.sim_token import SimToken

B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
SEED = b"12345678901234567890"
URI = f"otpauth://totp/Acme:alice?secret={B32}&issuer=Acme&algorithm=SHA256&period=60"


def test_burn_uri_through_the_sim_rig(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["burn", "--uri", URI, "--rig", "sim", "--slot", "2"]) == 0
    out = capsys.readouterr().out
    assert "burned rig sim slot 2: C302 8659632000002 SHA256/60s/6 digits" in out
    assert B32 not in out


@contextlib.contextmanager
def sim_rig(*slots: SimFirmware | None) -> Iterator[str]:
    """A simulated rig on a real pty that outlives the CLI call, so the test can look at it."""
    with PtyRigServer(SimRig(list(slots), clock=SYSTEM_CLOCK, apdu_factory=card_for)) as server:
        yield server.url


def test_burned_rig_token_shows_the_uris_code_on_its_display(
    capsys: pytest.CaptureFixture[str],
) -> None:
    firmware = make_sim_firmware("C302", clock=SYSTEM_CLOCK, index=2, rtc_offset=-400.0)
    with sim_rig(make_sim_firmware("C301", clock=SYSTEM_CLOCK, index=1), firmware) as url:
        assert main(["burn", "--uri", URI, "--rig", url, "--slot", "2"]) == 0
        assert f"slot 2: C302 {firmware.identity.serial} SHA256/60s" in capsys.readouterr().out
        with open_rig(url, lock=False) as rig:  # what a QA engineer's next command would see
            token = rig.token(2)
            token.power_cycle()
            token.press()
            reading = token.read_display()
    oracle = pyotp.TOTP(B32, digest="sha256", interval=60)
    # In phase: only the reading's own round trip is uncertain, not a second of clock lag.
    assert reading.code in {
        oracle.at(reading.host_time - reading.uncertainty),
        oracle.at(reading.host_time + reading.uncertainty),
    }


def test_a_seed_file_slot_the_rig_lacks_refuses_the_batch_before_any_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = make_sim_firmware("C302", clock=SYSTEM_CLOCK, index=1)
    seeds = tmp_path / "seeds.csv"
    seeds.write_text(f"slot,secret\n1,{B32}\n2,{B32}\n9,{B32}\n")
    seeds.chmod(0o600)
    with sim_rig(first, None, make_sim_firmware("C301", clock=SYSTEM_CLOCK, index=3)) as url:
        assert main(["burn", "--seeds", str(seeds), "--rig", url]) == 2
    err = capsys.readouterr().err
    assert f"{seeds}:3: slot 2: empty on rig {url}" in err
    assert f"{seeds}:4: slot 9: rig {url} has slots 1..3" in err
    assert err.rstrip().endswith("; nothing written")
    assert not first.has_seed(), "row 1 was fine, but the batch stops before its write"


def test_a_world_readable_seed_file_is_warned_about_once(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text(f"slot,secret\n1,{B32}\n")
    seeds.chmod(0o644)
    run = subprocess.run(
        [sys.executable, "-m", "tokenrig", "burn", "--seeds", str(seeds), "--rig", "sim"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("readable by every user") == 1, run.stderr


def test_a_wrong_molto2_key_names_the_variable_and_the_tries_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "0123456789abcdef0123456789abcdef"
    monkeypatch.setenv("TOKENRIG_MOLTO2_KEY", wrong)
    assert main(["burn", "--uri", URI, "--rig", "sim", "--slot", "6"]) == 1  # slot 6: Molto2
    err = capsys.readouterr().err
    assert "rig sim slot 6" in err
    assert "$TOKENRIG_MOLTO2_KEY" in err
    assert "9 tries left" in err
    assert wrong not in err.lower()


def test_burn_seed_file_of_rig_slots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text(f"slot,secret,algorithm,period\n1,{B32},SHA1,30\n6,{B32},SHA256,60\n")
    seeds.chmod(0o600)
    assert main(["burn", "--seeds", str(seeds), "--rig", "sim"]) == 0
    out = capsys.readouterr().out
    assert "burned rig sim slot 1: miniOTP-2" in out
    assert "burned rig sim slot 6: Molto2" in out


def test_a_row_the_model_cannot_honour_stops_the_whole_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text(f"slot,secret,digits\n1,{B32},6\n2,{B32},8\n")
    seeds.chmod(0o600)
    assert main(["burn", "--seeds", str(seeds), "--rig", "sim"]) == 2
    captured = capsys.readouterr()
    assert "slot 2: refused, nothing written: C302: digits: 8 not supported" in captured.err
    assert "burned" not in captured.out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--uri", URI, "--slot", "2"], "--slot needs --rig"),
        (["--uri", URI, "--reader", "x", "--rig", "sim"], "not both"),
        (["--uri", "otpauth://totp/x?issuer=y"], "--uri: "),
        (["--uri", f"otpauth://hotp/x?secret={B32}&counter=1"], "HOTP"),
        (["--uri", URI, "--rig", "sim"], "--rig needs --slot"),
        (["--uri", URI, "--model", "nokia"], "unknown token model"),
        (["--seeds", "seeds.csv", "--rig", "sim", "--slot", "1"], "--slot goes with --uri"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["burn", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert B32 not in err


def test_bad_seed_file_names_the_cell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("slot,secret\n1,not-base32!\n")
    assert main(["burn", "--seeds", str(seeds), "--rig", "sim"]) == 2
    assert f"{seeds}:2: column 2 (secret): not base32" in capsys.readouterr().err


@pytest.mark.xdist_group("pcscd")
def test_burn_uri_on_a_pcsc_reader(
    card_slots: CardSlots, capsys: pytest.CaptureFixture[str]
) -> None:
    firmware = make_sim_firmware("miniOTP-3", clock=SystemClock())
    card_slots.insert(firmware)
    reader = card_slots.reader()
    assert main(["burn", "--uri", URI, "--reader", reader]) == 0
    assert f"burned {reader} token {firmware.identity.serial}" in capsys.readouterr().out
    display = SimToken(firmware)
    display.power_cycle()
    display.press()
    reading = display.read_display()
    # The burn writes the clock on a whole host second: the token counts in phase.
    assert reading.code == totp(SEED, reading.host_time, period=60, algorithm=Algorithm.SHA256)


@pytest.mark.xdist_group("pcscd")
def test_burn_seed_file_by_serial_across_readers(
    card_slots: CardSlots, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = SystemClock()
    first = make_sim_firmware("C301", clock=clock, index=11)
    second = make_sim_firmware("C302", clock=clock, index=12)
    card_slots.insert(first, slot=0)
    card_slots.insert(second, slot=1)
    seeds = tmp_path / "seeds.csv"
    seeds.write_text(
        f"serial,secret,algorithm,period\n"
        f"{second.identity.serial},{B32},SHA1,30\n{first.identity.serial},{B32},SHA256,60\n"
    )
    seeds.chmod(0o600)
    assert main(["burn", "--seeds", str(seeds)]) == 0
    out = capsys.readouterr().out
    assert first.identity.serial in out
    assert second.identity.serial in out
    assert first.has_seed()
    assert second.has_seed()
    assert first.config().algorithm is Algorithm.SHA256
    assert second.config().period == 30


@pytest.mark.xdist_group("pcscd")
def test_unknown_reader_is_a_usage_error(
    card_slots: CardSlots, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["burn", "--uri", URI, "--reader", "no such reader"]) == 2
    err = capsys.readouterr().err
    assert "no PC/SC reader named 'no such reader'" in err
    assert card_slots.reader() in err


def test_a_slot_the_rig_lacks_is_a_usage_error_without_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["burn", "--uri", URI, "--rig", "sim", "--slot", "42"]) == 2
    err = capsys.readouterr().err
    assert "--slot 42:" in err
    assert "Traceback" not in err


def test_uri_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(URI + "\n"))
    assert main(["burn", "--uri", "-", "--rig", "sim", "--slot", "5"]) == 0
    assert "burned rig sim slot 5: C302" in capsys.readouterr().out
