"""The registry of rig kinds: the one place a kind is added.

Kinds are named by module path and loaded on first use, so this package never imports the
simulator (or OpenCV) unless a rig of that kind is asked for. To add a kind, add
one line to :data:`BUILTIN_KINDS` (or call :func:`register` from a plugin). A kind's module must
import without its optional dependencies (import them in ``open``): the registry loads every
kind to learn which rig-file tables each owns.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, cast

from tokenrig.harness.rigs.config import RigConfig, RigFileError
from tokenrig.harness.rigs.kind import OpenOptions, OpenRig, RigKind

# name -> "module:attribute" of an object implementing RigKind. Order matters only for
# ad-hoc targets: the first kind that claims a ``--rig`` string wins; "serial" (any pyserial
# URL or device path) is asked last.
BUILTIN_KINDS: dict[str, str] = {
    "sim": "tokenrig.harness.sim.rig_kind:SIM_KIND",
    "labgrid": "tokenrig.harness.rigs.labgrid_kind:LABGRID_KIND",
    "camera": "tokenrig.harness.camera.rig_kind:CAMERA_KIND",
    "serial": "tokenrig.harness.rigs.rig:SERIAL_KIND",
}
DEFAULT_KIND = "serial"

_loaded: dict[str, RigKind] = {}
_extra: dict[str, RigKind] = {}


class UnknownKind(RigFileError):
    """A rig file names a kind no module provides."""


def register(kind: RigKind) -> None:
    """Add (or replace) a kind at run time, e.g. from a plugin or a test."""
    _extra[kind.name] = kind


def kind_names() -> list[str]:
    return [*BUILTIN_KINDS, *(n for n in _extra if n not in BUILTIN_KINDS)]


def kind_named(name: str, *, source: str = "", key: str = "kind") -> RigKind:
    """The kind called ``name``; an unknown name is a rig-file error naming the known ones."""
    if name in _extra:
        return _extra[name]
    if name not in _loaded:
        where = BUILTIN_KINDS.get(name)
        if where is None:
            known = ", ".join(kind_names())
            raise UnknownKind(source or "(rig)", key, f"unknown rig kind {name!r} (known: {known})")
        module_name, _, attribute = where.partition(":")
        _loaded[name] = cast(RigKind, getattr(importlib.import_module(module_name), attribute))
    return _loaded[name]


def infer_kind(raw: Mapping[str, Any]) -> str:
    """The kind of a rig file that does not say: whichever kind owns a table it has, else
    ``sim`` for ``url = "sim"``, else a serial-protocol rig (what every file meant before
    kinds existed)."""
    for name in kind_names():
        kind = kind_named(name)
        if kind.sections & set(raw):
            return name
    url = raw.get("url")
    if isinstance(url, str) and kind_named("sim").ad_hoc(url) is not None:
        return "sim"
    return DEFAULT_KIND


def ad_hoc_config(target: str) -> RigConfig:
    """The rig a ``--rig`` string that is not a file means (``sim`` or a URL)."""
    for name in kind_names():
        if name == DEFAULT_KIND:
            continue
        config = kind_named(name).ad_hoc(target)
        if config is not None:
            return config
    config = kind_named(DEFAULT_KIND).ad_hoc(target)
    assert config is not None  # the serial kind takes any string as a pyserial URL
    return config


def open_config(config: RigConfig, options: OpenOptions) -> OpenRig:
    """Open ``config`` with its kind."""
    return kind_named(config.kind, source=config.source).open(config, options)
