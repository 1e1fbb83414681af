"""The ``tokenrig_rig`` ini key: a project's default rig, used when ``--rig`` is not given.

A QA repository names its lab rig file once in its pytest configuration; the path is relative
to that file, so pytest started from another directory still finds it, and ``--rig`` on the
command line wins. Each case runs a real pytest session in a temporary project.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tokenrig.harness.packaged import plugin_args

RIG = """name = "{name}"
url = "sim"

[[slots]]
slot = 1
model = "C302"
"""
TEST = """
def test_which_rig(rig):
    print("RIG-NAME", rig.name)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "rigs").mkdir()
    (tmp_path / "rigs" / "lab.toml").write_text(RIG.format(name="lab"))
    (tmp_path / "other.toml").write_text(RIG.format(name="other"))
    (tmp_path / "pytest.ini").write_text("[pytest]\ntokenrig_rig = rigs/lab.toml\n")
    (tmp_path / "test_rig_name.py").write_text(TEST)
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", *plugin_args(), "-p", "no:randomly", "-s"]
    return subprocess.run(
        [*command, "-p", "no:cacheprovider", str(project / "test_rig_name.py"), *args],
        cwd=project / "elsewhere",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_ini_rig_is_found_relative_to_the_ini_file(project: Path) -> None:
    result = run(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RIG-NAME lab" in result.stdout


def test_rig_on_the_command_line_wins_over_the_ini_key(project: Path) -> None:
    result = run(project, "--rig", str(project / "other.toml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RIG-NAME other" in result.stdout


def test_a_missing_ini_rig_file_is_a_usage_error_naming_it(project: Path) -> None:
    (project / "pytest.ini").write_text("[pytest]\ntokenrig_rig = rigs/gone.toml\n")
    result = run(project)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "gone.toml" in result.stderr
    assert "Traceback" not in result.stderr
