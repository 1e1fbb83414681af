"""What a labgrid coordinator tells tokenrig, as plain values: places, their holders and
resources, where a serial port is served, and the two errors a station meets (a place held by
another, a coordinator or place that cannot be used). No labgrid import: these are what the
rest of the harness handles, with or without the ``labgrid`` extra installed.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass, field

from tokenrig.harness.rigs.lock import RigBusy
from tokenrig.harness.tokens.base import InfrastructureError

COORDINATOR_ENV = "LG_COORDINATOR"
DEFAULT_COORDINATOR = "127.0.0.1:20408"  # labgrid's own default
SERIAL_CLASS = "NetworkSerialPort"  # what an exporter publishes a RawSerialPort/USBSerialPort as


class LabgridError(InfrastructureError):
    """The coordinator cannot be reached, a place is unknown or has no usable serial port."""


class PlaceBusy(RigBusy):
    """Another station (``host/user``) holds the place; :attr:`holder` names it."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True)
class SerialEndpoint:
    """Where an exporter serves a place's serial port over RFC 2217 (via ser2net)."""

    host: str
    port: int
    speed: int | None = None

    @property
    def url(self) -> str:
        # The rig client adds ?ign_set_control (ser2net on a pty never acknowledges DTR).
        return f"rfc2217://{self.host}:{self.port}"


@dataclass(frozen=True)
class ResourceState:
    path: str  # exporter/group/class/name
    cls: str
    available: bool
    served: bool  # an exporter is serving it right now (acquired, port assigned)


@dataclass(frozen=True)
class PlaceState:
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    holder: str | None = None  # "host/user" of the station that acquired it
    resources: tuple[ResourceState, ...] = ()  # the exporter resources its matches select
    comment: str = ""

    @property
    def serial_ports(self) -> tuple[ResourceState, ...]:
        return tuple(r for r in self.resources if r.cls == SERIAL_CLASS)


def coordinator_address(explicit: str | None = None) -> str:
    """The coordinator to use: the rig file's, else ``$LG_COORDINATOR``, else labgrid's default."""
    return explicit or os.environ.get(COORDINATOR_ENV) or DEFAULT_COORDINATOR


def station_identity() -> str:
    """Who this station is to the coordinator: ``host/user``, as labgrid's own client says it
    (``LG_HOSTNAME`` and ``LG_USERNAME`` override)."""
    host = os.environ.get("LG_HOSTNAME") or socket.gethostname()
    user = os.environ.get("LG_USERNAME") or getpass.getuser()
    return f"{host}/{user}"
