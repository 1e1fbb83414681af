"""The one behaviour model of a programmable TOTP token's firmware.

Everything simulated (the in-process token, the serial rig on a pty or TCP, the virtual smart
card on vpcd) drives an instance of :class:`SimFirmware`, so a token behaves the same whichever
way the harness reaches it. The model follows what the real tokens do and what their vendor
tools rely on:

* the code shown is the token's *own* step, from its own RTC (offset, drift, temperature);
* time on the wire and in the counter is 32-bit unsigned, so it wraps on 2106-02-07;
* a config write carries the clock; on "restricted sync" models any config or time write
  erases the seed, so config must be written before the seed;
* pressing the button shows the code for the display timeout, and the shown code changes
  exactly when the token's clock crosses a step boundary;
* seed and config survive a power cycle.

Named defects from :mod:`tokenrig.harness.sim.faults` bend exactly one of these rules each. All time
comes from the injected :class:`~tokenrig.harness.clock.Clock`; one lock makes an instance safe to
share
between a rig server thread and a virtual-card thread.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass

from tokenrig.harness.clock import Clock
from tokenrig.harness.otp.c_firmware import Counter2038, as_lcd_reads, firmware_hotp
from tokenrig.harness.otp.c_firmware import counter as firmware_counter
from tokenrig.harness.otp.hotp import Algorithm
from tokenrig.harness.secrets import Secret
from tokenrig.harness.sim.faults import OUT_OF_SPEC_DRIFT_PPM, UnknownFault, check_faults
from tokenrig.harness.sim.rtc import U32_MASK, SimRtc, crystal_rate
from tokenrig.harness.tokens.base import SeedState, TokenError, TokenIdentity
from tokenrig.harness.tokens.models import ModelSpec

_U64_MASK = 2**64 - 1
_COUNTER_FAULTS = {
    "signed_32bit_time": Counter2038.SIGN_EXTENDED,
    "signed_32bit_time_low32": Counter2038.LOW_32_BITS,
    "signed_32bit_time_unsigned_wrap": Counter2038.UNSIGNED_WRAP,
}
_AES_BLOCK = 16
_PAD_MARKER = b"\x80"  # ISO/IEC 9797-1 method 2


class SimFirmwareError(TokenError):
    """The firmware refused a command. ``code`` is a stable identifier a rig maps to a status.

    A :class:`TokenError`, so a token adapter can pass it on without knowing this layer.
    Codes: ``SEED_LENGTH``, ``BAD_PARAM``, ``PROFILE``, ``FAULT``, ``MODEL`` (factory), and
    ``NO_SEED`` (reserved for commands that need a seed; a press without one shows nothing).
    Messages name the field and never contain seed material.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ProfileConfig:
    """What a profile was configured with (as burned; faults may compute codes differently)."""

    algorithm: Algorithm = Algorithm.SHA1
    period: int = 30
    digits: int = 6
    display_timeout: int = 30


@dataclass
class _Profile:
    config: ProfileConfig
    rtc: SimRtc
    seed: Secret | None = None


@dataclass
class _DisplayState:
    profile: int
    off_at: float  # host time at which the display switches off
    on_at: float  # host time of the press that lit it
    frozen_code: str | None  # display_not_updating: the code latched at the press


