"""Drift uncertainty of a real-time soak: every boundary on rig stamps vs 7 polled samples.

One run, simulated rig on a kernel pty, real time: two C302s with known drifts (+12.5 and
-7.0 ppm) soak on one rig with the every-boundary soak while two more (same drifts) on a
second rig are measured the old way (7 display timings spread over the soak, polled over
serial), side by side in threads. Then, with the full run only, one more token soaks with
``until_uncertainty = 2.0`` to show the soak stopping well before its 10-minute maximum.

The claim (issue 17): a 10-minute soak gives each token's drift to <= 1.5 ppm (1 sigma), the
true drift inside 3 sigma. Every run asserts it, scaled to its length by the sigma ~ T^-1.5
law (bound = 1.5 ppm x (10 min / T)^1.5), so the short CI run checks the same claim:

    python benchmarks/bench_soak.py            # the 10-minute comparison (~14 min in all)
    python benchmarks/bench_soak.py 5          # a 5-minute one
    pytest benchmarks/bench_soak.py -s         # what ./dev test runs: ~2 min, no 7-sample side
    TOKENRIG_BENCH_SOAK_MINUTES=10 pytest benchmarks/bench_soak.py -s   # both sides, 10 min

The CI run leaves the 7-sample side out: its samples wait for display changes and outlast a
2-minute soak by a minute (measured: 182 s with it, against ~2 min without).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass

from tokenrig.harness.otp.drift import estimate_drift
from tokenrig.harness.qualify import procedures, soak
from tokenrig.harness.qualify.context import ProcedureContext
from tokenrig.harness.qualify.profile import parse_profile
from tokenrig.harness.qualify.soak_bench import (
    SoakedToken,
    sim_rig_contexts,
    soak_profile,
    soak_sim_tokens,
)

DRIFTS = (12.5, -7.0)
CLAIM_PPM = 1.5  # 1 sigma after CLAIM_MINUTES
CLAIM_MINUTES = 10.0
ASKED_MINUTES = os.environ.get("TOKENRIG_BENCH_SOAK_MINUTES")
CI_MINUTES = float(ASKED_MINUTES or "2")


def claimed_sigma(minutes: float) -> float:
    """The claim scaled to a soak of ``minutes``: sigma falls as T^-1.5."""
    return CLAIM_PPM * (CLAIM_MINUTES / minutes) ** 1.5


@dataclass(frozen=True)
class Row:
    true_ppm: float
    ppm: float
    sigma: float
    boundaries: int
    old_ppm: float | None  # the 7-sample method's, when it ran alongside
    old_sigma: float | None

    @property
    def sigmas_off(self) -> float:
        return abs(self.ppm - self.true_ppm) / self.sigma


class _SevenSamples:
    """The old method: ``procedures._soak_spread`` (7 timed display changes) in real time."""

    def __init__(self, minutes: float) -> None:
        self.profile = parse_profile(
            f'name = "seven"\nprocedures = ["drift"]\n[soak]\nvirtual = "{minutes * 60:g}s"\n'
            "samples = 7\n",
            "seven",
        )
        self.results: dict[float, tuple[float, float]] = {}

    def run(self) -> None:
        with sim_rig_contexts(DRIFTS, self.profile, name="seven-sim") as contexts:
            threads = [
                threading.Thread(target=self._one, args=(ctx, ppm))
                for ctx, ppm in zip(contexts, DRIFTS, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

    def _one(self, ctx: ProcedureContext, ppm: float) -> None:
        _, samples = procedures._soak_spread(ctx)
        fit = estimate_drift(samples)
        self.results[ppm] = (fit.ppm, fit.uncertainty_ppm)


def compare(minutes: float, *, old_side: bool = True) -> list[Row]:
    """The every-boundary soak over ``minutes`` of real time, and (``old_side``) the 7-sample
    method over the same minutes on a second simulated rig, in a thread alongside."""
    seven = _SevenSamples(minutes)
    old = threading.Thread(target=seven.run)
    if old_side:
        old.start()
    new: list[SoakedToken] = soak_sim_tokens(DRIFTS, soak_profile(f"{minutes * 60:g}s"))
    if old_side:
        old.join()
    rows = []
    for token in new:
        drift = token.record.measurement("drift.ppm")
        sigma = token.record.measurement("drift.ppm_uncertainty")
        assert token.record.findings == [], token.record.findings
        assert drift is not None, token.record.inconclusive
        assert sigma is not None, token.record.inconclusive
        old_ppm, old_sigma = seven.results.get(token.true_ppm, (None, None))
        boundaries = len(token.record.offset_series)
        rows.append(Row(token.true_ppm, drift.value, sigma.value, boundaries, old_ppm, old_sigma))
    return rows


def describe(minutes: float, rows: list[Row]) -> list[str]:
    lines = [
        f"{minutes:g}-minute real-time soak, simulated pty rig, C302 tokens "
        f"(claim scaled to this soak: sigma <= {claimed_sigma(minutes):.2f} ppm)"
    ]
    for row in rows:
        to_one = minutes * row.sigma ** (2 / 3)  # sigma falls as T^-1.5
        old = "not run" if row.old_ppm is None else f"{row.old_ppm:+7.2f} ± {row.old_sigma:.2f} ppm"
        lines.append(
            f"true {row.true_ppm:+6.2f} ppm | every boundary: {row.ppm:+7.3f} ± {row.sigma:.3f} "
            f"ppm ({row.sigmas_off:.1f} σ, {row.boundaries} boundaries; ±1 ppm after "
            f"~{to_one:.1f} min) | 7 samples: {old}"
        )
    return lines


def check_claim(minutes: float, rows: list[Row]) -> None:
    for row in rows:
        assert row.sigma <= claimed_sigma(minutes), row
        assert row.sigmas_off <= 3.0, row


def until_uncertainty_run(target: float = 2.0, maximum_min: float = 10.0) -> tuple[float, float]:
    """One token, ``until_uncertainty = target``: (minutes the soak took, sigma reached)."""
    heard: list[soak.SoakStatus] = []
    soak.SOAK_LISTENERS.append(heard.append)
    try:
        profile = soak_profile(f"{maximum_min * 60:g}s", until_uncertainty=target)
        token = soak_sim_tokens(DRIFTS[:1], profile)[0]
    finally:
        soak.SOAK_LISTENERS.remove(heard.append)
    sigma = token.record.measurement("drift.ppm_uncertainty")
    assert sigma is not None, token.record.findings
    assert heard, "the soak reported no progress"
    return heard[-1].elapsed / 60, sigma.value


def test_soak_claim_scaled() -> None:
    """The issue's claim at CI length (2 min unless TOKENRIG_BENCH_SOAK_MINUTES says)."""
    rows = compare(CI_MINUTES, old_side=ASKED_MINUTES is not None)
    for line in describe(CI_MINUTES, rows):
        print(line)
    check_claim(CI_MINUTES, rows)


def main(minutes: float) -> None:
    began = time.monotonic()
    rows = compare(minutes)
    for line in describe(minutes, rows):
        print(line, flush=True)
    took, sigma = until_uncertainty_run()
    print(f"until_uncertainty = 2.0, max 10 min: ended after {took:.1f} min at ± {sigma:.2f} ppm")
    print(f"benchmark wall time {(time.monotonic() - began) / 60:.1f} min")
    check_claim(minutes, rows)
    assert sigma <= 2.0, sigma
    assert took < 0.6 * 10.0, took


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else CLAIM_MINUTES)
