"""One test module, three ways to reach a token: the Token contract holds on every path.

(a) the in-process simulated token, (b) the same firmware behind the rig protocol on a real
kernel pty, (c) that pty exported over RFC 2217 by a real ser2net on 127.0.0.1, started here.
If the rig protocol, the serial client or the time mapping bent any behaviour, one of the
three parametrizations would fail where the others pass.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import pyotp
import pytest

from tokenrig.fixtures.rig import start_ser2net
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.apdu_card import card_for
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer
from tokenrig.harness.tokens.base import (
    BurnRequest,
    DisplayReading,
    SeedState,
    Token,
    TokenIdentity,
)
from tokenrig.harness.tokens.models import UnsupportedConfig
from tokenrig.harness.tokens.rig_token import RIG_TICK_S, RigToken
from tokenrig.harness.tokens.sim_token import SimToken
from tokenrig.harness.transports.rig_client import RigClient

pytestmark = pytest.mark.filterwarnings(
    "ignore:set(Daemon|Name)\\(\\) is deprecated:DeprecationWarning"  # pyserial rfc2217
)

MODELS = ("C302", "C301", "Molto2")
RFC_SEED = b"12345678901234567890"

TokenByModel = Callable[[str], Token]


@pytest.fixture(scope="module", params=["inproc", "pty", "rfc2217"])
def token_by_model(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TokenByModel]:
    firmwares = [
        make_sim_firmware(name, clock=SYSTEM_CLOCK, index=i + 1) for i, name in enumerate(MODELS)
    ]
    if request.param == "inproc":
        tokens = {fw.identity.model: SimToken(fw) for fw in firmwares}
        yield tokens.__getitem__
        return
    server = PtyRigServer(SimRig(list(firmwares), clock=SYSTEM_CLOCK, apdu_factory=card_for))
    with server:
        if request.param == "pty":
            yield from _rig_tokens(server.path, firmwares)
        else:
            workdir = tmp_path_factory.mktemp("ser2net")
            with start_ser2net(server.path, workdir) as url:
                yield from _rig_tokens(url, firmwares)


def _rig_tokens(url: str, firmwares: list[SimFirmware]) -> Iterator[TokenByModel]:
    with RigClient(url, name="contract-rig", timeout=3.0) as client:
        tokens = {
            fw.identity.model: RigToken(
                client,
                slot,
                identity=TokenIdentity(fw.identity.serial, fw.identity.model, "1.0"),
                spec=fw.spec,
            )
            for slot, fw in enumerate(firmwares, start=1)
        }
        yield tokens.__getitem__


def _totp(seed: bytes, t: float, *, digits: int = 6, period: int = 30) -> str:
    return str(
        pyotp.TOTP(base64.b32encode(seed).decode(), digits=digits, interval=period).at(int(t))
    )


def _plausible_codes(seed: bytes, reading: DisplayReading, digits: int = 6) -> set[str]:
    """Codes the token may show: its clock is set to whole seconds, so it lags by < 1 s."""
    slack = reading.uncertainty
    return {
        _totp(seed, t, digits=digits)
        for t in (reading.host_time - slack - 1.0, reading.host_time + slack)
    }


def _burn(token: Token, seed: bytes = RFC_SEED, **fields: object) -> None:
    token.burn(BurnRequest(secret=Secret(seed, kind="seed"), **fields))  # type: ignore[arg-type]


def test_identity_names_model_and_serial(token_by_model: TokenByModel) -> None:
    token = token_by_model("C302")
    assert token.identity.model == "C302"
    assert token.identity.serial.startswith("8659632")
    assert token.spec.name == "C302"


def test_burned_token_shows_the_rfc6238_code_of_the_reading_time(
    token_by_model: TokenByModel,
) -> None:
    token = token_by_model("C302")
    _burn(token)
    token.press()
    reading = token.read_display()
    assert reading.code is not None
    assert reading.code in _plausible_codes(RFC_SEED, reading)


def test_clock_written_with_the_config_is_what_the_token_counts_from(
    token_by_model: TokenByModel,
) -> None:
    token = token_by_model("C302")
    _burn(token, clock_time=31)  # RFC 6238 step 1 for the next 29 s
    token.press()
    assert token.read_display().code == "287082"
    assert 31 <= token.read_clock() <= 40


def test_power_cycle_turns_the_display_off_and_keeps_the_seed(
    token_by_model: TokenByModel,
) -> None:
    token = token_by_model("C302")
    _burn(token, clock_time=31)
    token.press()
    assert token.read_display().code is not None
    token.power_cycle()
    assert token.read_display().code is None
    token.press()
    assert token.read_display().code == "287082"


def test_time_sync_keeps_the_seed_on_c302_and_erases_it_on_c301(
    token_by_model: TokenByModel,
) -> None:
    kept, erased = token_by_model("C302"), token_by_model("C301")
    _burn(kept)
    _burn(erased)
    assert kept.set_clock(1_000_000_000) is SeedState.KEPT
    assert erased.set_clock(1_000_000_000) is SeedState.ERASED
    erased.press()
    assert erased.read_display().code is None


def test_unsupported_burn_is_refused_and_nothing_is_written(
    token_by_model: TokenByModel,
) -> None:
    token = token_by_model("C301")
    _burn(token, clock_time=31)
    with pytest.raises(UnsupportedConfig, match=r"C301: digits"):
        _burn(token, seed=b"another seed 20 byte", digits=8)
    token.press()
    assert token.read_display().code == "287082"  # the old seed and clock are untouched


def test_molto2_shows_eight_digit_sha256_codes(token_by_model: TokenByModel) -> None:
    token = token_by_model("Molto2")
    seed = b"12345678901234567890123456789012"
    _burn(token, seed=seed, digits=8, algorithm=Algorithm.SHA256, clock_time=31)
    token.press()
    assert token.read_display().code == "46119246"  # RFC 6238 SHA256 vector, step 1 (T=59)


def test_reading_time_is_host_time_with_bounded_uncertainty(
    token_by_model: TokenByModel,
) -> None:
    token = token_by_model("C302")
    before = SYSTEM_CLOCK.now()
    reading = token.read_display()
    after = SYSTEM_CLOCK.now()
    assert before - reading.uncertainty <= reading.host_time <= after + reading.uncertainty
    map_sigma = float(reading.extra.get("map_sigma_s", "0"))
    assert 0 <= reading.uncertainty <= (after - before) / 2 + RIG_TICK_S + map_sigma
