"""Every data file the code loads is declared for the wheel (issue 12: the wheel is the product).

A data file left out of ``[tool.setuptools.package-data]`` still works from the checkout and
only breaks for a user who installed the wheel, so it must be caught here, without network and
without building: the files the wheel will hold are computed from pyproject.toml with the rules
setuptools applies (packages from ``packages.find``, namespace packages included; each
package's ``package-data`` globs, ``"*"`` for every package, relative to the package's folder).
``.ci/wheel-check`` then builds the real wheel and runs every command from it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from setuptools import find_namespace_packages

from tokenrig.harness import packaged
from tokenrig.harness.qualify.profile import BUILTIN_PROFILES
from tokenrig.harness.reports.tables import SCHEMA_FILE

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tokenrig"


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def wheel_files(config: dict[str, Any]) -> set[Path]:
    """The files under ``tokenrig/`` the wheel gets: every package's modules plus its data."""
    tool = config["tool"]["setuptools"]
    find = tool["packages"]["find"]
    packages = find_namespace_packages(
        where=str(ROOT), include=find.get("include", ["*"]), exclude=find.get("exclude", ())
    )
    package_data: dict[str, list[str]] = tool.get("package-data", {})
    files: set[Path] = set()
    for name in packages:
        folder = ROOT.joinpath(*name.split("."))
        files.update(folder.glob("*.py"))
        for pattern in package_data.get("*", []) + package_data.get(name, []):
            files.update(p for p in folder.glob(pattern) if p.is_file())
    return {p.resolve() for p in files}


def data_files_in_tree() -> set[Path]:
    """Every file of the package folder that is not Python source or a byte-code cache."""
    return {
        p.resolve()
        for p in PACKAGE.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }


def missing(needed: set[Path], config: dict[str, Any]) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in needed - wheel_files(config))


def test_every_data_file_in_the_package_folder_is_declared() -> None:
    data = data_files_in_tree()
    assert len(data) >= 20  # templates, profiles, the sim rig, the schema, suites.ini
    assert missing(data, pyproject()) == []


def test_every_file_packaged_py_hands_out_is_declared() -> None:
    profiles = packaged.profiles_dir()
    needed = {
        packaged.default_rig_file(),
        packaged.suites_ini(),
        *(profiles / f"{name}.toml" for name in BUILTIN_PROFILES),
        PACKAGE / "harness" / "reports" / SCHEMA_FILE,
    }
    for suite in packaged.SUITE_NAMES:
        needed.update(packaged.suite_dir(suite).rglob("*.py"))
    needed = {p.resolve() for p in needed}
    assert all(p.is_file() for p in needed), [str(p) for p in needed if not p.is_file()]
    assert missing(needed, pyproject()) == []


def test_every_portal_template_the_emulator_names_exists_and_is_declared() -> None:
    emulator = PACKAGE / "harness" / "jumpcloud" / "emulator"
    named = {
        match.group(1)
        for source in emulator.rglob("*.py")
        for match in re.finditer(r"[\"']([\w-]+\.(?:html|css))[\"']", source.read_text("utf-8"))
    }
    assert len(named) >= 10
    needed = {(emulator / "templates" / name).resolve() for name in named}
    assert all(p.is_file() for p in needed), sorted(p.name for p in needed if not p.is_file())
    assert missing(needed, pyproject()) == []


def test_every_package_resources_names_is_in_the_wheel() -> None:
    """``importlib.resources.files("x.y")`` needs ``x.y`` to be a package the wheel installs."""
    config = pyproject()
    find = config["tool"]["setuptools"]["packages"]["find"]
    packages = set(find_namespace_packages(where=str(ROOT), include=find["include"]))
    named = {
        match.group(1)
        for source in PACKAGE.rglob("*.py")
        for match in re.finditer(r"files\(\s*[\"']([\w.]+)[\"']\s*\)", source.read_text("utf-8"))
    }
    assert "tokenrig.harness.reports" in named
    assert named <= packages, sorted(named - packages)


@pytest.mark.parametrize(
    ("drop", "left_out"),
    [
        ("*.html", "tokenrig/harness/jumpcloud/emulator/templates/login.html"),
        ("*.json", "tokenrig/harness/reports/records.schema.json"),
        ("*.ini", "tokenrig/suites/suites.ini"),
        ("*.toml", "tokenrig/harness/qualify/profiles/qa.toml"),
    ],
)
def test_a_pattern_left_out_of_package_data_is_caught(drop: str, left_out: str) -> None:
    config = pyproject()
    data = config["tool"]["setuptools"]["package-data"]
    data["*"] = [pattern for pattern in data["*"] if pattern != drop]
    assert left_out in missing(data_files_in_tree(), config)
