"""Enrollment against a "real" org (the emulator reached over ``--jumpcloud URL`` with its key,
in a child pytest session): users a failed test made are swept, the org's TOTP factor is put
back, and the portal (user-side) steps run only with ``--live-portal``, in the browser, leaving
a screenshot when they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tokenrig.harness.jumpcloud import JumpCloudClient
from tokenrig.harness.jumpcloud.emulator import Emulator

REPO = Path(__file__).resolve().parents[2]
KEY = "enroll-live-key-0123456789abcdef"


def run_inner(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMPCLOUD_")}
    env.update({"PYTHONPATH": str(REPO), "JUMPCLOUD_API_KEY": KEY})
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:randomly"]
    return subprocess.run(
        [*command, "-p", "tokenrig.fixtures.enrollment", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


FAILS_MIDWAY = """
from tokenrig.harness.enroll import procedure as p

def test_admin_steps_then_a_failure(enroll_site):
    assert enroll_site.live
    p.enable_totp_for_org(enroll_site.admin)
    username, email = enroll_site.new_user()
    p.add_staged_user(enroll_site.admin, username, email)  # its id is never recorded
    username, email = enroll_site.new_user()
    enroll_site.created.append(p.add_staged_user(enroll_site.admin, username, email))
    assert False, "deliberate failure"
"""


def test_live_enrollment_failure_leaves_no_user_and_the_factor_as_it_was(tmp_path: Path) -> None:
    with Emulator(api_key=KEY) as emulator:
        admin = JumpCloudClient.connect(emulator.url, KEY)
        admin.set_totp_factor(False)
        admin.create_user("someone-else", "someone-else@example.test")
        result = run_inner(tmp_path, FAILS_MIDWAY, "--jumpcloud", emulator.url)
        left = sorted(user.username for user in admin.all_users())
        factor = admin.totp_factor().enabled
    assert "1 failed" in result.stdout, result.stdout + result.stderr
    assert left == ["someone-else"]  # both test users gone, nobody else's touched
    assert factor is False
    assert "restored TOTP factor: disabled" in result.stdout


PORTAL_TESTS = """
import pytest
from tokenrig.fixtures.enrollment import chromium_session

@pytest.fixture(scope="session")
def chromium():
    yield from chromium_session()

def test_portal(portal, enroll_site):
    assert enroll_site.live and enroll_site.live_portal
    assert False, "deliberate failure"

def test_api_portal(api_portal):
    pass
"""


def test_live_portal_steps_skip_without_the_flag_naming_it(tmp_path: Path) -> None:
    with Emulator(api_key=KEY) as emulator:
        result = run_inner(tmp_path, PORTAL_TESTS, "--jumpcloud", emulator.url)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "3 skipped" in out, out
    skips = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert skips, out
    assert all("run only with --live-portal" in line for line in skips), out


def test_live_portal_flag_runs_the_browser_and_screenshots_a_failure(tmp_path: Path) -> None:
    base = tmp_path / "base"
    with Emulator(api_key=KEY) as emulator:
        result = run_inner(
            tmp_path,
            PORTAL_TESTS,
            "--jumpcloud",
            emulator.url,
            "--live-portal",
            f"--basetemp={base}",
        )
    out = result.stdout
    assert "1 failed" in out, out + result.stderr
    assert "test_portal[browser]" in out  # the browser kind ran against the org
    assert "JSON calls are not public" in out  # the api kinds skipped, saying why
    shots = sorted(path.name for path in base.rglob("*.png"))
    assert any("failure" in name for name in shots), shots
