"""ISO 7816-4 command/response framing as the Token2 tokens use it (short APDUs, no SELECT).

A :class:`Command` knows whether its body is sensitive: a seed write carries the seed encrypted
under a *public* key, which is as good as the seed in clear, so its log form hides the body.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenrig.harness.secrets import SECRET, redacted

CLA_PLAIN = 0x80
CLA_SECURE = 0x84  # secure-messaging class: the body ends in a 4-byte MAC


@dataclass(frozen=True)
class Command:
    """One command APDU. ``name`` is what errors and logs call it ("seed write")."""

    name: str
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None
    sensitive: bool = field(default=False)

    def __post_init__(self) -> None:
        for label, value in (
            ("CLA", self.cla),
            ("INS", self.ins),
            ("P1", self.p1),
            ("P2", self.p2),
        ):
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{self.name}: {label} must be one byte, got {value}")
        if len(self.data) > 255:
            raise ValueError(f"{self.name}: body of {len(self.data)} bytes exceeds a short APDU")

    def encode(self) -> bytes:
        out = bytes((self.cla, self.ins, self.p1, self.p2))
        if self.data:
            out += bytes((len(self.data),)) + self.data
        if self.le is not None:
            out += bytes((self.le & 0xFF,))
        return out

    def for_log(self) -> str:
        """Hex of the APDU, with the body replaced by its length when it is sensitive."""
        header = bytes((self.cla, self.ins, self.p1, self.p2))
        if self.sensitive and self.data:
            return (
                f"{header.hex(' ').upper()} {len(self.data):02X} <{len(self.data)} bytes redacted>"
            )
        return self.encode().hex(" ").upper()

    def __repr__(self) -> str:
        return f"Command({self.name}: {self.for_log()})"


@redacted
@dataclass(frozen=True)
class Response:
    """A response APDU: data and the two status bytes."""

    data: bytes = field(metadata=SECRET)
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        if len(raw) < 2:
            raise ValueError(f"a response APDU has at least 2 status bytes, got {len(raw)} bytes")
        return cls(data=bytes(raw[:-2]), sw=(raw[-2] << 8) | raw[-1])

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    def for_log(self) -> str:
        return f"{self.data.hex(' ').upper()} [{self.sw:04X}]".lstrip()
