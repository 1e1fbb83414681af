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
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tokenrig.harness.rigs.config import RigConfig, RigFileError
from tokenrig.harness.rigs.kind import OpenOptions
from tokenrig.harness.rigs.labgrid_client import (
    SHARED,
    Coordinator,
    LabgridError,
    PlaceBusy,
    SerialEndpoint,
    coordinator_address,
)
from tokenrig.harness.rigs.rig import Rig, connect_rig

PREFIX = "labgrid:"
_KEYS = {"place", "tags", "coordinator"}
TAG_KEY = re.compile(r"[a-z][a-z0-9_]+")  # what labgrid accepts as a tag key


@dataclass(frozen=True)
class PlaceRef:
    """Which place (by name, or any with ``tags``), on which coordinator (``None``:
    ``$LG_COORDINATOR`` or labgrid's default)."""

    place: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    coordinator: str | None = None

    @classmethod
    def of(cls, config: RigConfig) -> PlaceRef:
        table = config.options.get("labgrid", {})
        return cls(
            place=table.get("place"),
            tags=dict(table.get("tags", {})),
            coordinator=table.get("coordinator"),
        )

    def named(self, place: str) -> PlaceRef:
        return PlaceRef(place=place, coordinator=self.coordinator)

    def __str__(self) -> str:
        return PREFIX + (self.place or ",".join(f"{k}={v}" for k, v in self.tags.items()))


def parse_target(target: str) -> dict[str, Any]:
    """``labgrid:PLACE`` or ``labgrid:KEY=VALUE[,KEY=VALUE...]`` as a ``[labgrid]`` table."""
    body = target[len(PREFIX) :]
    if "=" not in body:
        return {"place": body}
    tags: dict[str, str] = {}
    for pair in body.split(","):
        key, _, value = pair.partition("=")
        tags[key.strip()] = value.strip()
    return {"tags": tags}


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
    def place(self) -> str:
        return str(self.ref.place)

    @property
    def lock_key(self) -> str:
        return f"labgrid-{self.coordinator.address}-{self.place}"

    def release(self) -> None:
        """Give the place back (idempotent); the coordinator session goes with the last user."""
        if self._released:
            return
        self._released = True
        try:
            self.coordinator.release(self.place)
        except LabgridError as exc:
            raise LabgridError(
                f"{exc}; it may still be held by this station: labgrid-client -p "
                f"{self.place} release"
            ) from None
        finally:
            SHARED.put(self.coordinator)


def hold(ref: PlaceRef, *, wait: float = 0.0) -> HeldPlace:
    """Acquire ``ref`` (waiting up to ``wait`` s for another holder) and find its serial port.
    Whatever fails, or interrupts, after asking leaves the place released."""
    started = time.monotonic()
    coordinator = SHARED.get(ref.coordinator)
    place = ref.place
    try:
        if place is None:
            place = coordinator.acquire_any(dict(ref.tags), wait=wait)
        else:
            coordinator.acquire(place, wait=wait)
    except BaseException:
        if place is not None:  # an interrupt may come between the grant and our knowing it
            with contextlib.suppress(Exception):
                coordinator.release(place)
        SHARED.put(coordinator)
        raise
    try:
        endpoint = coordinator.serial_endpoint(place)
    except BaseException:
        try:
            coordinator.release(place)
        finally:
            SHARED.put(coordinator)
        raise
    return HeldPlace(ref.named(place), coordinator, endpoint, time.monotonic() - started)


