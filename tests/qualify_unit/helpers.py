"""Helpers for running qualification procedures on simulated tokens in virtual time."""

from __future__ import annotations

from collections.abc import Iterable

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.procedures import PROCEDURE_FUNCTIONS, provision
from tokenrig.harness.qualify.profile import Profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.qualify.verdict import run_procedure, selected_procedures
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.tokens.base import Token
from tokenrig.harness.tokens.sim_token import SimToken


def qualify_token(
    token: Token, clock: VirtualClock, profile: Profile, seed: SlotSeed | None = None
) -> TokenRecord:
    """Every procedure of ``profile`` and the final provisioning, as the suite runs them."""
    record = TokenRecord(
        serial=token.identity.serial,
        slot=1,
        model=token.identity.model,
        selected=selected_procedures(profile.procedures),
    )
    ctx = ProcedureContext(
        token=token, clock=clock, profile=profile, record=record, seed=seed or SlotSeed.fresh()
    )
    for name in profile.procedures:
        run_procedure(ctx, name, PROCEDURE_FUNCTIONS[name])
    run_procedure(ctx, "provision", provision)
    return record


def sim_token(
    model: str,
    *,
    faults: Iterable[str] = (),
    drift_ppm: float = 0.0,
    rtc_offset: float = 0.0,
    start: float = 1_767_225_600.0,
) -> tuple[SimToken, VirtualClock]:
    clock = VirtualClock(start)
    firmware: SimFirmware = make_sim_firmware(
        model, clock=clock, drift_ppm=drift_ppm, rtc_offset=rtc_offset, faults=faults
    )
    return SimToken(firmware), clock
