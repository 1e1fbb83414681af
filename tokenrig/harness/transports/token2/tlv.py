"""The one-byte-tag, one-byte-length TLV the Token2 config commands carry (plaintext + MAC)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tokenrig.harness.secrets import SECRET, redacted

TAG_SYS_CONFIG = 0x81
TAG_DISPLAY_TIMEOUT = 0x1F
TAG_UTC_TIME = 0x0F
TAG_TOTP_PARAMS = 0x86
TAG_HMAC = 0x0A
TAG_DIGITS = 0x0B
TAG_TIME_STEP = 0x0D
TAG_PUBLIC_DATA = 0x95
TAG_SEED_INFO = 0x70


class TlvError(ValueError):
    """A TLV does not parse; the message says at which offset."""


@redacted
@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes = field(metadata=SECRET)

    def encode(self) -> bytes:
        if len(self.value) > 0x7F:
            raise TlvError(f"TLV {self.tag:02X}: value of {len(self.value)} bytes is too long")
        return bytes((self.tag, len(self.value))) + self.value


def encode(*items: Tlv) -> bytes:
    return b"".join(item.encode() for item in items)


def parse(data: bytes) -> list[Tlv]:
    """Split ``data`` into TLVs; every byte must belong to one."""
    items: list[Tlv] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise TlvError(f"truncated TLV header at offset {offset}")
        tag, length = data[offset], data[offset + 1]
        end = offset + 2 + length
        if end > len(data):
            raise TlvError(f"TLV {tag:02X} at offset {offset} claims {length} bytes, has fewer")
        items.append(Tlv(tag, data[offset + 2 : end]))
        offset = end
    return items


def single(data: bytes, tag: int) -> bytes:
    """The value of the only TLV in ``data``, which must carry ``tag``."""
    items = parse(data)
    if len(items) != 1 or items[0].tag != tag:
        found = " ".join(f"{item.tag:02X}" for item in items) or "nothing"
        raise TlvError(f"expected one TLV {tag:02X}, found {found}")
    return items[0].value
