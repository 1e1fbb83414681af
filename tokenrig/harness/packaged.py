"""Where the data tokenrig ships inside its package is: suites, the default rig, profiles.

Everything a command needs at run time is package data found through
:mod:`importlib.resources`, never a path relative to a checkout: the wheel is the product and
must work from any directory. This is the one module that knows the layout, so moving a file
inside the package changes one line here.

pytest runs the suites from files, so the package must be installed as files (a normal wheel
install or an editable one; not a zip import), which :func:`package_dir` checks.
"""

from __future__ import annotations

import importlib.metadata
import os
from importlib.resources import files
from pathlib import Path

PLUGIN_NAME = "tokenrig"
"""The ``pytest11`` entry point name: ``-p no:tokenrig`` turns the plugin off."""
PLUGIN_MODULE = "tokenrig.plugin"
SUITE_NAMES = ("qualification", "rig_conformance")


class PackageDataMissing(RuntimeError):
    """A file the package should ship is not there (a broken or partial install)."""


def package_dir() -> Path:
    """The installed ``tokenrig`` package directory."""
    root = files("tokenrig")
    path = Path(str(root))
    if not path.is_dir():
        raise PackageDataMissing(f"tokenrig is not installed as files ({root}); reinstall it")
    return path


def _shipped(*parts: str) -> Path:
    path = package_dir().joinpath(*parts)
    if not path.exists():
        raise PackageDataMissing(
            f"{'/'.join(parts)} is missing from the installed tokenrig package ({path}); "
            "reinstall tokenrig"
        )
    return path


def suites_dir() -> Path:
    """The directory of the shipped suites; ``--rootdir`` of the runs ``tokenrig`` starts."""
    return _shipped("suites")


def suites_ini() -> Path:
    """The pytest configuration for the shipped suites (isolated from the user's own)."""
    return _shipped("suites", "suites.ini")


def suite_dir(name: str) -> Path:
    """One shipped suite: ``qualification`` or ``rig_conformance``."""
    if name not in SUITE_NAMES:
        raise ValueError(f"no shipped suite {name!r}; known: {', '.join(SUITE_NAMES)}")
    return _shipped("suites", name)


def default_rig_file() -> Path:
    """The default simulated rig (8 mixed tokens) every command uses without ``--rig``."""
    return _shipped("rigs", "sim.toml")


def profiles_dir() -> Path:
    """The built-in qualification profiles (``qa``, ``vendor``)."""
    return _shipped("harness", "qualify", "profiles")


def plugin_entry_point_installed() -> bool:
    """Whether the installed distribution declares the ``pytest11`` entry point.

    False when tokenrig is importable only through ``PYTHONPATH`` (no metadata) or the
    metadata predates the entry point; callers then load :data:`PLUGIN_MODULE` by name.
    """
    return any(
        ep.name == PLUGIN_NAME and ep.value == PLUGIN_MODULE
        for ep in importlib.metadata.entry_points(group="pytest11")
    )


def plugin_args() -> list[str]:
    """pytest arguments that make sure the tokenrig plugin is loaded exactly once.

    ``-p tokenrig`` names the entry point, which pytest loads even under
    ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` and skips when autoload already did; without the entry
    point the module is named instead.
    """
    if plugin_entry_point_installed():
        return ["-p", PLUGIN_NAME]
    return ["-p", PLUGIN_MODULE]


def autoload_disabled() -> bool:
    """``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` is set: entry points are not loaded by pytest."""
    return bool(os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"))
