"""A Molto2's customer key, from ``$TOKENRIG_MOLTO2_KEY`` (never from a command line, where
other users of the machine could read it): 16 ASCII characters or 32 hex digits; unset means
the factory key. Shared by ``tokenrig burn`` and the camera rig's NFC readers."""

from __future__ import annotations

import os

from tokenrig.harness.secrets import Secret

MOLTO2_KEY_ENV = "TOKENRIG_MOLTO2_KEY"


class CustomerKeyError(ValueError):
    """The key setting is malformed (the message names the variable, never the value)."""


def customer_key_from_env() -> Secret | None:
    raw = os.environ.get(MOLTO2_KEY_ENV)
    if not raw:
        return None
    if len(raw) == 16:
        return Secret(raw.encode("ascii", "replace"), kind="Molto2 customer key")
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        key = b""
    if len(key) != 16:
        raise CustomerKeyError(f"${MOLTO2_KEY_ENV}: need 16 ASCII characters or 32 hex digits")
    return Secret(key, kind="Molto2 customer key")