class SimFirmware:
    """A simulated token: RTC, stored seeds and configs per profile, button, display."""

    def __init__(
        self,
        *,
        spec: ModelSpec,
        serial: str,
        clock: Clock,
        firmware: str = "1.0",
        rtc_offset: float = 0.0,
        drift_ppm: float = 0.0,
        faults: Iterable[str] = (),
        temperature_c: float | None = None,
    ) -> None:
        try:
            self._faults = check_faults(faults)
        except UnknownFault as exc:
            raise SimFirmwareError("FAULT", str(exc)) from None
        self._spec = spec
        self._identity = TokenIdentity(serial=serial, model=spec.name, firmware=firmware)
        self._clock = clock
        self._drift_ppm = drift_ppm
        self._rtc_offset = rtc_offset
        self._temperature_c = temperature_c
        self._lock = threading.RLock()
        # One oscillator; models with per-profile time keep a separately settable clock per
        # profile on it, the others share one clock between all their profiles.
        shared = SimRtc(clock, offset=rtc_offset, rate=self._rate())
        self._profiles = [
            _Profile(config=ProfileConfig(), rtc=copy(shared) if spec.per_profile_time else shared)
            for _ in range(spec.profiles)
        ]
        self._display: _DisplayState | None = None

    # -- identity -------------------------------------------------------------------------

    @property
    def identity(self) -> TokenIdentity:
        return self._identity

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    @property
    def faults(self) -> frozenset[str]:
        return self._faults

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def drift_ppm(self) -> float:
        """The crystal's drift at 25 °C as configured (without the out-of-spec fault)."""
        return self._drift_ppm

    @property
    def rtc_offset(self) -> float:
        """The clock offset the token was created with (its factory clock error)."""
        return self._rtc_offset

    @property
    def temperature_c(self) -> float | None:
        return self._temperature_c

    def __repr__(self) -> str:
        faults = f", faults={sorted(self._faults)}" if self._faults else ""
        return f"SimFirmware({self._spec.name} {self._identity.serial}{faults})"

    # -- clock ----------------------------------------------------------------------------

    def rtc_now(self, profile: int = 0) -> float:
        """The token's own time (float seconds since the epoch, not wrapped)."""
        with self._lock:
            return self._profile(profile).rtc.now()

    def rtc_u32(self, profile: int = 0) -> int:
        """The token's time as the wire carries it: whole seconds, 32-bit unsigned."""
        return math.floor(self.rtc_now(profile)) & U32_MASK

    def set_temperature(self, temperature_c: float | None) -> None:
        """Move the token to another temperature: the RTC rate changes from now on."""
        with self._lock:
            self._temperature_c = temperature_c
            rate = self._rate()
            for rtc in {id(p.rtc): p.rtc for p in self._profiles}.values():
                rtc.set_rate(rate)

    def _rate(self) -> float:
        ppm = self._drift_ppm
        if "drift_out_of_spec" in self._faults:
            ppm += OUT_OF_SPEC_DRIFT_PPM
        return crystal_rate(ppm, self._temperature_c)

    # -- configuration --------------------------------------------------------------------

    def write_config(
        self,
        *,
        utc: int,
        algorithm: Algorithm,
        period: int,
        display_timeout: int,
        digits: int = 6,
        profile: int = 0,
    ) -> SeedState:
        """Store a profile's config and set the clock; restricted-sync models erase the seed."""
        with self._lock:
            target = self._profile(profile)
            _check_utc(utc)
            config = ProfileConfig(
                algorithm=algorithm, period=period, digits=digits, display_timeout=display_timeout
            )
            self._check_config(config)
            target.config = config
            return self._sync(target, utc)

    def write_time(self, utc: int, profile: int = 0) -> SeedState:
        """Time-only sync. Per profile on models with per-profile time (Molto2, seed kept);
        on single-profile models it is a config write with the current settings."""
        with self._lock:
            target = self._profile(profile)
            _check_utc(utc)
            return self._sync(target, utc)

    def _sync(self, target: _Profile, utc: int) -> SeedState:
        if "clock_not_set_by_sync" not in self._faults:
            target.rtc.set(utc)
        if self._spec.restricted_sync:
            target.seed = None
            self._display = None
            return SeedState.ERASED
        return SeedState.KEPT

    def _check_config(self, config: ProfileConfig) -> None:
        spec = self._spec
        checks = (
            ("algorithm", config.algorithm, spec.algorithms),
            ("period", config.period, spec.periods),
            ("digits", config.digits, spec.digits),
            ("display_timeout", config.display_timeout, spec.display_timeouts),
        )
        for name, value, allowed in checks:
            if value not in allowed:
                raise SimFirmwareError(
                    "BAD_PARAM", f"{spec.name}: {name} {value} not supported ({allowed})"
                )

    def config(self, profile: int = 0) -> ProfileConfig:
        with self._lock:
            return self._profile(profile).config

    # -- seed -----------------------------------------------------------------------------

    def write_seed(self, seed: bytes | Secret, profile: int = 0) -> None:
        """Store a seed (1..seed_max bytes). Write-only: nothing ever reads it back out."""
        material = seed.reveal() if isinstance(seed, Secret) else bytes(seed)
        with self._lock:
            target = self._profile(profile)
            if not 1 <= len(material) <= self._spec.seed_max:
                raise SimFirmwareError(
                    "SEED_LENGTH",
                    f"{self._spec.name}: {len(material)}-byte seed not accepted "
                    f"(1..{self._spec.seed_max} bytes)",
                )
            target.seed = Secret(self._as_stored(material), kind="seed")

    def _as_stored(self, material: bytes) -> bytes:
        if "block_seed_mispadded" in self._faults and len(material) % _AES_BLOCK == 0:
            material = material + _PAD_MARKER
        if "seed_truncated_20" in self._faults:
            material = material[:20]
        if "seed_truncated_32" in self._faults:
            material = material[:32]
        return material

    def delete_seed(self, profile: int = 0) -> None:
        with self._lock:
            self._profile(profile).seed = None
            if self._display is not None and self._display.profile == profile:
                self._display = None

    def has_seed(self, profile: int = 0) -> bool:
        with self._lock:
            return self._profile(profile).seed is not None

    # -- button and display ---------------------------------------------------------------

    def press(self, profile: int = 0) -> None:
        """Wake the display on ``profile`` for its display timeout (a new press restarts it)."""
        with self._lock:
            target = self._profile(profile)
            frozen = None
            if "display_not_updating" in self._faults:
                frozen = self._code(target)
            now = self._clock.now()
            self._display = _DisplayState(
                profile=profile,
                off_at=now + target.config.display_timeout,
                on_at=now,
                frozen_code=frozen,
            )

    def display(self) -> str | None:
        """What the LCD shows now: the code, or None when off or there is no seed."""
        with self._lock:
            state = self._display
            if state is None:
                return None
            if self._clock.now() >= state.off_at:
                self._display = None
                return None
            if state.frozen_code is not None:
                return state.frozen_code
            return self._code(self._profiles[state.profile])

    def shown_since(self) -> float | None:
        """The host instant the display started showing what it shows now, or None if it is
        off. A code is a function of the token's whole seconds, so a change happens exactly
        when the clock ticks into its current second (or at the press that lit the display).
        A real rig's display sampler stamps a change to its own timing resolution; this one
        knows the instant exactly."""
        with self._lock:
            state = self._display
            if state is None or self._clock.now() >= state.off_at:
                return None
            if state.frozen_code is not None:
                return state.on_at
            rtc = self._profiles[state.profile].rtc
            return max(state.on_at, rtc.host_at(math.floor(rtc.now())))

    def display_off_at(self) -> float | None:
        """When a lit display will switch off (host time), None if it is off now."""
        with self._lock:
            return None if self._display is None else self._display.off_at

    def power_cycle(self) -> None:
        """Switch off and on: display off; seeds and configs persist (the RTC never stops)."""
        with self._lock:
            self._display = None
            if "seed_lost_on_power_cycle" in self._faults:
                for profile in self._profiles:
                    profile.seed = None

    # -- code computation -----------------------------------------------------------------

    def code_at(self, token_time: int, profile: int = 0) -> str | None:
        """The code this firmware (faults included) shows at its own time ``token_time``.

        For the rig/vICC layers and diagnostics; tests of faults observe the display instead.
        """
        with self._lock:
            return self._code(self._profile(profile), token_time)

    def _code(self, target: _Profile, token_time: int | None = None) -> str | None:
        if target.seed is None:
            return None
        if token_time is None:
            token_time = math.floor(target.rtc.now())
        config = target.config
        counter = self._counter(token_time & U32_MASK, config.period)
        algorithm = config.algorithm
        if "sha1_instead_of_sha256" in self._faults and algorithm is Algorithm.SHA256:
            algorithm = Algorithm.SHA1
        wrong_offset = "wrong_truncation_offset" in self._faults and algorithm is not Algorithm.SHA1
        code = firmware_hotp(
            target.seed.reveal(),
            counter,
            digits=config.digits,
            algorithm=algorithm,
            offset_byte=19 if wrong_offset else None,
            mask_top_bit="truncation_sign_bit" not in self._faults,
            power_in_u32="power_of_ten_u32" in self._faults,
        )
        return as_lcd_reads(self._as_displayed(code, config.digits))

    def _as_displayed(self, code: str, digits: int) -> str:
        """The display driver's own mistakes, applied to the code the core computed."""
        if "drops_leading_zero" in self._faults or (
            "drops_leading_zero_long" in self._faults and digits >= 8
        ):
            code = code.lstrip("0") or "0"
        if "display_last_6_digits" in self._faults and digits > 6:
            code = code[-6:]
        return code

    def _counter(self, time_u32: int, period: int) -> int:
        if "period_stuck_30" in self._faults:
            period = 30
        mode = Counter2038.UNSIGNED
        for fault, variant in _COUNTER_FAULTS.items():
            if fault in self._faults:
                mode = variant
        if "rounded_counter" in self._faults and mode is Counter2038.UNSIGNED:
            count = (time_u32 + period // 2) // period
        else:
            count = firmware_counter(time_u32, period, mode)
        if "off_by_one_step" in self._faults:
            count = (count + 1) & _U64_MASK
        return count

    def _profile(self, profile: int) -> _Profile:
        if not 0 <= profile < len(self._profiles):
            raise SimFirmwareError(
                "PROFILE",
                f"{self._spec.name}: profile {profile} out of range (0..{len(self._profiles) - 1})",
            )
        return self._profiles[profile]


def _check_utc(utc: int) -> None:
    if not 0 <= utc <= U32_MASK:
        raise SimFirmwareError("BAD_PARAM", f"utc {utc} outside the 32-bit unsigned range")
