"""Token2 programmers: the protocol's operations (info, authenticate, config, seed) over any
:class:`~tokenrig.harness.transports.apdu_channel.ApduChannel`.

They implement :class:`tokenrig.harness.tokens.nfc_token.TokenProgrammer`. Every exchange goes to
the
``tokenrig.apdu`` logger and to :attr:`transcript` in its redacted form (a seed write shows
only its length), so a failure can quote the conversation without quoting the seed.
Each secure write runs on a fresh challenge/authentication: it costs two short APDUs and makes
every write independent of whatever session state the token kept from a previous one.
"""

from __future__ import annotations

import logging

from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import Unsupported
from tokenrig.harness.tokens.nfc_token import CardInfo
from tokenrig.harness.transports.apdu_channel import ApduChannel
from tokenrig.harness.transports.token2 import molto2, single_profile
from tokenrig.harness.transports.token2.apdu import Command, Response
from tokenrig.harness.transports.token2.codec import CodecError, parse_info
from tokenrig.harness.transports.token2.crypto import (
    DEVICE_KEY,
    MOLTO2_DEFAULT_CUSTOMER_KEY,
    molto2_sm4_key,
)
from tokenrig.harness.transports.token2.status import ProtocolError, check

apdu_log = logging.getLogger("tokenrig.apdu")

MAX_TRANSCRIPT = 200


class _Programmer:
    def __init__(self, channel: ApduChannel) -> None:
        self._channel = channel
        self.transcript: list[str] = []

    @property
    def name(self) -> str:
        return self._channel.name

    def exchange(self, command: Command) -> Response:
        """Send ``command``; return its 9000 response or raise the error its status means."""
        line = f">> {command.for_log()}  ({command.name})"
        self._note(line)
        raw = self._channel.transmit(command.encode())
        try:
            response = Response.parse(raw)
        except ValueError as exc:
            raise ProtocolError(f"{self.name}: {command.name}: malformed answer: {exc}") from None
        self._note(f"<< {response.for_log()}")
        return check(response, command.name, self.name)

    def _note(self, line: str) -> None:
        apdu_log.debug("%s %s", self.name, line)
        self.transcript.append(line)
        del self.transcript[:-MAX_TRANSCRIPT]

    def _parse_info(self, data: bytes) -> CardInfo:
        try:
            return parse_info(data)
        except CodecError as exc:
            raise ProtocolError(f"{self.name}: info read: {exc}") from None


class SingleProfileProgrammer(_Programmer):
    """miniOTP / OTPC / C30x: fixed public device key, one profile, 6 digits, no time-only sync."""

    def read_info(self) -> CardInfo:
        return self._parse_info(self.exchange(single_profile.info()).data)

    def authenticate(self, *, key: bytes = DEVICE_KEY) -> None:
        nonce = self.exchange(single_profile.challenge()).data
        if len(nonce) != 8:
            raise ProtocolError(f"{self.name}: challenge of {len(nonce)} bytes, expected 8")
        self.exchange(single_profile.authenticate(nonce, key))

    def write_config(
        self,
        *,
        utc: int,
        algorithm: Algorithm,
        period: int,
        display_timeout: int,
        digits: int = 6,
        profile: int = 0,
    ) -> None:
        if digits != 6 or profile != 0:
            raise Unsupported(f"{self.name}: single-profile tokens show 6 digits in profile 0")
        command = single_profile.config(
            utc=utc, display_timeout=display_timeout, algorithm=algorithm, period=period
        )
        self.authenticate()
        self.exchange(command)

    def write_seed(self, seed: Secret, *, profile: int = 0) -> None:
        if profile != 0:
            raise Unsupported(f"{self.name}: single-profile tokens have only profile 0")
        command = single_profile.seed(seed.reveal())
        self.authenticate()
        self.exchange(command)

    def sync_time(self, utc: int, *, profile: int = 0) -> None:
        raise Unsupported(
            f"{self.name}: single-profile tokens have no time-only command (time travels in the "
            "config write)"
        )


class Molto2Programmer(_Programmer):
    """Molto2 / Molto2v2: customer key, profiles in P2, digits 4/6/8/10, time-only sync."""

    def __init__(self, channel: ApduChannel, *, customer_key: Secret | None = None) -> None:
        super().__init__(channel)
        material = customer_key.reveal() if customer_key else MOLTO2_DEFAULT_CUSTOMER_KEY
        self._key = Secret(molto2_sm4_key(material), kind="Molto2 SM4 key")

    def read_info(self) -> CardInfo:
        return self._parse_info(self.exchange(molto2.info()).data)

    def authenticate(self) -> None:
        nonce = self.exchange(molto2.challenge()).data
        if len(nonce) != 8:
            raise ProtocolError(f"{self.name}: challenge of {len(nonce)} bytes, expected 8")
        self.exchange(molto2.authenticate(nonce, self._key.reveal()))

    def write_config(
        self,
        *,
        utc: int,
        algorithm: Algorithm,
        period: int,
        display_timeout: int,
        digits: int = 6,
        profile: int = 0,
    ) -> None:
        command = molto2.config(
            profile=profile,
            utc=utc,
            display_timeout=display_timeout,
            algorithm=algorithm,
            period=period,
            digits=digits,
            key=self._key.reveal(),
        )
        self.authenticate()
        self.exchange(command)

    def write_seed(self, seed: Secret, *, profile: int = 0) -> None:
        command = molto2.seed(profile=profile, secret=seed.reveal(), key=self._key.reveal())
        self.authenticate()
        self.exchange(command)

    def sync_time(self, utc: int, *, profile: int = 0) -> None:
        command = molto2.time_sync(profile=profile, utc=utc, key=self._key.reveal())
        self.authenticate()
        self.exchange(command)

    def delete_seed(self, *, profile: int = 0) -> None:
        self.authenticate()
        self.exchange(molto2.delete_seed(profile))
