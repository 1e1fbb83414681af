"""A labgrid coordinator as tokenrig needs it: who holds which place, acquire, release, and
where an acquired place's serial port is served.

labgrid's client library (:class:`labgrid.remote.client.ClientSession`) is asynchronous: a
gRPC stream on an asyncio loop. The harness is synchronous and runs pytest in its main thread
for minutes while a place is held, so the session lives on a loop of its own in a daemon
thread. The stream to the coordinator is then serviced (keep-alives, place and resource
updates) whatever the main thread does, the main thread stays free to receive SIGINT/SIGTERM,
and every call waits on that loop with a timeout, so a coordinator that stops answering is an
error, never a hang. labgrid is imported only when a :class:`Coordinator` is made: the
``labgrid`` extra is optional.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from tokenrig.harness.rigs.labgrid_state import (
    SERIAL_CLASS,
    LabgridError,
    PlaceBusy,
    PlaceState,
    ResourceState,
    SerialEndpoint,
    coordinator_address,
    station_identity,
)

CALL_TIMEOUT = 10.0  # seconds for one call to the coordinator
SERVE_TIMEOUT = 10.0  # seconds for an exporter to start serving an acquired place's port
POLL_S = 0.05

_T = TypeVar("_T")


def _labgrid() -> Any:
    try:
        from labgrid.remote import client
    except ImportError:
        raise LabgridError(
            "labgrid rigs need the labgrid extra: pip install 'tokenrig[labgrid]'"
        ) from None
    return client


class Coordinator:
    """One session with a labgrid coordinator. Use as a context manager, or call :meth:`close`."""

    def __init__(self, address: str | None = None, *, timeout: float = CALL_TIMEOUT) -> None:
        self.address = coordinator_address(address)
        self.timeout = timeout
        self.identity = station_identity()
        client = _labgrid()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name=f"labgrid {self.address}", daemon=True
        )
        self._thread.start()
        self._session: Any = None
        self._closed = False
        try:
            self._session = self._call(self._connect(client), what="connect")
        except BaseException:
            self.close()
            raise

    async def _connect(self, client: Any) -> Any:
        from labgrid.util.proxy import proxymanager

        address = proxymanager.get_grpc_address(self.address, default_port=20408)
        session = client.ClientSession(address, asyncio.get_running_loop())
        try:
            await session.start()
        except client.Error:
            await session.close()
            raise LabgridError(f"labgrid coordinator {self.address}: not reachable") from None
        return session

    def _call(self, coro: Coroutine[Any, Any, _T], *, what: str, timeout: float = 0.0) -> _T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout or self.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise LabgridError(
                f"labgrid coordinator {self.address}: no answer to {what} within "
                f"{timeout or self.timeout:g} s"
            ) from None
        except BaseException:
            future.cancel()
            raise

    def _rpc(self, method: str, request: Any) -> Any:
        """One coordinator call; a gRPC failure becomes (code name, details)."""
        import grpc

        async def call() -> Any:
            try:
                response = await getattr(self._session.stub, method)(request)
            except grpc.aio.AioRpcError as exc:
                return _RpcFailure(exc.code().name, exc.details() or "")
            await self._session.sync_with_coordinator()  # our view now includes the change
            return response

        return self._call(call(), what=method)

    # -- reading --------------------------------------------------------------------------

    def places(self) -> list[PlaceState]:
        async def snapshot() -> list[PlaceState]:
            await self._session.sync_with_coordinator()
            return [self._state(p) for _, p in sorted(self._session.places.items())]

        return self._call(snapshot(), what="places")

    def resources(self) -> list[ResourceState]:
        """Every resource the exporters publish (whether or not a place matches it)."""

        async def snapshot() -> list[ResourceState]:
            await self._session.sync_with_coordinator()
            return [
                _resource_state((exporter, group, entry.cls, name), entry)
                for exporter, groups in sorted(self._session.resources.items())
                for group, entries in sorted(groups.items())
                for name, entry in sorted(entries.items())
            ]

        return self._call(snapshot(), what="resources")

    def place(self, name: str) -> PlaceState:
        places = {p.name: p for p in self.places()}
        if name not in places:
            known = ", ".join(places) or "none"
            raise LabgridError(
                f"labgrid coordinator {self.address}: no place {name!r} (places: {known})"
            )
        return places[name]

    def _state(self, place: Any) -> PlaceState:
        resources = []
        for exporter, groups in sorted(self._session.resources.items()):
            for group, entries in sorted(groups.items()):
                for resource_name, entry in sorted(entries.items()):
                    path = (exporter, group, entry.cls, resource_name)
                    if place.hasmatch(path):
                        resources.append(_resource_state(path, entry))
        return PlaceState(
            name=place.name,
            tags=dict(place.tags),
            holder=place.acquired or None,
            resources=tuple(resources),
            comment=place.comment or "",
        )

    # -- acquire and release --------------------------------------------------------------

    def acquire(self, name: str, *, wait: float = 0.0) -> None:
        """Take ``name`` for this station. Held by another: :class:`PlaceBusy` at once, or,
        with ``wait``, a reservation that waits up to ``wait`` seconds for its release."""
        try:
            self._acquire_now(name)
        except PlaceBusy:
            if wait <= 0:
                raise
            self._acquire_reserved(name, wait)

    def _acquire_now(self, name: str) -> None:
        place = self.place(name)
        if place.holder:
            raise self._busy(place)
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb

        result = self._rpc("AcquirePlace", pb.AcquirePlaceRequest(placename=name))
        if isinstance(result, _RpcFailure):
            place = self.place(name)
            if place.holder and place.holder != self.identity:
                raise self._busy(place)
            if result.code == "PERMISSION_DENIED":  # allocated to another station's reservation
                raise PlaceBusy(
                    f"labgrid place {name} is reserved for another station that waits for it; "
                    "give --wait SECONDS to queue behind it",
                    holder="a reservation",
                )
            raise LabgridError(
                f"labgrid place {name}: the coordinator refused to acquire it: {result.details}"
            )

    def _acquire_reserved(self, name: str, wait: float) -> None:
        place = self._reserve({"name": name}, wait, what=f"labgrid place {name}")
        if place is None:
            raise self._busy(self.place(name), waited=wait)

    def _reserve(self, tags: dict[str, str], wait: float, *, what: str) -> str | None:
        """Reserve a place with ``tags`` (``name`` is every place's own tag) and acquire the
        place the coordinator allocates; ``None`` if none was allocated within ``wait`` s.
        The reservation is cancelled on every way out, an interrupt included."""
        from labgrid.remote.common import Reservation, ReservationState
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb

        fltr = {"main": pb.Reservation.Filter(filter=tags)}
        created = self._rpc("CreateReservation", pb.CreateReservationRequest(filters=fltr))
        if isinstance(created, _RpcFailure):
            raise LabgridError(f"{what}: cannot reserve: {created.details}")
        token = created.reservation.token
        deadline = time.monotonic() + wait
        try:
            while True:
                polled = self._rpc("PollReservation", pb.PollReservationRequest(token=token))
                if isinstance(polled, _RpcFailure):
                    raise LabgridError(f"{what}: reservation lost: {polled.details}")
                reservation = Reservation.from_pb2(polled.reservation)
                if reservation.state in (ReservationState.allocated, ReservationState.acquired):
                    place = str(reservation.allocations["main"][0])
                    self._acquire_now(place)
                    return place
                if reservation.state is not ReservationState.waiting:
                    raise LabgridError(f"{what}: reservation {reservation.state.name}")
                if time.monotonic() >= deadline:
                    return None
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        finally:
            self._rpc("CancelReservation", pb.CancelReservationRequest(token=token))

    def tagged(self, tags: dict[str, str]) -> list[PlaceState]:
        """The places whose tags include every one of ``tags``; none is an error."""
        places = self.places()
        found = [p for p in places if tags.items() <= p.tags.items()]
        if not found:
            wanted = ",".join(f"{k}={v}" for k, v in tags.items())
            known = ", ".join(
                f"{p.name} ({','.join(f'{k}={v}' for k, v in p.tags.items()) or 'no tags'})"
                for p in places
            )
            raise LabgridError(
                f"labgrid coordinator {self.address}: no place tagged {wanted} "
                f"(places: {known or 'none'})"
            )
        return found

    def acquire_any(self, tags: dict[str, str], *, wait: float = 0.0) -> str:
        """Acquire one free place tagged ``tags`` (or, with ``wait``, the first one released)."""
        places = self.tagged(tags)
        for place in places:
            if place.holder:
                continue
            try:
                self._acquire_now(place.name)
                return place.name
            except PlaceBusy:
                continue  # taken between listing and asking
        wanted = ",".join(f"{k}={v}" for k, v in tags.items())
        if wait > 0:
            name = self._reserve(tags, wait, what=f"labgrid places tagged {wanted}")
            if name is not None:
                return name
        holders = ", ".join(f"{p.name} by {p.holder}" for p in self.tagged(tags))
        after = f" after waiting {wait:g} s" if wait > 0 else "; give --wait SECONDS to wait"
        return_holder = self.tagged(tags)[0].holder or "another station"
        raise PlaceBusy(
            f"every labgrid place tagged {wanted} is held ({holders}){after}", holder=return_holder
        )

    def _busy(self, place: PlaceState, *, waited: float = 0.0) -> PlaceBusy:
        holder = place.holder or "another reservation"
        if holder == self.identity:
            how = (
                "this station's own identity: another run here holds it, or a run that died "
                f"(then: labgrid-client -p {place.name} release)"
            )
        else:
            how = (
                "another station (to take it from a dead one: "
                f"labgrid-client -p {place.name} release --kick)"
            )
        after = f" after waiting {waited:g} s" if waited else "; give --wait SECONDS to wait for it"
        return PlaceBusy(
            f"labgrid place {place.name} is held by {holder}, {how}{after}", holder=holder
        )

    def serial_endpoint(self, name: str, *, timeout: float = SERVE_TIMEOUT) -> SerialEndpoint:
        """The serial port of the acquired place ``name``, read afresh: the exporter starts a
        ser2net for each acquisition, on a new port each time."""
        deadline = time.monotonic() + timeout

        async def lookup() -> SerialEndpoint | list[str]:
            await self._session.sync_with_coordinator()
            place = self._session.places.get(name)
            ports: list[str] = []
            if place is None:
                return ports
            for path in place.acquired_resources:
                exporter, group, cls, resource_name = path
                if cls != SERIAL_CLASS:
                    continue
                ports.append("/".join(path))
                entry = self._session.resources.get(exporter, {}).get(group, {}).get(resource_name)
                params = entry.params if entry is not None else {}
                if entry is not None and entry.avail and params.get("port"):
                    speed = params.get("speed")
                    return SerialEndpoint(str(params["host"]), int(params["port"]), speed)
            return ports

        while True:
            found = self._call(lookup(), what="resources")
            if isinstance(found, SerialEndpoint):
                return found
            if not found:  # what a place acquires is fixed when it is acquired
                raise LabgridError(
                    f"labgrid place {name}: none of its resources is a serial port "
                    f"({SERIAL_CLASS}); add one: labgrid-client -p {name} add-match "
                    "EXPORTER/GROUP/NetworkSerialPort"
                )
            if time.monotonic() >= deadline:
                raise LabgridError(
                    f"labgrid place {name}: its serial port {', '.join(found)} was not served "
                    f"within {timeout:g} s of acquiring (exporter down, or the device unplugged?)"
                )
            time.sleep(POLL_S)

    def release(self, name: str) -> None:
        """Give ``name`` back if this station holds it (a no-op otherwise)."""
        from labgrid.remote.generated import labgrid_coordinator_pb2 as pb

        request = pb.ReleasePlaceRequest(placename=name, fromuser=self.identity)
        result = self._rpc("ReleasePlace", request)
        if isinstance(result, _RpcFailure):
            raise LabgridError(f"labgrid place {name}: release failed: {result.details}")

    # -- lifetime -------------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self._session is not None:
                session = self._session

                async def stop() -> None:
                    await session.stop()
                    await session.close()

                self._call(stop(), what="close", timeout=5.0)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5.0)
            if not self._thread.is_alive():
                self._loop.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Coordinator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _resource_state(path: tuple[str, str, str, str], entry: Any) -> ResourceState:
    served = bool(entry.acquired) and bool(entry.params.get("port"))
    return ResourceState("/".join(path), entry.cls, bool(entry.avail), served)


class SharedCoordinators:
    """One :class:`Coordinator` per address in a process, counted by its users.

    gRPC shares one connection among a process's channels to one address, and the coordinator
    knows a client by that connection: a second session from the same process is refused. So
    every place this process holds on a coordinator goes through one session.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, tuple[Coordinator, int]] = {}

    def get(self, address: str | None = None) -> Coordinator:
        key = coordinator_address(address)
        with self._lock:
            coordinator, users = self._open.get(key, (None, 0))
            if coordinator is None or coordinator.closed:
                coordinator, users = Coordinator(key), 0
            self._open[key] = (coordinator, users + 1)
            return coordinator

    def put(self, coordinator: Coordinator) -> None:
        with self._lock:
            current, users = self._open.get(coordinator.address, (None, 0))
            if current is not coordinator:
                coordinator.close()
                return
            if users <= 1:
                del self._open[coordinator.address]
                coordinator.close()
            else:
                self._open[coordinator.address] = (coordinator, users - 1)


SHARED = SharedCoordinators()


@dataclass(frozen=True)
class _RpcFailure:
    code: str
    details: str


__all__ = [
    "SHARED",
    "Coordinator",
    "LabgridError",
    "PlaceBusy",
    "PlaceState",
    "ResourceState",
    "SerialEndpoint",
    "coordinator_address",
    "station_identity",
]
