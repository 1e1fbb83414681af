"""Qualification profiles: which procedures run and with which limits, as TOML data files.

``qa`` is batch acceptance (minutes per batch on hardware, seconds in simulation); ``vendor``
is firmware qualification (every procedure). A user copies one, changes limits, and passes the
path. Every key is checked, so a misspelt limit fails loudly with the file and key instead of
quietly leaving a measurement judged by the defaults.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from tokenrig.harness.otp.window import PRESETS as VERIFIER_WINDOWS
from tokenrig.harness.qualify.catalogue import DEFINITIONS
from tokenrig.harness.qualify.measurement import Limits

PROCEDURES: tuple[str, ...] = (
    "burn",
    "leading_zero",
    "rfc6238",
    "step_boundary",
    "digit_counts",
    "clock_offset",
    "drift",
    "seed_lengths",
    "restricted_sync",
    "power_cycle",
    "rollover_2038",
    "rollover_2106",
)
"""Every procedure a profile may select, in the order the suite runs them."""

BUILTIN_PROFILES = ("qa", "vendor")
_TOP_KEYS = {"name", "description", "procedures", "burn_configs", "verifier", "soak", "limits"}
_SOAK_KEYS = {"virtual", "real", "samples", "until_uncertainty"}
_LIMIT_KEYS = {"low", "high", "marginal"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class ProfileError(ValueError):
    """A profile file is missing or malformed; the message names the file and the key."""

    def __init__(self, source: str, key: str, reason: str) -> None:
        super().__init__(f"{source}: {key}: {reason}" if key else f"{source}: {reason}")
        self.source = source
        self.key = key
        self.reason = reason


@dataclass(frozen=True)
class Soak:
    """How long the drift soak lasts: virtual seconds in simulation, real ones on hardware."""

    virtual: float = 30 * 86400.0
    real: float = 300.0  # in real time the most the soak takes
    samples: int = 7
    # ppm (1 sigma): a real-time soak ends as soon as every token's drift is known this well
    until_uncertainty: float | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    source: str
    procedures: tuple[str, ...]
    burn_configs: str  # "default": SHA1/30 s only; "all": every algorithm and period supported
    verifier: str
    soak: Soak
    limits: dict[str, Limits] = field(default_factory=dict)

    def runs(self, procedure: str) -> bool:
        return procedure in self.procedures

    def limits_for(self, measurement: str) -> Limits:
        base = measurement.split("[", 1)[0]
        return self.limits.get(base, DEFINITIONS[base].limits)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "procedures": list(self.procedures),
            "burn_configs": self.burn_configs,
            "verifier": self.verifier,
            "soak": {
                "virtual_s": self.soak.virtual,
                "real_s": self.soak.real,
                "samples": self.soak.samples,
                "until_uncertainty_ppm": self.soak.until_uncertainty,
            },
            "limits": {
                name: {
                    "unit": DEFINITIONS[name].unit,
                    "low": lim.low,
                    "high": lim.high,
                    "marginal": lim.marginal,
                }
                for name, lim in sorted(self.limits.items())
            },
        }


MAX_DURATION = 366 * 86400.0  # a year: past any soak, short of an overflow in time arithmetic


def parse_duration(text: object, source: str, key: str) -> float:
    """``"30d"``, ``"5m"``, ``"90s"``, ``"12h"`` or a number of seconds, in seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool) and 0 < text <= MAX_DURATION:
        return float(text)  # the bounds also refuse nan and inf
    if isinstance(text, str) and (match := _DURATION.match(text)):
        value = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        if 0 < value <= MAX_DURATION:
            return value
    raise ProfileError(
        source, key, f"expected a duration up to 366d such as '30d', '5m' or '90s', got {text!r}"
    )


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a built-in profile by name (``qa``, ``vendor``) or any profile file by path."""
    text_name = str(name_or_path)
    if text_name in BUILTIN_PROFILES:
        package = resources.files("tokenrig.harness.qualify") / "profiles" / f"{text_name}.toml"
        return parse_profile(package.read_text(encoding="utf-8"), f"profile {text_name}")
    path = Path(name_or_path)
    if not path.is_file():
        raise ProfileError(
            str(path),
            "",
            f"no such profile file (built-in profiles: {', '.join(BUILTIN_PROFILES)})",
        )
    return parse_profile(path.read_text(encoding="utf-8"), str(path))


def parse_profile(text: str, source: str) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(source, "", f"not valid TOML: {exc}") from None
    _no_unknown(data, _TOP_KEYS, source, "")
    name = _string(data, "name", source)
    procedures = data.get("procedures")
    if not isinstance(procedures, list) or not all(isinstance(p, str) for p in procedures):
        raise ProfileError(source, "procedures", "expected a list of procedure names")
    for proc in procedures:
        if proc not in PROCEDURES:
            raise ProfileError(
                source, "procedures", f"unknown procedure {proc!r}; known: {', '.join(PROCEDURES)}"
            )
    burn_configs = data.get("burn_configs", "default")
    if burn_configs not in ("default", "all"):
        raise ProfileError(
            source, "burn_configs", f"expected 'default' or 'all', got {burn_configs!r}"
        )
    verifier = data.get("verifier", "jumpcloud")
    if verifier not in VERIFIER_WINDOWS:
        raise ProfileError(
            source,
            "verifier",
            f"unknown verifier {verifier!r}; known: {', '.join(VERIFIER_WINDOWS)}",
        )
    return Profile(
        name=name,
        description=str(data.get("description", "")),
        source=source,
        procedures=tuple(p for p in PROCEDURES if p in procedures),
        burn_configs=str(burn_configs),
        verifier=str(verifier),
        soak=_soak(data.get("soak", {}), source),
        limits=_limits(data.get("limits", {}), source),
    )


def _string(data: dict[str, Any], key: str, source: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ProfileError(source, key, "expected a non-empty string")
    return value


def _no_unknown(data: dict[str, Any], allowed: set[str], source: str, prefix: str) -> None:
    for key in data:
        if key not in allowed:
            raise ProfileError(
                source, prefix + key, f"unknown key; allowed: {', '.join(sorted(allowed))}"
            )


def _soak(data: object, source: str) -> Soak:
    if not isinstance(data, dict):
        raise ProfileError(source, "soak", "expected a table")
    _no_unknown(data, _SOAK_KEYS, source, "soak.")
    default = Soak()
    samples = data.get("samples", default.samples)
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 3:
        raise ProfileError(source, "soak.samples", f"expected an integer >= 3, got {samples!r}")
    until = data.get("until_uncertainty")
    if until is not None and (
        isinstance(until, bool) or not isinstance(until, int | float) or until <= 0
    ):
        raise ProfileError(
            source, "soak.until_uncertainty", f"expected a positive number of ppm, got {until!r}"
        )
    return Soak(
        virtual=parse_duration(data.get("virtual", default.virtual), source, "soak.virtual"),
        real=parse_duration(data.get("real", default.real), source, "soak.real"),
        samples=samples,
        until_uncertainty=None if until is None else float(until),
    )


def _limits(data: object, source: str) -> dict[str, Limits]:
    if not isinstance(data, dict):
        raise ProfileError(source, "limits", "expected a table of measurement limits")
    out: dict[str, Limits] = {}
    for name, spec in data.items():
        key = f'limits."{name}"'
        if name not in DEFINITIONS:
            raise ProfileError(
                source, key, f"unknown measurement; known: {', '.join(sorted(DEFINITIONS))}"
            )
        if not isinstance(spec, dict):
            raise ProfileError(source, key, "expected a table with low/high/marginal")
        _no_unknown(spec, _LIMIT_KEYS, source, key + ".")
        values: dict[str, float | None] = {}
        for field_name in ("low", "high", "marginal"):
            value = spec.get(field_name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)  # TOML's nan/inf: no limit compares with them
            ):
                raise ProfileError(
                    source, f"{key}.{field_name}", f"expected a finite number, got {value!r}"
                )
            values[field_name] = None if value is None else float(value)
        low, high = values["low"], values["high"]
        if low is not None and high is not None and low > high:
            raise ProfileError(source, key, f"low ({low:g}) is above high ({high:g})")
        marginal = values["marginal"] or 0.0
        if marginal < 0:
            raise ProfileError(source, f"{key}.marginal", "must not be negative")
        out[name] = Limits(low=low, high=high, marginal=marginal)
    return out
