"""``tokenrig otp code|uri|offset``: output, exit statuses, and errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli.main import main

SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["otp", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_code_prints_the_rfc_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "code", "--secret", SEED, "--digits", "8", "--time", "1111111109") == (
        0,
        "07081804\n",
        "",
    )
    status, out, _ = run(
        capsys, "code", "--secret", SEED, "--time", "59.9", "--algorithm", "sha256"
    )
    assert status == 0
    assert len(out.strip()) == 6


def test_code_for_now_is_six_digits(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "code", "--secret", "gezd gnbv gy3t qojq gezd gnbv gy3t qojq")
    assert status == 0
    assert out.strip().isdigit()
    assert len(out.strip()) == 6


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["code", "--secret", "GEZ1GNBV"], "--secret: character '1' at position 3"),
        (["code", "--secret", SEED, "--digits", "12"], "digits must be 4..10"),
        (["code", "--secret", SEED, "--period", "0"], "period must be a positive"),
        (["code", "--secret", SEED, "--time", "-5"], "--time must be seconds since 1970"),
        (["offset", "--secret", SEED, "--code", "1", "--time", "0", "--window", "-1"], "--window"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.startswith("tokenrig otp: ")
    assert message in err
    assert err.count("\n") == 1


def test_uri_prints_fields_and_warnings_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(
        capsys, "uri", f"otpauth://totp/ACME%3Aalice?secret={SEED}&issuer=ACME&algorithm=sha1"
    )
    assert status == 0
    assert err == ""
    fields = json.loads(out)
    assert fields["issuer"] == "ACME"
    assert fields["account"] == "alice"
    assert fields["secret"]["bits"] == 160
    assert SEED not in out
    assert {w["field"] for w in fields["warnings"]} == {"label", "algorithm"}


def test_uri_strict_error_goes_to_stderr_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(
        capsys, "uri", "--strict", f"otpauth://totp/A:b?secret={SEED}&algorithm=sha1"
    )
    assert (status, out) == (2, "")
    assert err == (
        "tokenrig otp: algorithm: 'sha1' should be written SHA1; Google Authenticator and "
        "pyotp refuse other spellings\n"
    )
    status, _, err = run(capsys, "uri", "phonefactor://activate")
    assert status == 2
    assert "Microsoft Authenticator" in err


def test_offset_prints_the_step_offset_or_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    # RFC 4226 counter 3 is the code of t=90..119; seen at t=30 it is two steps ahead
    assert run(capsys, "offset", "--secret", SEED, "--code", "969429", "--time", "30") == (
        0,
        "2\n",
        "",
    )
    assert run(capsys, "offset", "--secret", SEED, "--code", "969429", "--time", "150") == (
        0,
        "-2\n",
        "",
    )
    status, out, err = run(
        capsys, "offset", "--secret", SEED, "--code", "969429", "--time", "300", "--window", "3"
    )
    assert (status, out) == (1, "")
    assert "not found within ±3 steps" in err


def test_the_installed_command_runs_without_traceback() -> None:
    script = Path(sys.executable).with_name("tokenrig")
    assert script.is_file(), f"console script missing at {script}: is the project installed?"
    result = subprocess.run(
        [str(script), "otp", "uri", "otpauth://totp/x?secret=1"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("tokenrig otp: secret: invalid base32")
