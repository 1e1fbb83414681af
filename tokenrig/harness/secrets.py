"""Secret material: carried in wrappers whose repr, str and pickling never reveal it.

Seeds, API keys, passwords and NFC keys pass through logs, exceptions, reports and pytest's
assertion rewriting. The only safe default is a type that cannot print itself; whoever needs
the bytes asks for them explicitly with :meth:`Secret.reveal`.
A fingerprint (a short keyed hash) lets a record be matched to its seed by whoever holds it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final, NoReturn

# Fixed, public context string: fingerprints are for matching, not for hiding a weak seed.
_FINGERPRINT_KEY: Final = b"tokenrig seed fingerprint v1"


def fingerprint(material: bytes) -> str:
    """Short keyed hash of secret material, safe to print and store (``fp:`` + 12 hex)."""
    return "fp:" + hmac.new(_FINGERPRINT_KEY, material, hashlib.sha256).hexdigest()[:12]


class Secret:
    """Bytes that must never be printed. ``repr`` shows only the kind, length and fingerprint."""

    __slots__ = ("_kind", "_value")

    def __init__(self, value: bytes, kind: str = "secret") -> None:
        if not isinstance(value, bytes | bytearray):
            raise TypeError(f"{kind} must be bytes, got {type(value).__name__}")
        self._value = bytes(value)
        self._kind = kind

    def reveal(self) -> bytes:
        """The secret bytes. Call only where they are written to a token or a cipher."""
        return self._value

    @property
    def fingerprint(self) -> str:
        return fingerprint(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        return f"<{self._kind} {len(self._value)} bytes {self.fingerprint}>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"a {self._kind} cannot be pickled")


class SecretText:
    """A text secret (API key, password): same rules as :class:`Secret`."""

    __slots__ = ("_kind", "_value")

    def __init__(self, value: str, kind: str = "secret") -> None:
        self._value = value
        self._kind = kind

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretText) and hmac.compare_digest(
            self._value.encode(), other._value.encode()
        )

    def __hash__(self) -> int:
        return hash(fingerprint(self._value.encode()))

    def __repr__(self) -> str:
        return f"<{self._kind} redacted>"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError(f"a {self._kind} cannot be pickled")
