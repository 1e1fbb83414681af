"""A TOTP generator with its HMAC key prepared once: the fast path for searches and verifiers.

:func:`tokenrig.harness.otp.hotp.hotp` is the obvious, one-shot definition. It pays OpenSSL's HMAC
set-up (a few microseconds) on every call, which dominates when a verifier or an offset
search computes hundreds of codes for one key. Here the key is folded into an inner and an
outer hash state once (RFC 2104: ``H(K^opad || H(K^ipad || m))``), and each code costs two
state copies and two short hashes. The tests check every code against :func:`hotp` and pyotp.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable

from tokenrig.harness.otp.hotp import (
    MAX_COUNTER,
    Algorithm,
    OTPError,
    check_digits,
    check_period,
    time_step,
)
from tokenrig.harness.secrets import Secret

_PACK_COUNTER = struct.Struct(">Q").pack
_UNPACK_U32 = struct.Struct(">I").unpack_from
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class TotpGenerator:
    """Codes of one key: ``at(time)`` for TOTP, ``hotp(counter)`` for a raw counter.

    Holds the key only as prepared hash states; ``repr`` shows the key's fingerprint, never
    the key. Times are seconds since the epoch; counters are 64-bit (years past 2106 work).
    """

    __slots__ = (
        "_inner",
        "_modulus",
        "_outer",
        "algorithm",
        "digits",
        "fingerprint",
        "period",
        "t0",
    )

    def __init__(
        self,
        secret: Secret | bytes,
        *,
        algorithm: Algorithm = Algorithm.SHA1,
        digits: int = 6,
        period: int = 30,
        t0: int = 0,
    ) -> None:
        key = secret.reveal() if isinstance(secret, Secret) else bytes(secret)
        self.algorithm = Algorithm(algorithm)
        self.digits = check_digits(digits)
        self.period = check_period(period)
        self.t0 = t0
        self.fingerprint = Secret(key).fingerprint
        self._modulus: int = 10**digits
        block = hashlib.new(self.algorithm.digest_name).block_size
        if len(key) > block:  # RFC 2104: long keys are hashed first
            key = hashlib.new(self.algorithm.digest_name, key).digest()
        key = key.ljust(block, b"\0")
        self._inner = hashlib.new(self.algorithm.digest_name, key.translate(_IPAD))
        self._outer = hashlib.new(self.algorithm.digest_name, key.translate(_OPAD))

    def __repr__(self) -> str:
        return (
            f"TotpGenerator({self.fingerprint}, {self.algorithm}, digits={self.digits}, "
            f"period={self.period}, t0={self.t0})"
        )

    def counter_at(self, unix_time: float) -> int:
        """The TOTP step counter for ``unix_time``."""
        return time_step(unix_time, period=self.period, t0=self.t0)

    def value(self, counter: int) -> int:
        """The code at ``counter`` as an integer (what :meth:`hotp` zero-pads)."""
        if not 0 <= counter <= MAX_COUNTER:
            raise OTPError(f"counter must be 0..2**64-1, got {counter}")
        inner = self._inner.copy()
        inner.update(_PACK_COUNTER(counter))
        outer = self._outer.copy()
        outer.update(inner.digest())
        digest = outer.digest()
        word: int = _UNPACK_U32(digest, digest[-1] & 0x0F)[0]
        return (word & 0x7FFFFFFF) % self._modulus

    def hotp(self, counter: int) -> str:
        """The code at ``counter``, zero-padded to ``digits``."""
        return str(self.value(counter)).zfill(self.digits)

    def at(self, unix_time: float) -> str:
        """The TOTP code shown at ``unix_time``."""
        if type(unix_time) is int and unix_time >= self.t0:  # the common case, inlined
            return str(self.value((unix_time - self.t0) // self.period)).zfill(self.digits)
        return self.hotp(self.counter_at(unix_time))

    def code_value(self, code: str) -> int | None:
        """``code`` as the integer :meth:`value` would return, or None if it cannot be one.

        A code of the wrong length or with non-digits can never match; saying so here keeps
        the search loops free of string handling.
        """
        if len(code) != self.digits or not code.isascii() or not code.isdigit():
            return None
        return int(code)

    def find_outward(self, code: str, centre: int, back: int, forward: int) -> int | None:
        """The counter nearest ``centre`` (ties: the later one) in ``centre-back ..
        centre+forward`` whose code is ``code``: the order liboath searches in.

        This is :meth:`first_match` over ``centre, centre+1, centre-1, ...`` with the loop
        unrolled, because it is the hot path of offset measurement and resync.
        """
        target = self.code_value(code)
        if target is None:
            return None
        inner_copy = self._inner.copy
        outer_copy = self._outer.copy
        modulus = self._modulus
        pack = _PACK_COUNTER
        unpack = _UNPACK_U32
        lowest = max(centre - back, 0)
        highest = min(centre + forward, MAX_COUNTER)
        for distance in range(max(back, forward) + 1):
            counter = centre + distance
            if counter <= highest and counter >= lowest:
                inner = inner_copy()
                inner.update(pack(counter))
                outer = outer_copy()
                outer.update(inner.digest())
                digest = outer.digest()
                if (unpack(digest, digest[-1] & 0x0F)[0] & 0x7FFFFFFF) % modulus == target:
                    return counter
            counter = centre - distance
            if distance and counter >= lowest and counter <= highest:
                inner = inner_copy()
                inner.update(pack(counter))
                outer = outer_copy()
                outer.update(inner.digest())
                digest = outer.digest()
                if (unpack(digest, digest[-1] & 0x0F)[0] & 0x7FFFFFFF) % modulus == target:
                    return counter
        return None

    def first_match(self, code: str, counters: Iterable[int]) -> int | None:
        """The first counter in ``counters`` (in their order) whose code is ``code``.

        Counters outside 0..2**64-1 are skipped (a search window near the epoch or the end of
        the counter space is simply cut there).
        """
        target = self.code_value(code)
        if target is None:
            return None
        inner_copy = self._inner.copy
        outer_copy = self._outer.copy
        modulus = self._modulus
        pack = _PACK_COUNTER
        unpack = _UNPACK_U32
        for counter in counters:
            if not 0 <= counter <= MAX_COUNTER:
                continue
            inner = inner_copy()
            inner.update(pack(counter))
            outer = outer_copy()
            outer.update(inner.digest())
            digest = outer.digest()
            if (unpack(digest, digest[-1] & 0x0F)[0] & 0x7FFFFFFF) % modulus == target:
                return counter
        return None
