"""Batch qualification throughput: ``tokenrig qualify --sim --slots N --profile qa``.

The qa profile soaks each token for 30 days of virtual time, so what is measured is the
harness itself: procedures, display polling, records and the report, per token. Also the
real-time figures a rig user cares about: how long one token takes to a verdict through the
serial path (no soak), and the resolution of the clock offset timed from its display.

Run: ``.venv/bin/pytest benchmarks/bench_qualify.py -s`` (add ``TOKENRIG_BENCH_LARGE=1`` for
1,000 slots). Numbers go to ``extra_info`` and stdout; nothing here asserts a speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tokenrig.fixtures.tokens import SimTokenFactory
from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.qualify.context import ProcedureContext, SlotSeed
from tokenrig.harness.qualify.procedures import PROCEDURE_FUNCTIONS, provision
from tokenrig.harness.qualify.profile import load_profile
from tokenrig.harness.qualify.record import TokenRecord
from tokenrig.harness.qualify.verdict import run_procedure

LARGE = os.environ.get("TOKENRIG_BENCH_LARGE") == "1"


@pytest.mark.parametrize(
    "slots",
    [
        10,
        100,
        pytest.param(
            1000,
            marks=pytest.mark.skipif(not LARGE, reason="1,000 slots: set TOKENRIG_BENCH_LARGE=1"),
        ),
    ],
)
def test_qualify_sim_batch(benchmark: Any, tmp_path: Path, slots: int) -> None:
    out = tmp_path / "out"

    def run() -> float:
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable, "-m", "tokenrig", "qualify", "--sim",
                "--slots", str(slots), "--profile", "qa", "--out", str(out),
            ],
            capture_output=True, text=True, timeout=3600, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        return time.perf_counter() - started

    wall = benchmark.pedantic(run, rounds=1, iterations=1)
    data = json.loads((out / "records.json").read_text())
    assert len(data["tokens"]) == slots
    assert all(t["verdict"] == "pass" for t in data["tokens"])
    benchmark.extra_info.update(
        {"slots": slots, "wall_s": round(wall, 2), "tokens_per_minute": round(slots / wall * 60)}
    )
    print(f"\nqualify --sim --slots {slots} (qa, 30-day virtual soak): {wall:.1f} s wall, "
          f"{slots / wall * 60:.0f} tokens/minute")  # fmt: skip


def test_real_time_token_to_verdict(benchmark: Any, sim_token_factory: SimTokenFactory) -> None:
    """One token over the pty rig in real time: the qa procedures without the soak."""
    profile = load_profile("qa")
    procedures = [p for p in profile.procedures if p != "drift"]
    results: dict[str, Any] = {}

    def run() -> float:
        token = sim_token_factory("C302", via="pty", drift_ppm=3.0)  # type: ignore[call-arg]
        record = TokenRecord(
            serial=token.identity.serial,
            slot=1,
            model="C302",
            selected=[*procedures, "provision"],
        )
        ctx = ProcedureContext(
            token=token, clock=SYSTEM_CLOCK, profile=profile, record=record, seed=SlotSeed.fresh()
        )
        started = time.perf_counter()
        for name in procedures:
            run_procedure(ctx, name, PROCEDURE_FUNCTIONS[name])
        run_procedure(ctx, "provision", provision)
        results["record"] = record
        return time.perf_counter() - started

    seconds = benchmark.pedantic(run, rounds=1, iterations=1)
    record: TokenRecord = results["record"]
    assert record.verdict == "pass", record.findings
    resolution = record.measurement("clock.offset_resolution")
    offset = record.measurement("clock.offset_after_sync")
    assert resolution is not None
    assert offset is not None
    benchmark.extra_info.update(
        {
            "seconds_to_verdict": round(seconds, 2),
            "procedures": [*procedures, "provision"],
            "offset_s": round(offset.value, 4),
            "offset_resolution_s": round(resolution.value, 4),
        }
    )
    print(f"\nreal time, pty rig, qa without soak: {seconds:.1f} s to a verdict "
          f"(one step is 30 s); offset {offset.value * 1000:+.1f} ms "
          f"± {resolution.value * 1000:.1f} ms")  # fmt: skip