def served_config(config: RigConfig, held: HeldPlace) -> RigConfig:
    """``config`` as the plain serial rig its exporter serves while ``held`` (named after the
    place when the config came from ``--rig labgrid:...``, the file's name otherwise)."""
    return RigConfig(
        name=config.name if config.source else held.place,
        url=held.url,
        slots=config.slots,
        description=config.description or f"labgrid place {held.place}",
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
    configs: Sequence[RigConfig],
    stack: contextlib.ExitStack,
    *,
    wait: float = 0.0,
    note: Callable[[str], None] = lambda line: None,
) -> list[tuple[RigConfig, RigConfig | None]]:
    """Hold every labgrid place among ``configs`` until ``stack`` closes. Returns each rig
    with the serial rig it is served as while held (``None`` for other kinds); a config by
    tags becomes every free place with those tags (held ones are skipped, saying so; with
    none free it waits like a single place). Used by ``tokenrig qualify``: the run holds its
    places once, and the suite and its workers drive them as ordinary RFC 2217 rigs."""
    result: list[tuple[RigConfig, RigConfig | None]] = []
    for config in configs:
        if config.kind != LABGRID_KIND.name:
            result.append((config, None))
            continue
        ref = PlaceRef.of(config)
        refs = [ref]
        if ref.place is None:
            coordinator = SHARED.get(ref.coordinator)
            try:
                tagged = coordinator.tagged(dict(ref.tags))
            finally:
                SHARED.put(coordinator)
            free = [p.name for p in tagged if not p.holder]
            for busy in (p for p in tagged if p.holder):
                note(f"labgrid place {busy.name} ({ref}) is held by {busy.holder}; skipped")
            refs = [ref.named(name) for name in free] or [ref]
        for one in refs:
            try:
                held = hold(one, wait=wait)
            except PlaceBusy:
                if len(refs) == 1:
                    raise
                note(f"labgrid place {one.place} was taken meanwhile; skipped")
                continue
            stack.callback(_release_noting, held, note)
            named = config if one is ref else _config_for_place(config, held.place)
            result.append((named, served_config(named, held)))
    return result


def _release_noting(held: HeldPlace, note: Callable[[str], None]) -> None:
    """Release at the end of a run whose verdict is already made: a failure is said, not
    raised over the verdict."""
    try:
        held.release()
    except LabgridError as exc:
        note(str(exc))


def _config_for_place(config: RigConfig, place: str) -> RigConfig:
    table = {**config.options.get("labgrid", {}), "place": place}
    table.pop("tags", None)
    return RigConfig(
        name=place,
        slots=config.slots,
        timeout=config.timeout,
        kind=config.kind,
        description=config.description,
        options={"labgrid": table},
    )


class LabgridKind:
    """A rig behind a labgrid place: acquired for the run, reached over RFC 2217."""

    name = "labgrid"
    sections: frozenset[str] = frozenset({"labgrid"})
    simulated = False

    def ad_hoc(self, target: str) -> RigConfig | None:
        if not target.startswith(PREFIX):
            return None
        table = parse_target(target)
        name = target[len(PREFIX) :]
        config = RigConfig(name=name, kind=self.name, options={"labgrid": table})
        self.check(config, {"labgrid": table}, source=target)
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
        place, tags = table.get("place"), table.get("tags")
        if (place is None) == (tags is None):
            raise RigFileError(
                where, "labgrid.place", "give exactly one of place and tags (labgrid-client places)"
            )
        if place is not None and (
            not isinstance(place, str) or not place.strip() or any(c.isspace() for c in place)
        ):
            raise RigFileError(where, "labgrid.place", "must be a place name")
        if tags is not None and (
            not isinstance(tags, dict)
            or not tags
            or not all(
                isinstance(v, str) and isinstance(k, str) and TAG_KEY.fullmatch(k) and v
                for k, v in tags.items()
            )
        ):
            raise RigFileError(
                where, "labgrid.tags", "must be KEY = VALUE pairs (lower-case keys, e.g. rig)"
            )
        coordinator = table.get("coordinator")
        if coordinator is not None and (not isinstance(coordinator, str) or not coordinator):
            raise RigFileError(where, "labgrid.coordinator", "must be HOST[:PORT]")

    def open(self, config: RigConfig, options: OpenOptions) -> Rig:
        held = hold(PlaceRef.of(config), wait=options.lock_wait)
        named = (
            config
            if config.source or config.options["labgrid"].get("place")
            else (_config_for_place(config, held.place))
        )
        # connect_rig releases the place (on_close) if connecting fails, and on close.
        return connect_rig(named, held.url, options, lock_key=held.lock_key, on_close=held.release)


LABGRID_KIND = LabgridKind()

__all__ = ["LABGRID_KIND", "HeldPlace", "PlaceRef", "coordinator_address", "hold", "hold_places"]
