"""A rig that cannot be used is reported once, in one line, never as a pytest traceback.

Each case runs a real pytest in a subprocess with ``--rig`` pointing at something broken and
reads what a user would see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tokenrig.harness.rigs.lock import LOCK_DIR_ENV, RigLock

REPO = Path(__file__).resolve().parents[2]
TWO_RIG_TESTS = [
    "tests/rig/test_rig_fixtures.py::test_default_rig_is_a_simulated_rig_on_a_real_pty",
    "tokenrig/suites/rig_conformance/test_rig_conformance.py::test_idn_is_maker_model_serial_firmware",
]


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, LOCK_DIR_ENV: str(tmp_path / "locks")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            *list(args),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_malformed_rig_file_is_a_usage_error_not_an_internal_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\nurl = 'sim'\n[[slots]]\nslot = 1\nmodel = 'C999'\n")
    proc = _pytest(tmp_path, "--rig", str(bad), TWO_RIG_TESTS[0])
    out = proc.stdout + proc.stderr
    assert "INTERNALERROR" not in out
    assert "Traceback" not in out
    assert f"{bad}: slots[1].model" in out
    assert proc.returncode == 4  # pytest's usage-error exit status


def test_missing_rig_file_is_a_usage_error_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    proc = _pytest(tmp_path, "--rig", str(missing), TWO_RIG_TESTS[0])
    out = proc.stdout + proc.stderr
    assert "INTERNALERROR" not in out
    assert f"{missing}: (file): no such file" in out
    assert proc.returncode == 4


def _reported_once(out: str, text: str) -> None:
    """``text`` is in pytest's one exit report (``! Exit: ... !`` banner and summary line),
    not in per-test errors, collection errors or tracebacks."""
    lines = [line for line in out.splitlines() if text in line]
    assert lines, out
    assert all(line.startswith(("!", "Exit:")) for line in lines), out
    assert "Traceback" not in out
    assert "ERROR collecting" not in out
    assert "raise " not in out


def test_rig_that_cannot_be_opened_is_reported_once(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, "--rig", "/dev/ttyNOPE", *TWO_RIG_TESTS)
    _reported_once(proc.stdout + proc.stderr, "cannot open /dev/ttyNOPE")
    assert proc.returncode == 2


def test_busy_rig_is_reported_once_naming_the_holder(tmp_path: Path) -> None:
    url = "socket://127.0.0.1:9"
    with RigLock(url, lock_dir=tmp_path / "locks"):
        proc = _pytest(tmp_path, "--rig", url, *TWO_RIG_TESTS)
    _reported_once(proc.stdout + proc.stderr, f"in use by PID {os.getpid()}")
    assert proc.returncode == 2
