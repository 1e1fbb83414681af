"""``tokenrig enroll``: a whole self-service enrollment from the command line, its usage
errors (exit 2) and a failing step named on stderr (exit 1)."""

from __future__ import annotations

import pytest

from fixtures.enrollment import EnrollSite
from harness.cli.main import main


def test_enroll_against_a_local_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["enroll", "--model", "C301"]) == 0
    out = capsys.readouterr().out
    assert "step 11 'Verify Your Account: submit the code': passed" in out
    assert "Authenticator App Enrollment Successful!" in out
    assert "enrolled tokenrig-cli-" in out
    assert "token C301 8659610" in out


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--email", "a@b.test"], "--email needs --url"),
        (["--url", "http://127.0.0.1:9"], "--url needs --email"),
        (["--model", "C999"], "--model 'C999': unknown model"),
        (["--screenshots", "/tmp/x"], "--screenshots needs --browser"),
        (["--slot", "0", "--rig", "sim"], "slots count from 1"),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["enroll", *argv]) == 2
    assert problem in capsys.readouterr().err


def test_missing_password_variable_is_a_usage_error(
    enroll_site: EnrollSite, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TOKENRIG_TEST_PW", raising=False)
    argv = ["enroll", "--url", enroll_site.url, "--email", "x@example.test"]
    assert main([*argv, "--password-env", "TOKENRIG_TEST_PW"]) == 2
    assert "set the user's password in $TOKENRIG_TEST_PW" in capsys.readouterr().err


def test_failing_step_is_named_and_exits_1(
    enroll_site: EnrollSite, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TOKENRIG_TEST_PW", "Canary-Wr0ng-pass")
    argv = ["enroll", "--url", enroll_site.url, "--email", "nobody@example.test"]
    assert main([*argv, "--password-env", "TOKENRIG_TEST_PW"]) == 1
    captured = capsys.readouterr()
    assert "step 1 'log in to the User Portal' failed: StepCheckError: login ended failed" in (
        captured.err
    )
    assert "Canary-Wr0ng-pass" not in captured.out + captured.err
