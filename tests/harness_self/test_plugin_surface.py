"""The pytest plugin in a foreign suite: it adds its options and stays quiet about what the
suite does not use (no qualification header in a run without qualification tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_suite_without_qualification_tests_hears_nothing_of_a_profile(tmp_path: Path) -> None:
    (tmp_path / "test_mine.py").write_text("def test_mine():\n    pass\n")
    result = _pytest(tmp_path, "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "qualification profile" not in result.stdout


def test_the_qualification_suite_names_its_profile(tmp_path: Path) -> None:
    suite = REPO / "tokenrig" / "suites" / "qualification"
    result = _pytest(tmp_path, "--collect-only", "-q", str(suite))
    assert "qualification profile qa" in result.stdout, result.stdout + result.stderr
