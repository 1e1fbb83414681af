"""A camera rig slot's NFC reader: burns (config + seed APDUs) and clock reads over PC/SC.

The camera reads the display and a relay presses the button; what neither can do, writing a
seed and reading or setting the token's clock, goes through a PC/SC reader with the same
code ``tokenrig burn --reader`` uses (:class:`PcscChannel`, the Token2 programmers,
:class:`NfcToken`). A rig has either one reader per slot (``[[camera.slot]] nfc_reader``) or
one reader shared by the slots (``camera.nfc_reader``), on which the operator or a mechanism
puts one token at a time.

The reader is opened for each operation and closed after it, never held while the rig is
open: a shared reader must be free for the next slot's token, and a token lifted off a
reader between operations must not leave a dead connection behind. Every operation first
reads the serial over NFC and refuses to go on, naming both serials, when it is not the
slot's token: on a shared reader the wrong token is an easy mistake, and burning it would
both spoil that token and leave the slot's token unburned. A missing reader, an empty reader
or a wrong token is the rig's fault (:class:`InfrastructureError`, so a verdict is
inconclusive), never the token's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tokenrig.harness.clock import Clock
from tokenrig.harness.tokens.base import (
    BurnRequest,
    InfrastructureError,
    SeedState,
    TokenIdentity,
    Unsupported,
)
from tokenrig.harness.tokens.models import ModelSpec
from tokenrig.harness.tokens.nfc_token import NfcToken, TokenProgrammer
from tokenrig.harness.transports.pcsc import PcscChannel

CONNECT_TIMEOUT = 5.0  # s: how long a reader may take to see the token placed on it


class ReaderChannel:
    """An :class:`ApduChannel` on a named reader, open only inside :meth:`session`."""

    def __init__(
        self, reader: str, *, where: str, connect_timeout: float = CONNECT_TIMEOUT
    ) -> None:
        self._reader = reader
        self._where = where
        self._connect_timeout = connect_timeout
        self._open: PcscChannel | None = None

    @property
    def name(self) -> str:
        return self._open.name if self._open is not None else self._reader

    @contextmanager
    def session(self) -> Iterator[ReaderChannel]:
        try:
            channel = PcscChannel(self._reader, connect_timeout=self._connect_timeout)
        except InfrastructureError as exc:  # ReaderNotFound, no card, no pcscd
            raise InfrastructureError(
                f"{self._where}: NFC reader {self._reader!r} not usable: {exc}"
            ) from None
        self._open = channel
        try:
            yield self
        finally:
            self._open = None
            channel.close()

    def transmit(self, apdu: bytes) -> bytes:
        if self._open is None:
            raise InfrastructureError(f"{self._where}: NFC reader {self._reader!r} is not open")
        return self._open.transmit(apdu)


class CameraNfc:
    """Burns and clock reads of one camera rig slot through its (own or shared) NFC reader.

    ``serial`` is the slot's token as the rig file names it; without one (a per-slot reader
    only) the first token seen on the reader is taken as the slot's and later ones must match.
    """

    def __init__(
        self,
        reader: str,
        *,
        spec: ModelSpec,
        serial: str | None,
        clock: Clock,
        where: str,
        shared: bool = False,
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self._channel = ReaderChannel(reader, where=where, connect_timeout=connect_timeout)
        self._spec = spec
        self._serial = serial
        self._clock = clock
        self._where = where
        self._shared = shared
        self._token: NfcToken | None = None  # kept across sessions: it knows the last config
        self._programmer: TokenProgrammer | None = None

    @property
    def reader(self) -> str:
        return self._channel.name

    @property
    def identity(self) -> TokenIdentity:
        return TokenIdentity(self._serial or "unknown", self._spec.name, "unknown")

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    @contextmanager
    def _nfc(self, what: str) -> Iterator[NfcToken]:
        with self._channel.session():
            if self._token is None or self._programmer is None:
                self._programmer = _programmer(self._channel, self._spec)
                self._token = NfcToken(self._programmer, spec=self._spec, clock=self._clock)
                seen = self._token.identity.serial
            else:
                seen = self._programmer.read_info().serial  # a shared reader: who is on it now
            if self._serial is None:
                self._serial = seen
            elif seen != self._serial:
                placed = "placed on the shared reader" if self._shared else "on the reader"
                raise InfrastructureError(
                    f"{self._where}: {what} refused, nothing written: the token {placed} "
                    f"{self._channel.name!r} is serial {seen}, the slot's token is serial "
                    f"{self._serial}"
                )
            yield self._token

    def burn(self, request: BurnRequest, *, check: bool = True) -> None:
        if check:
            request.check_against(self._spec)  # refused before the reader is even opened
        with self._nfc("the burn") as token:
            token.burn(request, check=check)

    def set_clock(self, unix_time: int, *, profile: int = 0) -> SeedState:
        with self._nfc("setting the clock") as token:
            return token.set_clock(unix_time, profile=profile)

    def read_clock(self) -> int:
        with self._nfc("reading the clock") as token:
            return token.read_clock()

    def power_cycle(self) -> None:
        raise Unsupported(f"{self._where}: a power cycle needs a camera.power relay channel")


def _programmer(channel: ReaderChannel, spec: ModelSpec) -> TokenProgrammer:
    """The Token2 programmer for ``spec`` (Molto2 with the customer key, as ``tokenrig burn``)."""
    from tokenrig.harness.transports.token2 import Molto2Programmer, SingleProfileProgrammer

    if spec.profiles > 1:
        from tokenrig.harness.transports.token2.customer_key import (
            CustomerKeyError,
            customer_key_from_env,
        )

        try:
            key = customer_key_from_env()  # the same $TOKENRIG_MOLTO2_KEY rules as `burn`
        except CustomerKeyError as exc:  # a bad key setting is the rig's set-up, not the token
            raise InfrastructureError(f"{channel.name}: {exc}") from None
        return Molto2Programmer(channel, customer_key=key)
    return SingleProfileProgrammer(channel)
