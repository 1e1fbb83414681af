"""Secret material: carried in wrappers whose repr, str and pickling never reveal it.

Seeds, API keys, passwords and NFC keys pass through logs, exceptions, reports and pytest's
assertion rewriting. The only safe default is a type that cannot print itself; whoever needs
the bytes asks for them explicitly with :meth:`Secret.reveal`.
A fingerprint (a short keyed hash) lets a record be matched to its seed by whoever holds it
and the station's fingerprint key (:mod:`tokenrig.harness.fingerprint_key`): with a public key a
short seed is found from its fingerprint by trying every value.
Dataclasses that carry secret bytes mark those fields ``field(metadata=SECRET)`` and are
decorated with :func:`redacted`, so their repr (what pytest's ``-l`` prints) shows a length.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, NoReturn, TypeVar

from tokenrig.harness.fingerprint_key import station_key
from tokenrig.harness.scrub import scrub_text

_SECRET_KEY: Final = "tokenrig.secret"  # noqa: S105 (a metadata key, not a password)
_SCRUB_KEY: Final = "tokenrig.scrub"
SECRET: Final[Mapping[str, bool]] = MappingProxyType({_SECRET_KEY: True})
"""Field metadata (``field(metadata=SECRET)``): the value is secret, its repr shows its size."""
SCRUBBED: Final[Mapping[str, bool]] = MappingProxyType({_SCRUB_KEY: True})
"""Field metadata: text from outside (a rig's answer) that may quote a secret; its repr is
passed through :func:`~tokenrig.harness.scrub.scrub_text`."""

_C = TypeVar("_C", bound=type)


def fingerprint(material: bytes) -> str:
    """Short hash of secret material keyed with this station's key (``fp:`` + 12 hex)."""
    return "fp:" + hmac.new(station_key(), material, hashlib.sha256).hexdigest()[:12]


def redacted(cls: _C) -> _C:
    """Give a dataclass a repr that hides its ``SECRET`` fields and scrubs its ``SCRUBBED``
    ones; the other fields show as the generated repr would."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__}: @redacted goes above @dataclass")

    def __repr__(self: object) -> str:
        parts = []
        for item in dataclasses.fields(self):  # type: ignore[arg-type]
            if not item.repr:
                continue
            value = getattr(self, item.name)
            if item.metadata.get(_SECRET_KEY):
                shown = describe_secret(value)
            elif item.metadata.get(_SCRUB_KEY):
                shown = scrub_text(repr(value))
            else:
                shown = repr(value)
            parts.append(f"{item.name}={shown}")
        return f"{type(self).__qualname__}({', '.join(parts)})"

    __repr__.redacting = True  # type: ignore[attr-defined]
    cls.__repr__ = __repr__  # type: ignore[method-assign]
    return cls


def describe_secret(value: object) -> str:
    """What a secret value may show of itself: its type and size."""
    if value is None:
        return "None"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes redacted>"
    if isinstance(value, str):
        return f"<{len(value)} chars redacted>"
    if isinstance(value, Mapping | list | tuple | set):
        return f"<{type(value).__name__} of {len(value)} redacted>"
    return f"<{type(value).__name__} redacted>"


def is_secret_field(cls: type, name: str) -> bool:
    """Whether dataclass ``cls`` hides field ``name`` from its repr (the completeness test
    asks): left out of the repr, or marked ``SECRET`` in a class decorated :func:`redacted`."""
    fields: Callable[[type], tuple[dataclasses.Field[Any], ...]] = dataclasses.fields
    decorated = getattr(cls.__repr__, "redacting", False)
    return any(
        f.name == name and (not f.repr or (decorated and f.metadata.get(_SECRET_KEY)))
        for f in fields(cls)
    )


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
