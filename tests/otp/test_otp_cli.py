"""``tokenrig otp code|uri|offset``: output, exit statuses, and errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tokenrig.harness.cli.main import main
from tokenrig.harness.otp.hotp import RFC_MIN_DIGITS, hotp

SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
SEED_KEY = b"12345678901234567890"


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
        (["code", "--secret", "GEZ1GNBV"], "--secret: a digit other than 2-7 at position 3"),
        (["code", "--secret", SEED, "--digits", "12"], "digits must be 4..10"),
        (["code", "--secret", SEED, "--period", "0"], "period must be a positive"),
        (["code", "--secret", SEED, "--time", "-5"], "--time must be seconds since 1970"),
        (["offset", "--secret", SEED, "--code", "1", "--time", "0", "--window", "-1"], "--window"),
        (
            ["offset", "--secret", SEED, "--code", "96942O", "--time", "30"],
            "--code must be the digits 0-9 only; position 5 is not a digit",
        ),
        (
            ["offset", "--secret", SEED, "--code", "96942", "--time", "30"],
            "--code has 5 digit(s) but --digits is 6",
        ),
        (
            ["offset", "--secret", SEED, "--code", "07081804", "--time", "30"],
            "--code has 8 digit(s) but --digits is 6",
        ),
        (["offset", "--secret", SEED, "--code", " ", "--time", "30"], "--code is empty"),
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


@pytest.mark.parametrize("action", ["code", "offset"])
@pytest.mark.parametrize("digits", [4, 5])
def test_digits_below_the_rfc_minimum_get_a_note_on_stderr(
    capsys: pytest.CaptureFixture[str], action: str, digits: int
) -> None:
    code = hotp(SEED_KEY, 1, digits=digits)  # t=59 is step 1
    argv = ["--secret", SEED, "--digits", str(digits), "--time", "59"]
    if action == "offset":
        argv += ["--code", code]
    status, out, err = run(capsys, action, *argv)
    assert (status, out) == (0, "0\n" if action == "offset" else f"{code}\n")
    assert err == (
        f"tokenrig otp: note: {digits} digits is below RFC 4226's minimum of {RFC_MIN_DIGITS}\n"
    )


@pytest.mark.parametrize("digits", [RFC_MIN_DIGITS, 8])
def test_no_note_at_or_above_the_rfc_minimum(
    capsys: pytest.CaptureFixture[str], digits: int
) -> None:
    status, _, err = run(capsys, "code", "--secret", SEED, "--digits", str(digits), "--time", "59")
    assert (status, err) == (0, "")


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
