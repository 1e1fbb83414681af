"""A real-time soak of simulated tokens with known drifts behind a simulated rig's serial path.

Shared by the soak benchmark (``benchmarks/bench_soak.py``) and its tests, so they measure
exactly what ``tokenrig qualify --real-time`` does: ``clock_offset`` for every token, then the
rig's ``drift`` soak, procedure by procedure through the verdict runner.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.procedures import clock_offset, drift
from tokenrig.harness.qualify.profile import Profile, parse_profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.qualify.verdict import run_procedure
from tokenrig.harness.rigs.config import parse_rig
from tokenrig.harness.rigs.rig import open_rig


def soak_profile(real: str, *, until_uncertainty: float | None = None) -> Profile:
    """Only the soak's procedures, with limits wide enough that a short soak is judged."""
    until = "" if until_uncertainty is None else f"until_uncertainty = {until_uncertainty}\n"
    text = (
        'name = "soak-bench"\nprocedures = ["clock_offset", "drift"]\n'
        f'[soak]\nreal = "{real}"\n{until}'
        '[limits."drift.ppm_uncertainty"]\nhigh = 5000\n'
        '[limits."window.days_in_window"]\nlow = 0\n'
    )
    return parse_profile(text, "soak-bench")


@dataclass(frozen=True)
class SoakedToken:
    true_ppm: float
    record: TokenRecord


@contextmanager
def sim_rig_contexts(
    drifts: tuple[float, ...], profile: Profile, *, name: str = "soak-sim"
) -> Iterator[list[ProcedureContext]]:
    """One pty rig holding a C302 per drift, on the host clock: a context per slot."""
    rig_config = parse_rig(
        {
            "name": name,
            "url": "sim",
            "slots": [
                {"slot": i, "model": "C302", "drift_ppm": ppm}
                for i, ppm in enumerate(drifts, start=1)
            ],
        },
        source=name,
    )
    with open_rig(rig_config, lock=False, clock=SYSTEM_CLOCK) as rig:
        contexts = []
        for slot in range(1, len(drifts) + 1):
            token = rig.token(slot)
            record = TokenRecord(
                serial=token.identity.serial,
                slot=slot,
                model="C302",
                selected=list(profile.procedures),
            )
            contexts.append(
                ProcedureContext(
                    token=token,
                    clock=SYSTEM_CLOCK,
                    profile=profile,
                    record=record,
                    seed=SlotSeed.fresh(),
                )
            )
        yield contexts


def soak_sim_tokens(drifts: tuple[float, ...], profile: Profile) -> list[SoakedToken]:
    """Every token's ``clock_offset``, then every token's ``drift`` (one soak for the rig)."""
    with sim_rig_contexts(drifts, profile) as contexts:
        for procedure in (clock_offset, drift):
            for ctx in contexts:
                run_procedure(ctx, procedure.__name__, procedure)
    return [SoakedToken(ppm, c.record) for ppm, c in zip(drifts, contexts, strict=True)]
