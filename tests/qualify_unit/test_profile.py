"""Profiles: the built-in ones load, a copied one can change limits, a broken one says where."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from tokenrig.harness.qualify.catalogue import DEFINITIONS
from tokenrig.harness.qualify.profile import PROCEDURES, ProfileError, load_profile, parse_profile


def test_builtin_profiles() -> None:
    qa = load_profile("qa")
    vendor = load_profile("vendor")
    assert qa.soak.virtual == 30 * 86400
    assert qa.verifier == "jumpcloud"
    assert set(vendor.procedures) == set(PROCEDURES)  # vendor: everything
    assert set(qa.procedures) < set(vendor.procedures)
    assert vendor.burn_configs == "all"
    for name in qa.limits:
        assert name in DEFINITIONS


def test_a_copied_profile_changes_limits(tmp_path: Path) -> None:
    text = (resources.files("tokenrig.harness.qualify") / "profiles" / "qa.toml").read_text()
    copy = tmp_path / "strict.toml"
    copy.write_text(
        text.replace('name = "qa"', 'name = "strict"').replace(
            '[limits."drift.ppm"]\nlow = -30\nhigh = 30', '[limits."drift.ppm"]\nlow = -5\nhigh = 5'
        )
    )
    profile = load_profile(copy)
    assert profile.name == "strict"
    assert profile.limits_for("drift.ppm").high == 5
    assert profile.source == str(copy)


def test_unset_limits_fall_back_to_the_catalogue() -> None:
    profile = parse_profile('name = "p"\nprocedures = ["burn"]\n', "p.toml")
    assert profile.limits_for("burn.code_mismatches[SHA1/30s]").high == 0


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('name = "p"\nprocedures = ["burn"]\ncolour = 1\n', "colour", "unknown key"),
        ('procedures = ["burn"]\n', "name", "non-empty string"),
        ('name = "p"\nprocedures = "burn"\n', "procedures", "list"),
        ('name = "p"\nprocedures = ["bake"]\n', "procedures", "unknown procedure 'bake'"),
        ('name = "p"\nprocedures = []\nverifier = "okta"\n', "verifier", "unknown verifier"),
        ('name = "p"\nprocedures = []\nburn_configs = "some"\n', "burn_configs", "'default'"),
        ('name = "p"\nprocedures = []\n[soak]\nvirtual = "30 days"\n', "soak.virtual", "duration"),
        ('name = "p"\nprocedures = []\n[soak]\nsamples = 2\n', "soak.samples", ">= 3"),
        ('name = "p"\nprocedures = []\n[soak]\nhours = 2\n', "soak.hours", "unknown key"),
        (
            'name = "p"\nprocedures = []\n[limits."drift.pmm"]\nhigh = 3\n',
            'limits."drift.pmm"',
            "unknown measurement",
        ),
        (
            'name = "p"\nprocedures = []\n[limits."drift.ppm"]\nhigh = "3"\n',
            'limits."drift.ppm".high',
            "expected a finite number",
        ),
        (
            'name = "p"\nprocedures = []\n[limits."drift.ppm"]\nhigh = nan\n',
            'limits."drift.ppm".high',
            "finite number, got nan",
        ),
        (
            'name = "p"\nprocedures = []\n[limits."drift.ppm"]\nlow = -inf\n',
            'limits."drift.ppm".low',
            "finite number, got -inf",
        ),
        (
            'name = "p"\nprocedures = []\n[limits."drift.ppm"]\nmarginal = nan\n',
            'limits."drift.ppm".marginal',
            "finite number",
        ),
        ('name = "p"\nprocedures = []\n[soak]\nreal = inf\n', "soak.real", "up to 366d"),
        ('name = "p"\nprocedures = []\n[soak]\nreal = nan\n', "soak.real", "duration"),
        ('name = "p"\nprocedures = []\n[soak]\nvirtual = "400d"\n', "soak.virtual", "366d"),
        (
            'name = "p"\nprocedures = []\n[limits."drift.ppm"]\nlow = 3\nhigh = 1\n',
            'limits."drift.ppm"',
            "above high",
        ),
        (
            'name = "p"\nprocedures = []\n[limits."drift.ppm"]\nmax = 3\n',
            'limits."drift.ppm".max',
            "unknown key",
        ),
        ('name = "p"\nprocedures = [\n', "", "not valid TOML"),
    ],
)
def test_bad_profiles_name_file_and_key(text: str, key: str, reason: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile(text, "my.toml")
    assert caught.value.source == "my.toml"
    assert caught.value.key == key
    assert reason in caught.value.reason
    assert str(caught.value).startswith("my.toml: ")


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"no such profile file.*qa, vendor"):
        load_profile(tmp_path / "nope.toml")
