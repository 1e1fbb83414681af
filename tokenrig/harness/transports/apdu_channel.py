"""How an APDU reaches a token: the one small interface every path offers.

A PC/SC reader (:mod:`tokenrig.harness.transports.pcsc`), the rig's APDU pass-through
(:class:`RigApduChannel`), or a simulated card in-process (:class:`DirectApduChannel`) all
look the same to the Token2 programmer, which is what lets the same burn code run against a
real reader, a rig slot and a test double without knowing which.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class ApduChannel(Protocol):
    """Sends one command APDU and returns the whole response APDU (data + SW1 SW2).

    Implementations raise :class:`tokenrig.harness.tokens.base.InfrastructureError` naming the
    reader
    or slot when the path breaks (card removed, reader gone, timeout), never a bare OSError.
    """

    @property
    def name(self) -> str:
        """Where the token sits, for messages: a reader name or ``rig FILE slot N``."""
        ...

    def transmit(self, apdu: bytes) -> bytes: ...


class RigApduClient(Protocol):
    """The part of the rig client this module needs: its APDU pass-through."""

    def apdu(self, slot: int, data: bytes) -> bytes: ...


class CardHandler(Protocol):
    """Anything that answers APDUs in-process (the simulated token)."""

    def transmit(self, apdu: bytes) -> bytes: ...


class RigApduChannel:
    """APDUs through a rig slot's NFC pass-through (``apdu(slot, data) -> bytes``)."""

    def __init__(self, client: RigApduClient, slot: int, *, rig_name: str = "rig") -> None:
        self._client = client
        self._slot = slot
        self._name = f"{rig_name} slot {slot}"

    @property
    def name(self) -> str:
        return self._name

    def transmit(self, apdu: bytes) -> bytes:
        return self._client.apdu(self._slot, apdu)


class DirectApduChannel:
    """A card handler called in-process: unit tests of the protocol without any daemon."""

    def __init__(self, card: CardHandler, name: str = "in-process card") -> None:
        self._card = card
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def transmit(self, apdu: bytes) -> bytes:
        return self._card.transmit(apdu)
