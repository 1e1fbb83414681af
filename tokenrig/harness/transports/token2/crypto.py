"""SM4 primitives of the Token2 programming protocol, on top of ``cryptography``'s SM4.

Token2 tokens protect seed writes with SM4 (GB/T 32907): the seed is SM4-ECB encrypted after
ISO/IEC 9797-1 padding method 2, and every secure command carries a 4-byte SM4-CBC MAC. The
cipher itself comes from ``cryptography`` (no hand-written cipher); this module only holds the
padding rules and the MAC construction, because that is where the published tools differ:

* the *seed* is always padded (``0x80`` then zeros), so a block-aligned seed of 16, 32 or 48
  bytes gets a whole extra block; a tool that skips it gets the write rejected;
* the *MAC* input is padded only when it is not already block-aligned.

Keys are plain ``bytes`` inside this module (the cipher needs them) but never appear in an
exception message: every error here names lengths, never values.
"""

from __future__ import annotations

import hashlib
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK: Final = 16
MAC_LEN: Final = 4

# The fixed SM4 key of the single-profile tokens. It is public (published by the vendor in
# its burner app and open firmware) and identical on every device; it is a protocol constant,
# not a secret of the user's. Kept as bytes because every single-profile command needs it.
DEVICE_KEY: Final = bytes.fromhex("8AD206883CA369482AB27182B6E83224")

# Factory customer key of a Molto2 (16 ASCII bytes); the SM4 key is derived from it.
MOLTO2_DEFAULT_CUSTOMER_KEY: Final = b"TOKEN2MOLTO1-KEY"


class PaddingError(ValueError):
    """Decrypted data does not end in ISO/IEC 9797-1 method 2 padding."""


def _check_key(key: bytes) -> None:
    if len(key) != BLOCK:
        raise ValueError(f"an SM4 key is {BLOCK} bytes, got {len(key)}")


def _check_blocks(data: bytes, what: str) -> None:
    if not data or len(data) % BLOCK:
        raise ValueError(f"{what} must be a non-empty multiple of {BLOCK} bytes, got {len(data)}")


def sm4_ecb_encrypt(key: bytes, data: bytes) -> bytes:
    """SM4-ECB over whole blocks (the protocol's choice, not ours: each block stands alone)."""
    _check_key(key)
    _check_blocks(data, "SM4-ECB input")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 - protocol
    return encryptor.update(data) + encryptor.finalize()


def sm4_ecb_decrypt(key: bytes, data: bytes) -> bytes:
    """Inverse of :func:`sm4_ecb_encrypt` (the simulated token uses it to read a seed write)."""
    _check_key(key)
    _check_blocks(data, "SM4-ECB input")
    decryptor = Cipher(algorithms.SM4(key), modes.ECB()).decryptor()  # noqa: S305 - protocol
    return decryptor.update(data) + decryptor.finalize()


def sm4_cbc_encrypt(key: bytes, data: bytes, iv: bytes = bytes(BLOCK)) -> bytes:
    """SM4-CBC over whole blocks; the MAC uses it with an all-zero IV."""
    _check_key(key)
    _check_blocks(data, "SM4-CBC input")
    encryptor = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def pad_iso9797_m2(data: bytes) -> bytes:
    """ISO/IEC 9797-1 padding method 2: always ``0x80``, then zeros to a block boundary.

    "Always" is the point: 16, 32 and 48 bytes of input become 32, 48 and 64 bytes.
    """
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % BLOCK)


def unpad_iso9797_m2(data: bytes) -> bytes:
    """Strip method-2 padding: the last ``0x80`` with only zeros after it."""
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise PaddingError(f"no ISO/IEC 9797-1 method 2 padding in {len(data)} bytes")
    if len(data) - len(stripped) >= BLOCK:
        raise PaddingError(f"padding longer than one block in {len(data)} bytes")
    return stripped[:-1]


def mac_input_padding(message: bytes) -> bytes:
    """The MAC's padding: method 2, but only when ``message`` is not block-aligned."""
    return message if len(message) % BLOCK == 0 else pad_iso9797_m2(message)


def sm4_mac(key: bytes, message: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 1 with SM4: CBC, IV 0, first 4 bytes of the last block."""
    chained = sm4_cbc_encrypt(key, mac_input_padding(message))
    return chained[-BLOCK : -BLOCK + MAC_LEN]


def auth_response(key: bytes, challenge: bytes) -> bytes:
    """The answer to a challenge: ``SM4-ECB(key, challenge ‖ 00×8)``."""
    if len(challenge) != 8:
        raise ValueError(f"a challenge is 8 bytes, got {len(challenge)}")
    return sm4_ecb_encrypt(key, challenge + bytes(8))


def molto2_sm4_key(customer_key: bytes) -> bytes:
    """A Molto2's SM4 key: the first 16 bytes of SHA-1 over the 16-byte customer key."""
    if len(customer_key) != BLOCK:
        raise ValueError(f"a Molto2 customer key is {BLOCK} bytes, got {len(customer_key)}")
    return hashlib.sha1(customer_key).digest()[:BLOCK]  # noqa: S324 - the device's derivation
