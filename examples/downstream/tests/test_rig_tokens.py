"""Every badge in the rig (``--rig``, default rigs/lab-sim.toml) shows the RFC 6238 code of a
seed burned into it.

``token`` runs this test once per token in the rig, each named by its serial; on the CI runner
with the USB rig these are the real badges (and they keep the test seed afterwards).
"""

import base64
import secrets

import pyotp

from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import BurnRequest


def test_each_badge_shows_the_code_of_its_seed(token):
    seed = secrets.token_bytes(20)
    token.burn(BurnRequest(secret=Secret(seed, kind="seed")))  # clock set to host time

    token.press()
    reading = token.read_display()

    totp = pyotp.TOTP(base64.b32encode(seed).decode())
    # The token's clock is set in whole seconds, so it may lag the reading by up to 1 s.
    slack = reading.uncertainty + 1.0
    expected = {totp.at(int(reading.host_time - slack)), totp.at(int(reading.host_time + slack))}
    assert reading.code in expected, f"{token.identity.serial} shows {reading.code}"
