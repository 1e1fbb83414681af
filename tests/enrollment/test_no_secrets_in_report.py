"""No seed and no password in the test report: run real enrollments (one in the browser, one
that fails at a step) with a canary seed and a canary password into an allure results
directory, then search every file there and pytest's output for them in every spelling, and
try to read a QR code out of every screenshot.

The failing run matters most: a failure puts a traceback with local variables (``-l``) into the
report, the place a seed or a password is most likely to slip out. It also shows a failed step
reported by allure as *failed*, not *broken*.

Not an NFC run: this test starts a second pytest session, and pcscd is one per machine. When
the session running this test has already started its pcscd (any NFC test before it), the
child's pcscd fixture would wait on the pcscd lock for a daemon that stops only when this
session ends, i.e. after the child has timed out. The NFC token's burn path logs through the
same wire log and step runner checked here.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from tokenrig.harness.enroll.qr import find_qr_texts

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CANARY_SEED = b"tokenrig-canary-seed"  # 20 bytes, the emulator's default seed size
CANARY_PASSWORD = "Canary-Passw0rd-q7xz"
RUNS = [
    "tests/enrollment/test_enrollment_paths.py::test_admin_path[browser-pty-rig]",
    "tests/enrollment/test_enrollment_paths.py::test_self_service_path[api-pty-rig]",
    "tests/enrollment/test_enrollment_paths.py::test_admin_path[api-pty-rig]",
]
FAILING_RUN = "test_admin_path[api-pty-rig]"
"""The plugin makes this one submit a wrong code, so it fails at "Verify Your Account"."""

PLUGIN = f'''
"""Test-only plugin: the emulator hands out the canary seed, the fixtures the canary password;
each use is counted in a file next to this plugin (proof the canaries were really used).
In {FAILING_RUN} the enrollment code is entered wrong, so that test fails at a step."""
import pathlib

import tokenrig.fixtures.enrollment as enrollment
import tokenrig.harness.enroll.procedure as procedure
import tokenrig.harness.jumpcloud.emulator.portal_flows as flows
from tokenrig.harness.enroll.token_part import TokenCode
from tokenrig.harness.secrets import Secret, SecretText

HERE = pathlib.Path(__file__).parent


def _count(name):
    with open(HERE / name, "a") as tally:
        tally.write("x")


def _seed(nbytes=20):
    _count("seeds-used")
    return Secret({CANARY_SEED!r}, "TOTP seed")


def _password():
    _count("passwords-used")
    return SecretText({CANARY_PASSWORD!r}, "portal password")


_right_code = procedure.submit_enrollment_code


def _wrong_code(portal, code):
    wrong = TokenCode(f"{{(int(code.code) + 1) % 1_000_000:06d}}", code.reading)
    return _right_code(portal, wrong)


def pytest_configure(config):
    flows.new_totp_secret = _seed
    enrollment.new_password = _password


def pytest_runtest_setup(item):
    failing = item.name == {FAILING_RUN!r}
    procedure.submit_enrollment_code = _wrong_code if failing else _right_code
'''


def _spellings() -> dict[str, bytes]:
    b32 = base64.b32encode(CANARY_SEED).decode()
    forms = {
        "seed (raw)": CANARY_SEED,
        "seed (hex)": CANARY_SEED.hex().encode(),
        "seed (HEX)": CANARY_SEED.hex().upper().encode(),
        "seed (base32)": b32.rstrip("=").encode(),
        "seed (base32, lower)": b32.rstrip("=").lower().encode(),
        "seed (base64)": base64.b64encode(CANARY_SEED),
        "password": CANARY_PASSWORD.encode(),
        "password (url-encoded)": urllib.parse.quote(CANARY_PASSWORD).encode(),
    }
    # A seed split into 4-character groups, as some apps print it.
    forms["seed (grouped)"] = " ".join(
        b32.rstrip("=")[i : i + 4] for i in range(0, len(b32.rstrip("=")), 4)
    ).encode()
    return forms


def test_allure_results_carry_no_seed_and_no_password(tmp_path: Path) -> None:
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    (plugin_dir / "canary_plugin.py").write_text(PLUGIN)
    results = tmp_path / "allure-results"
    env = {**os.environ, "PYTHONPATH": f"{plugin_dir}{os.pathsep}{REPO}"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *RUNS,
            "-p",
            "canary_plugin",
            "-q",
            "--showlocals",
            f"--alluredir={results}",
            "-p",
            "no:randomly",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, run.stdout[-3000:] + run.stderr[-2000:]
    assert "1 failed, 2 passed" in run.stdout, run.stdout[-3000:]
    output = (run.stdout + run.stderr).encode()
    assert (plugin_dir / "seeds-used").read_text() == "xxx", "the canary seed was not used"
    assert (plugin_dir / "passwords-used").read_text() == "xxx", "canary password not used"

    files = sorted(results.iterdir())
    results_json = [
        json.loads(path.read_text()) for path in files if path.name.endswith("-result.json")
    ]
    outcomes = {result["name"]: result["status"] for result in results_json}
    assert sorted(outcomes.values()) == ["failed", "passed", "passed"], outcomes
    assert outcomes[FAILING_RUN] == "failed", "a failed step must not be reported as broken"
    failed = next(result for result in results_json if result["name"] == FAILING_RUN)
    assert re.search(
        r"step \d+ 'Verify Your Account: submit the code' failed: "
        r"StepCheckError: code \d{6} was rejected",
        failed["statusDetails"]["message"],
    ), failed["statusDetails"]["message"]
    assert "enroll_password = " in failed["statusDetails"]["trace"], "no locals in the trace"
    pngs = [path for path in files if path.suffix == ".png"]
    texts = [path for path in files if path.name.endswith("-attachment.txt")]
    assert len(pngs) >= 10, "the browser run attached too few screenshots to mean anything"
    assert any(b"decode QR code" in path.read_bytes() for path in texts), "no step log attached"

    leaks = [
        f"{what} in {path.name}"
        for path in files
        for what, needle in _spellings().items()
        if needle in path.read_bytes()
    ]
    leaks += [
        f"{what} in pytest output" for what, needle in _spellings().items() if needle in output
    ]
    assert not leaks, leaks

    readable = [(path.name, text) for path in pngs for text in find_qr_texts(path.read_bytes())]
    assert readable == [], f"screenshots with a readable QR code: {[n for n, _ in readable]}"
