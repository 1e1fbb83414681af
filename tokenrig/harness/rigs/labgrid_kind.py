"""A rig shared through a labgrid place (``--rig labgrid:PLACE``, or a rig file's ``[labgrid]``).

When several stations and CI runners share rigs on several rig hosts, a lock file on one
station cannot keep another station off a rig. labgrid's coordinator can: it knows every place
and which station holds it, and the exporter on the rig host serves the rig's tty over RFC 2217
(ser2net) only while the place is acquired, on a new port each time. Opening this kind acquires
the place (or, with a wait, reserves it and waits), reads where its serial port is served
*now*, and connects the ordinary serial-protocol client there; closing the rig releases the
place, on every path that runs ``finally`` (an error, SIGINT, SIGTERM through
:mod:`tokenrig.harness.interrupts`). A place held by another station is :class:`PlaceBusy`,
naming the holder. labgrid itself is imported only in :meth:`LabgridKind.open`.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tokenrig.harness.rigs.config import RigConfig, RigFileError
from tokenrig.harness.rigs.kind import OpenOptions
from tokenrig.harness.rigs.labgrid_client import (
    SHARED,
    Coordinator,
    SerialEndpoint,
    coordinator_address,
)
from tokenrig.harness.rigs.rig import Rig, connect_rig

PREFIX = "labgrid:"
_KEYS = {"place", "coordinator"}


@dataclass(frozen=True)
class PlaceRef:
    """Which place, on which coordinator (``None``: ``$LG_COORDINATOR`` or labgrid's default)."""

    place: str
    coordinator: str | None = None

    @classmethod
    def of(cls, config: RigConfig) -> PlaceRef:
        table = config.options.get("labgrid", {})
        return cls(place=str(table["place"]), coordinator=table.get("coordinator"))

    def __str__(self) -> str:
        return f"{PREFIX}{self.place}"


@dataclass
class HeldPlace:
    """A place this process holds, and where its serial port is served for this hold."""

    ref: PlaceRef
    coordinator: Coordinator
    endpoint: SerialEndpoint
    acquire_seconds: float  # from asking to knowing the port (waiting included)
    _released: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return self.endpoint.url

    @property
    def lock_key(self) -> str:
        return f"labgrid-{self.coordinator.address}-{self.ref.place}"

    def release(self) -> None:
        """Give the place back (idempotent); the coordinator session goes with the last user."""
        if self._released:
            return
        self._released = True
        try:
            self.coordinator.release(self.ref.place)
        finally:
            SHARED.put(self.coordinator)


def hold(ref: PlaceRef, *, wait: float = 0.0) -> HeldPlace:
    """Acquire ``ref`` (waiting up to ``wait`` s for another holder) and find its serial port.
    Whatever fails, or interrupts, after asking leaves the place released."""
    started = time.monotonic()
    coordinator = SHARED.get(ref.coordinator)
    try:
        coordinator.acquire(ref.place, wait=wait)
    except BaseException:
        SHARED.put(coordinator)
        raise
    try:
        endpoint = coordinator.serial_endpoint(ref.place)
    except BaseException:
        try:
            coordinator.release(ref.place)
        finally:
            SHARED.put(coordinator)
        raise
    return HeldPlace(ref, coordinator, endpoint, time.monotonic() - started)


def served_config(config: RigConfig, held: HeldPlace) -> RigConfig:
    """``config`` as the plain serial rig its exporter serves while ``held``."""
    return RigConfig(
        name=config.name,
        url=held.url,
        slots=config.slots,
        description=config.description or f"labgrid place {held.ref.place}",
        timeout=config.timeout,
        source="",
    )


def serial_rig_toml(config: RigConfig) -> str:
    """A rig file for a serial rig (the served form of a held place), for a suite to open."""
    lines = [
        f"# labgrid place served for this run only (written by tokenrig); {config.description}",
        f"name = {json.dumps(config.name)}",
        f"url = {json.dumps(config.url)}",
        f"timeout = {config.timeout!r}",
    ]
    for slot in config.slots:
        lines += ["", "[[slots]]", f"slot = {slot.slot}", f"model = {json.dumps(slot.model)}"]
        if slot.serial:
            lines.append(f"serial = {json.dumps(slot.serial)}")
    return "\n".join(lines) + "\n"


def hold_places(
    configs: Sequence[RigConfig], stack: contextlib.ExitStack, *, wait: float = 0.0
) -> dict[int, RigConfig]:
    """Hold every labgrid place among ``configs`` until ``stack`` closes; returns, by index,
    the serial rig each is served as. Used by ``tokenrig qualify``: the run holds its places
    once, and the suite (and its workers) drive them as ordinary RFC 2217 rigs."""
    served: dict[int, RigConfig] = {}
    for index, config in enumerate(configs):
        if config.kind != LABGRID_KIND.name:
            continue
        held = hold(PlaceRef.of(config), wait=wait)
        stack.callback(held.release)
        served[index] = served_config(config, held)
    return served


class LabgridKind:
    """A rig behind a labgrid place: acquired for the run, reached over RFC 2217."""

    name = "labgrid"
    sections: frozenset[str] = frozenset({"labgrid"})
    simulated = False

    def ad_hoc(self, target: str) -> RigConfig | None:
        if not target.startswith(PREFIX):
            return None
        place = target[len(PREFIX) :]
        config = RigConfig(name=place, kind=self.name, options={"labgrid": {"place": place}})
        self.check(config, {"labgrid": {"place": place}}, source=target)
        return config

    def check(
        self, config: RigConfig, raw: Mapping[str, Any], *, source: str | None = None
    ) -> None:
        where = source or config.source or "(rig)"
        for key in ("url", "usb"):
            if key in raw:
                raise RigFileError(
                    where, key, "a labgrid rig is reached through its [labgrid] place; remove it"
                )
        table = raw.get("labgrid")
        if not isinstance(table, dict):
            raise RigFileError(where, "labgrid", "must be a table with place and coordinator")
        for key in table:
            if key not in _KEYS:
                allowed = ", ".join(sorted(_KEYS))
                raise RigFileError(where, f"labgrid.{key}", f"unknown key (allowed: {allowed})")
        place = table.get("place")
        if not isinstance(place, str) or not place.strip() or any(c.isspace() for c in place):
            raise RigFileError(
                where, "labgrid.place", "a place name is required (labgrid-client places)"
            )
        coordinator = table.get("coordinator")
        if coordinator is not None and (not isinstance(coordinator, str) or not coordinator):
            raise RigFileError(where, "labgrid.coordinator", "must be HOST[:PORT]")

    def open(self, config: RigConfig, options: OpenOptions) -> Rig:
        held = hold(PlaceRef.of(config), wait=options.lock_wait)
        # connect_rig releases the place (on_close) if connecting fails, and on close.
        return connect_rig(config, held.url, options, lock_key=held.lock_key, on_close=held.release)


LABGRID_KIND = LabgridKind()

__all__ = ["LABGRID_KIND", "HeldPlace", "PlaceRef", "coordinator_address", "hold", "hold_places"]
