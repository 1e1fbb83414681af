"""The simulated token's contactless interface: answers the Token2 APDUs by driving SimFirmware.

This is the card side of :mod:`tokenrig.harness.transports.token2`, built from the same codec so the
two cannot disagree on a byte; what it adds is the token's *behaviour*: the session
(challenge, authentication), MAC checks, padding and length checks, and the status words the
vendor firmware answers with (``6983`` for a wrong key *and* a wrong MAC, as the published
firmware does). The same object serves a virtual card on vpcd (:mod:`tokenrig.harness.sim.vicc`)
and a
simulated rig's NFC pass-through (:func:`card_for` is the rig's per-slot factory).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from tokenrig.harness.secrets import SECRET, redacted
from tokenrig.harness.sim.firmware import SimFirmware, SimFirmwareError
from tokenrig.harness.transports.token2 import molto2, single_profile, tlv
from tokenrig.harness.transports.token2.apdu import CLA_PLAIN, CLA_SECURE, Response
from tokenrig.harness.transports.token2.codec import (
    CodecError,
    ConfigFields,
    algorithm_code,
    info_response,
    open_secure,
    parse_config_tlv,
    step_code,
    utc_bytes,
)
from tokenrig.harness.transports.token2.crypto import (
    BLOCK,
    DEVICE_KEY,
    MOLTO2_DEFAULT_CUSTOMER_KEY,
    PaddingError,
    molto2_sm4_key,
    sm4_ecb_decrypt,
    unpad_iso9797_m2,
)
from tokenrig.harness.transports.token2.crypto import auth_response as expected_auth
from tokenrig.harness.transports.token2.status import (
    SW_AUTH_FAILED,
    SW_CLA_NOT_SUPPORTED,
    SW_INS_NOT_SUPPORTED,
    SW_OK,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
)

MOLTO2_AUTH_TRIES = 10


@redacted
@dataclass(frozen=True)
class _Apdu:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = field(metadata=SECRET)


def _split(raw: bytes) -> _Apdu | None:
    """Short APDU cases 1-4; None when Lc claims more bytes than arrived."""
    cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
    if len(raw) <= 5:  # case 1 (header only) or case 2 (header + Le)
        return _Apdu(cla, ins, p1, p2, b"")
    lc = raw[4]
    if len(raw) < 5 + lc:
        return None
    return _Apdu(cla, ins, p1, p2, bytes(raw[5 : 5 + lc]))


def _sw(sw: int, data: bytes = b"") -> bytes:
    return Response(data, sw).encode()


class _Card:
    """Session state and the commands both token families share."""

    def __init__(self, firmware: SimFirmware, key: bytes) -> None:
        self.firmware = firmware
        self._key = key
        self._challenge: bytes | None = None
        self._authenticated = False
        self._lock = threading.Lock()
        self.log: list[str] = []  # command names seen, for tests; never bodies

    def transmit(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return _sw(SW_WRONG_LENGTH)
        command = _split(apdu)
        if command is None:
            return _sw(SW_WRONG_LENGTH)
        with self._lock:
            self.log.append(f"{command.cla:02X}{command.ins:02X}")
            if command.cla == CLA_PLAIN:
                return self._plain(command)
            if command.cla == CLA_SECURE:
                body = open_secure(command.ins, command.p1, command.p2, command.data, self._key)
                if body is None or not self._authenticated:
                    return _sw(SW_AUTH_FAILED)
                return self._secure(command, body)
            return _sw(SW_CLA_NOT_SUPPORTED)

    def reset(self) -> None:
        """Field off / power cycle: the session (not the stored state) is lost."""
        with self._lock:
            self._challenge = None
            self._authenticated = False

    def _plain(self, command: _Apdu) -> bytes:
        raise NotImplementedError

    def _secure(self, command: _Apdu, body: bytes) -> bytes:
        raise NotImplementedError

    def _new_challenge(self) -> bytes:
        self._challenge = secrets.token_bytes(8)
        self._authenticated = False
        return _sw(SW_OK, self._challenge)

    def _check_auth(self, answer: bytes) -> bool:
        challenge, self._challenge = self._challenge, None
        if challenge is None or len(answer) != BLOCK:
            return False
        self._authenticated = secrets.compare_digest(answer, expected_auth(self._key, challenge))
        return self._authenticated

    def _seed(self, body: bytes, profile: int) -> bytes:
        if not body or len(body) % BLOCK or len(body) > 4 * BLOCK:
            return _sw(SW_WRONG_DATA)
        try:
            seed = unpad_iso9797_m2(sm4_ecb_decrypt(self._key, body))
            if not seed:
                return _sw(SW_WRONG_DATA)
            self.firmware.write_seed(seed, profile)
        except (PaddingError, SimFirmwareError):
            return _sw(SW_WRONG_DATA)
        return _sw(SW_OK)


class SingleProfileCard(_Card):
    """miniOTP / OTPC / C30x: fixed device key, config and seed writes only."""

    def __init__(self, firmware: SimFirmware) -> None:
        super().__init__(firmware, DEVICE_KEY)

    def _plain(self, command: _Apdu) -> bytes:
        if command.ins == single_profile.INS_INFO:
            return _sw(SW_OK, info_response(self.firmware.identity.serial, self.firmware.rtc_u32()))
        if command.ins == single_profile.INS_CHALLENGE and command.p1 == 0x08:
            return self._new_challenge()
        if command.ins == single_profile.INS_AUTH:
            return _sw(SW_OK if self._check_auth(command.data) else SW_AUTH_FAILED)
        return _sw(SW_INS_NOT_SUPPORTED)

    def _secure(self, command: _Apdu, body: bytes) -> bytes:
        if command.ins == single_profile.INS_SEED and command.p1 == 0x01:
            return self._seed(body, 0)
        if command.ins == single_profile.INS_CONFIG:
            return self._config(body)
        return _sw(SW_INS_NOT_SUPPORTED)

    def _config(self, body: bytes) -> bytes:
        try:
            fields = parse_config_tlv(body)
        except (CodecError, tlv.TlvError):
            return _sw(SW_WRONG_DATA)
        if fields.digits is not None:
            return _sw(SW_WRONG_DATA)  # the single-profile TLV has no digits field
        return _write_config(self.firmware, fields, 0)


class Molto2Card(_Card):
    """Molto2: customer key, profiles in P2, digits, time-only sync, seed delete, 63 NN."""

    def __init__(self, firmware: SimFirmware, *, customer_key: bytes = MOLTO2_DEFAULT_CUSTOMER_KEY):
        super().__init__(firmware, molto2_sm4_key(customer_key))
        self._tries = MOLTO2_AUTH_TRIES

    def _plain(self, command: _Apdu) -> bytes:
        ins, profile = command.ins, command.p2
        if ins == molto2.INS_INFO and command.data == bytes((tlv.TAG_SEED_INFO,)):
            if not self._profile_ok(profile):
                return _sw(SW_WRONG_P1P2)
            return _sw(SW_OK, self._public_data(profile))
        if ins == molto2.INS_INFO:
            return _sw(SW_OK, info_response(self.firmware.identity.serial, self.firmware.rtc_u32()))
        if ins == molto2.INS_CHALLENGE and command.p1 == 0x08:
            return self._new_challenge()
        if ins == molto2.INS_AUTH:
            if self._tries == 0:
                return _sw(SW_AUTH_FAILED)  # locked
            if self._check_auth(command.data):
                self._tries = MOLTO2_AUTH_TRIES
                return _sw(SW_OK)
            self._tries -= 1
            return _sw(0x6300 | self._tries)
        if ins == molto2.INS_DELETE_SEED:
            if not self._authenticated:
                return _sw(SW_AUTH_FAILED)
            if not self._profile_ok(profile):
                return _sw(SW_WRONG_P1P2)
            self.firmware.delete_seed(profile)
            return _sw(SW_OK)
        return _sw(SW_INS_NOT_SUPPORTED)

    def _secure(self, command: _Apdu, body: bytes) -> bytes:
        if not self._profile_ok(command.p2):
            return _sw(SW_WRONG_P1P2)
        if command.ins == molto2.INS_SEED and command.p1 == 0x01:
            return self._seed(body, command.p2)
        if command.ins == molto2.INS_CONFIG and command.p1 == 0x01:
            try:
                fields = parse_config_tlv(body)
            except (CodecError, tlv.TlvError):
                return _sw(SW_WRONG_DATA)
            if fields.display_timeout is None and fields.algorithm is None:
                try:
                    self.firmware.write_time(fields.utc, command.p2)
                except SimFirmwareError:
                    return _sw(SW_WRONG_DATA)
                return _sw(SW_OK)
            return _write_config(self.firmware, fields, command.p2)
        return _sw(SW_INS_NOT_SUPPORTED)

    def _profile_ok(self, profile: int) -> bool:
        return profile < self.firmware.spec.profiles

    def _public_data(self, profile: int) -> bytes:
        config = self.firmware.config(profile)
        rtc = utc_bytes(self.firmware.rtc_u32(profile))
        value = (
            b"\x00"  # flag
            + bytes(16)  # title ("tips"), not modelled
            + rtc
            + rtc  # time of the last config, not modelled separately
            + bytes((algorithm_code(config.algorithm), step_code(config.period), config.digits))
            + (b"\x01" if self.firmware.has_seed(profile) else b"\x00")
        )
        inner = tlv.Tlv(tlv.TAG_SEED_INFO, value).encode()
        return tlv.Tlv(tlv.TAG_PUBLIC_DATA, inner).encode()


def _write_config(firmware: SimFirmware, fields: ConfigFields, profile: int) -> bytes:
    algorithm, period, display = fields.algorithm, fields.period, fields.display_timeout
    if algorithm is None or period is None or display is None:
        return _sw(SW_WRONG_DATA)
    try:
        firmware.write_config(
            utc=fields.utc,
            algorithm=algorithm,
            period=period,
            display_timeout=display,
            digits=fields.digits if fields.digits is not None else 6,
            profile=profile,
        )
    except SimFirmwareError:
        return _sw(SW_WRONG_DATA)
    return _sw(SW_OK)


def card_for(firmware: SimFirmware) -> SingleProfileCard | Molto2Card:
    """The card a token of this model answers as; fits a simulated rig's ``apdu_factory``."""
    if firmware.spec.profiles > 1:
        return Molto2Card(firmware)
    return SingleProfileCard(firmware)
