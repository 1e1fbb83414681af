"""``tokenrig enroll``: a whole self-service enrollment from the command line, its usage
errors (exit 2, before anything runs) and a failing step named once on stderr (exit 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokenrig.fixtures.enrollment import EnrollSite
from tokenrig.harness.cli.main import main

REPO = Path(__file__).resolve().parents[2]


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
        (
            ["--slot", "99", "--rig", str(REPO / "tokenrig" / "rigs" / "sim.toml")],
            "--slot 99: rig sim slot 99: SLOT? refused: ERR 200 no such slot",
        ),
        (
            ["--url", "ftp://127.0.0.1/", "--email", "a@b.test"],
            "--url ftp://127.0.0.1/: not a portal address; give http(s)://host[:port]",
        ),
        (
            ["--url", "127.0.0.1:8080", "--email", "a@b.test"],
            "--url 127.0.0.1:8080: not a portal address",
        ),
        (
            ["--browser", "--screenshots", str(REPO / "pyproject.toml" / "shots")],
            "/pyproject.toml/shots: cannot write screenshots there: Not a directory",
        ),
    ],
)
def test_usage_errors_exit_2(
    argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["enroll", *argv]) == 2
    captured = capsys.readouterr()
    assert problem in captured.err
    assert "Traceback" not in captured.out + captured.err
    assert "step 1" not in captured.out, "a usage error must stop before the first step"


def test_missing_password_variable_is_a_usage_error(
    enroll_site: EnrollSite, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TOKENRIG_TEST_PW", raising=False)
    argv = ["enroll", "--url", enroll_site.url, "--email", "x@example.test"]
    assert main([*argv, "--password-env", "TOKENRIG_TEST_PW"]) == 2
    assert "set the user's password in $TOKENRIG_TEST_PW" in capsys.readouterr().err


def test_failing_step_is_printed_once_on_stderr(enroll_site: EnrollSite) -> None:
    """As a user runs it (a fresh process, logging not set up): the failed step appears once,
    not again through logging's last-resort handler, and passed steps go to stdout."""
    env = {**os.environ, "TOKENRIG_TEST_PW": "Canary-Wr0ng-pass"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "tokenrig.harness.cli.main",
            "enroll",
            "--url",
            enroll_site.url,
            "--email",
            "nobody@example.test",
            "--password-env",
            "TOKENRIG_TEST_PW",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout == ""
    assert run.stderr.count("'log in to the User Portal'") == 1, run.stderr
    assert run.stderr.startswith("tokenrig enroll: step 1 'log in to the User Portal' failed")


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
