"""``HYPOTHESIS_PROFILE`` picks the property-test budget; a wrong name is a usage error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from tokenrig.fixtures.options import PROFILES, hypothesis_profile

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, "dev"), ({"CI": "1"}, "ci"), ({"HYPOTHESIS_PROFILE": "hil", "CI": "1"}, "hil")],
)
def test_the_profile_comes_from_the_environment(environ: dict[str, str], expected: str) -> None:
    assert hypothesis_profile(environ) == expected


def test_every_listed_profile_is_registered() -> None:
    for name in PROFILES:
        assert hypothesis_profile({"HYPOTHESIS_PROFILE": name}) == name
        assert settings.get_profile(name).deadline is None


def test_an_unknown_profile_names_the_variable_and_the_valid_names() -> None:
    with pytest.raises(pytest.UsageError) as info:
        hypothesis_profile({"HYPOTHESIS_PROFILE": "foo"})
    assert (
        str(info.value)
        == "HYPOTHESIS_PROFILE='foo' is not a hypothesis profile; use one of dev, ci, hil"
    )


def test_pytest_reports_an_unknown_profile_without_a_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", __file__],
        cwd=PROJECT,
        env={**os.environ, "HYPOTHESIS_PROFILE": "foo"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "HYPOTHESIS_PROFILE='foo' is not a hypothesis profile; use one of dev, ci, hil" in (
        result.stderr
    )
