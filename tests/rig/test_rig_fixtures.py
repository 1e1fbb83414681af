"""The fixtures users write tests with: ``rig``, ``token`` (per slot) and ``sim_token_factory``."""

from __future__ import annotations

import base64

import pyotp
import pytest

from tokenrig.fixtures.tokens import SimTokenFactory
from tokenrig.harness.rigs.rig import Rig
from tokenrig.harness.secrets import Secret
from tokenrig.harness.tokens.base import BurnRequest
from tokenrig.harness.tokens.rig_token import RigToken
from tokenrig.harness.tokens.sim_token import SimToken

SEED = b"fixture seed 20 byte"


def _totp(t: int) -> str:
    return str(pyotp.TOTP(base64.b32encode(SEED).decode()).at(t))


def test_default_rig_is_a_simulated_rig_on_a_real_pty(rig: Rig) -> None:
    assert rig.name == "sim"
    assert rig.url.startswith("/dev/pts/")
    assert rig.sim is not None
    assert rig.client.slot_count() == 8


def test_token_fixture_gives_one_test_per_slot_named_by_serial(
    token: RigToken, request: pytest.FixtureRequest
) -> None:
    assert request.node.callspec.id == token.serial
    assert token.identity.model == token.spec.name
    token.burn(BurnRequest(secret=Secret(SEED), clock_time=31, digits=min(token.spec.digits)))
    token.press()
    code = token.read_display().code
    assert code is not None
    assert len(code) == min(token.spec.digits)


@pytest.mark.parametrize("via", ["inproc", "pty"])
def test_factory_builds_tokens_with_the_chosen_model(
    sim_token_factory: SimTokenFactory, via: str
) -> None:
    token = sim_token_factory("OTPC-P1", via=via)
    assert token.identity.model == "OTPC-P1"
    assert isinstance(token, SimToken if via == "inproc" else RigToken)


@pytest.mark.parametrize("via", ["inproc", "pty"])
def test_a_fault_chosen_in_the_factory_is_observable_through_the_token(
    sim_token_factory: SimTokenFactory,
    via: str,
) -> None:
    healthy = sim_token_factory("C302", via=via)
    faulty = sim_token_factory("C302", faults=["off_by_one_step"], via=via, index=2)
    for token in (healthy, faulty):
        token.burn(BurnRequest(secret=Secret(SEED), clock_time=31))
        token.press()
    assert healthy.read_display().code == _totp(31)
    assert faulty.read_display().code == _totp(61)  # the next step's code


def test_factory_drift_shows_in_the_token_clock(sim_token_factory: SimTokenFactory) -> None:
    from tokenrig.harness.clock import VirtualClock

    clock = VirtualClock(start=1_800_000_000)
    token = sim_token_factory("C302", drift_ppm=100.0, clock=clock)
    token.set_clock(1_800_000_000)
    clock.advance(86_400)
    assert token.read_clock() == 1_800_000_000 + 86_400 + 8  # 100 ppm of a day is 8.64 s
