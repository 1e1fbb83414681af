"""pytest plugin for the canary test: every TOTP seed the emulator hands out and every portal
password the enrollment fixtures make starts with a known canary, so a search of what the run
wrote finds any of them in any spelling. Each use is tallied in ``$LEAK_PROBE_TALLY`` (proof
that the canaries were really used).

Loaded with ``-p leak_probe_plugin`` by ``test_secret_canaries.py``; never by the suites.
"""

from __future__ import annotations

import itertools
import os
import secrets
from typing import Any

import pytest

SEED_PREFIX = b"tokenrig-canary"  # 15 bytes: its base32, base64 and hex are whole characters
PASSWORD_MARK = "canaryPW"
_numbers = itertools.count(1)


def _tally(kind: str) -> None:
    with open(os.environ["LEAK_PROBE_TALLY"], "a") as tally:
        tally.write(kind + "\n")


def _seed(nbytes: int = 20) -> Any:
    from tokenrig.harness.secrets import Secret

    if nbytes < len(SEED_PREFIX) + 2:
        return Secret(secrets.token_bytes(nbytes), kind="TOTP seed")
    _tally("seed")
    tail = next(_numbers).to_bytes(nbytes - len(SEED_PREFIX), "big")
    return Secret(SEED_PREFIX + tail, kind="TOTP seed")


def _password() -> Any:
    from tokenrig.harness.secrets import SecretText

    _tally("password")
    return SecretText(f"Tr-{PASSWORD_MARK}{next(_numbers):05d}xq-9a", "portal password")


def pytest_configure(config: pytest.Config) -> None:
    import tokenrig.fixtures.enrollment as enrollment
    import tokenrig.harness.jumpcloud.emulator.portal_flows as flows

    flows.new_totp_secret = _seed  # type: ignore[attr-defined]
    enrollment.new_password = _password
