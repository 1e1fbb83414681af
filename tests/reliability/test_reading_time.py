"""A code read from a token is judged at the time of the reading, with the sync's slack, never
at "now" and never as if the sync were exact.

The step-boundary flake, reproduced deterministically on a virtual clock: a burn writes whole
seconds, so right after it the token's clock lags the host's by up to a second. A reading
taken just after a step boundary (host time) may show the previous step's code although the
token is perfect. ``code == totp(seed, reading.host_time)`` then fails one run in ~60 (two
tests under ``tests/nfc`` compared that way and were fixed); the harness's own check,
:func:`tokenrig.harness.qualify.observe.check_reading`, accepts it; and comparing with "now" at
assertion time fails even more often, since "now" is later still.
"""

from __future__ import annotations

import pytest

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.otp.hotp import Algorithm, totp
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed, Sync
from tokenrig.harness.qualify.diagnose import Burned
from tokenrig.harness.qualify.observe import check_reading
from tokenrig.harness.qualify.profile import load_profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.factory import make_sim_token
from tokenrig.harness.tokens.base import BurnRequest, DisplayReading

SEED = bytes(range(1, 21))
BOUNDARY = 1_700_000_010  # a multiple of 30


@pytest.fixture
def lagging_reading() -> tuple[ProcedureContext, Sync, DisplayReading]:
    clock = VirtualClock(start=BOUNDARY - 0.05)  # 50 ms before a step boundary
    token = make_sim_token("C302", clock=clock)
    token.burn(BurnRequest(secret=Secret(SEED), clock_time=int(clock.now())))  # 0.95 s behind
    sync = Sync(host=clock.now(), token=int(clock.now()), burned=Burned(SEED, Algorithm.SHA1, 30))
    clock.advance(0.5)  # now past the boundary on the host, not yet on the token
    token.press()
    reading = token.read_display()
    clock.advance(2.0)  # the assertion runs a little later still
    ctx = ProcedureContext(
        token=token,
        clock=clock,
        profile=load_profile("qa"),
        record=TokenRecord(serial=token.identity.serial, slot=1, model="C302"),
        seed=SlotSeed(Secret(SEED)),
    )
    return ctx, sync, reading


def test_a_healthy_token_read_after_a_boundary_fails_the_naive_comparisons(
    lagging_reading: tuple[ProcedureContext, Sync, DisplayReading],
) -> None:
    ctx, _sync, reading = lagging_reading
    assert reading.code == totp(SEED, BOUNDARY - 1)  # the token is right for its own clock
    assert reading.code != totp(SEED, reading.host_time)  # naive: judged at the reading
    assert reading.code != totp(SEED, ctx.clock.now())  # worse: judged at assertion time


def test_the_harness_check_accepts_it_and_still_rejects_a_wrong_code(
    lagging_reading: tuple[ProcedureContext, Sync, DisplayReading],
) -> None:
    ctx, sync, reading = lagging_reading
    assert check_reading(ctx, sync, reading) is None
    wrong = DisplayReading(code=totp(SEED, BOUNDARY + 300), host_time=reading.host_time)
    assert check_reading(ctx, sync, wrong) is not None
