"""``tokenrig burn`` end to end: through the simulated rig's NFC pass-through (a real pty) and
through pcscd with virtual cards; refusals and usage errors exit 2 having written nothing."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from fixtures.nfc import CardSlots
from harness.cli.main import main
from harness.clock import SystemClock
from harness.otp.hotp import Algorithm, totp
from harness.sim.factory import make_sim_firmware
from harness.tokens.sim_token import SimToken

B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
SEED = b"12345678901234567890"
URI = f"otpauth://totp/Acme:alice?secret={B32}&issuer=Acme&algorithm=SHA256&period=60"


def test_burn_uri_through_the_sim_rig(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["burn", "--uri", URI, "--rig", "sim", "--slot", "2"]) == 0
    out = capsys.readouterr().out
    assert "burned rig sim slot 2: C302 8659632000002 SHA256/60s/6 digits" in out
    assert B32 not in out


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
    # The burn wrote a whole second, so the token's clock lags the host's by up to 1 s.
    assert reading.code in {
        totp(SEED, t, period=60, algorithm=Algorithm.SHA256)
        for t in (reading.host_time - 1.0, reading.host_time)
    }


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


def test_empty_rig_slot_fails_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["burn", "--uri", URI, "--rig", "sim", "--slot", "42"]) == 1
    assert "slot 42" in capsys.readouterr().err


def test_uri_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(URI + "\n"))
    assert main(["burn", "--uri", "-", "--rig", "sim", "--slot", "5"]) == 0
    assert "burned rig sim slot 5: C302" in capsys.readouterr().out
