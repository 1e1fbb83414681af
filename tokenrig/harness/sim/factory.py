"""Building simulated tokens: one with chosen model, drift and faults, or a realistic batch.

Fixtures, the simulated rig and the qualification suite all need "a token like the ones in a
real box": the model's real serial prefix, a crystal a few ppm off, a clock a little wrong from
the factory. Keeping that recipe here means every simulated rig draws from one distribution,
and a seeded batch is the same batch on every run (a failing CI run can be replayed).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence

from tokenrig.harness.clock import SYSTEM_CLOCK, Clock
from tokenrig.harness.sim.firmware import SimFirmware, SimFirmwareError
from tokenrig.harness.tokens.models import MODELS, ModelSpec, model
from tokenrig.harness.tokens.sim_token import SimToken

# Multi-profile USB models carry no numeric prefix in the vendor tables; simulated ones get this.
SIM_MOLTO_PREFIX = "T2M"
SERIAL_DIGITS = 6

# Crystal spread of a batch: typical tuning forks are within ±20 ppm at 25 °C; most are close.
BATCH_DRIFT_SIGMA_PPM = 5.0
BATCH_DRIFT_LIMIT_PPM = 20.0
# Clock a token leaves the factory with, before the first burn sets it (seconds).
BATCH_OFFSET_SIGMA_S = 2.0
BATCH_OFFSET_LIMIT_S = 10.0

SINGLE_PROFILE_MODELS: tuple[str, ...] = tuple(
    name for name, spec in MODELS.items() if spec.profiles == 1
)


def sim_serial(spec: ModelSpec, index: int) -> str:
    """A serial a real token of ``spec`` could carry: the model's prefix and a number."""
    prefix = spec.serial_prefix or SIM_MOLTO_PREFIX
    return f"{prefix}{index:0{SERIAL_DIGITS}d}"


def _spec(name: str | ModelSpec) -> ModelSpec:
    if isinstance(name, ModelSpec):
        return name
    try:
        return model(name)
    except KeyError as exc:
        raise SimFirmwareError("MODEL", str(exc.args[0])) from None


def make_sim_firmware(
    model: str | ModelSpec = "C302",
    *,
    clock: Clock = SYSTEM_CLOCK,
    index: int = 1,
    serial: str | None = None,
    firmware: str = "1.0",
    drift_ppm: float = 0.0,
    rtc_offset: float = 0.0,
    faults: Iterable[str] = (),
    temperature_c: float | None = None,
) -> SimFirmware:
    """One simulated token's firmware; the serial defaults to the model prefix + ``index``."""
    spec = _spec(model)
    return SimFirmware(
        spec=spec,
        serial=serial if serial is not None else sim_serial(spec, index),
        clock=clock,
        firmware=firmware,
        rtc_offset=rtc_offset,
        drift_ppm=drift_ppm,
        faults=faults,
        temperature_c=temperature_c,
    )


def make_sim_token(
    model: str | ModelSpec = "C302",
    *,
    clock: Clock = SYSTEM_CLOCK,
    index: int = 1,
    drift_ppm: float = 0.0,
    rtc_offset: float = 0.0,
    faults: Iterable[str] = (),
    temperature_c: float | None = None,
) -> SimToken:
    """An in-process :class:`SimToken` over :func:`make_sim_firmware`."""
    return SimToken(
        make_sim_firmware(
            model,
            clock=clock,
            index=index,
            drift_ppm=drift_ppm,
            rtc_offset=rtc_offset,
            faults=faults,
            temperature_c=temperature_c,
        )
    )


def realistic_batch(
    count: int,
    *,
    clock: Clock = SYSTEM_CLOCK,
    seed: int = 0,
    models: Sequence[str] = SINGLE_PROFILE_MODELS,
    faults: Mapping[int, Iterable[str]] | None = None,
) -> list[SimFirmware]:
    """``count`` tokens of mixed ``models``, like a box from the vendor; same ``seed``, same box.

    Drift is normal(0, 5 ppm) clipped to ±20 ppm, the factory clock offset normal(0, 2 s)
    clipped to ±10 s. ``faults`` maps a token's position (0-based) to its fault names.
    """
    if count < 0:
        raise SimFirmwareError("BAD_PARAM", f"batch size must be >= 0, got {count}")
    if not models:
        raise SimFirmwareError("BAD_PARAM", "a batch needs at least one model")
    specs = [_spec(name) for name in models]
    rng = random.Random(seed)
    batch = []
    for position in range(count):
        spec = rng.choice(specs)
        drift = _clipped_normal(rng, BATCH_DRIFT_SIGMA_PPM, BATCH_DRIFT_LIMIT_PPM)
        offset = _clipped_normal(rng, BATCH_OFFSET_SIGMA_S, BATCH_OFFSET_LIMIT_S)
        batch.append(
            make_sim_firmware(
                spec,
                clock=clock,
                index=position + 1,
                drift_ppm=round(drift, 3),
                rtc_offset=round(offset, 3),
                faults=(faults or {}).get(position, ()),
            )
        )
    return batch


def _clipped_normal(rng: random.Random, sigma: float, limit: float) -> float:
    return max(-limit, min(limit, rng.gauss(0.0, sigma)))
