"""What each token model can do, as data, and the check that refuses a burn it cannot honour.

The table is the Token2 programmable line as published by the vendor's own tools: single-profile
NFC tokens (SHA1/SHA256, 30/60 s, 6 digits, seeds of 1..63 bytes) and the multi-profile Molto2
over USB CCID. "Restricted sync" models erase the seed whenever config or time is written, so a
clock fix on them is a full re-provision; the harness must know that before it touches a token.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenrig.harness.otp.hotp import Algorithm

DISPLAY_TIMEOUTS = (15, 30, 60, 120)  # seconds; wire codes 0..3 in this order


class UnsupportedConfig(ValueError):
    """A burn asked for something the model cannot do. Raised before any byte is written."""

    def __init__(self, model: str, field: str, reason: str) -> None:
        super().__init__(f"{model}: {field}: {reason}")
        self.model = model
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class ModelSpec:
    """Capabilities of one token model."""

    name: str
    serial_prefix: str
    algorithms: tuple[Algorithm, ...] = (Algorithm.SHA1, Algorithm.SHA256)
    periods: tuple[int, ...] = (30, 60)
    digits: tuple[int, ...] = (6,)
    seed_min: int = 1
    seed_max: int = 63
    display_timeouts: tuple[int, ...] = DISPLAY_TIMEOUTS
    restricted_sync: bool = True
    profiles: int = 1
    per_profile_time: bool = False
    clock_readable: bool = True
    transport: str = "nfc"  # "nfc" (ISO 14443 APDUs) or "usb-ccid" (APDUs over PC/SC)

    def check_burn(
        self,
        *,
        secret_len: int,
        algorithm: Algorithm,
        period: int,
        digits: int,
        profile: int = 0,
        display_timeout: int | None = None,
    ) -> None:
        """Raise :class:`UnsupportedConfig` naming the first field this model cannot honour."""
        if algorithm not in self.algorithms:
            allowed = "/".join(a.value for a in self.algorithms)
            raise UnsupportedConfig(
                self.name, "algorithm", f"{algorithm.value} not supported ({allowed})"
            )
        if period not in self.periods:
            allowed = "/".join(str(p) for p in self.periods)
            raise UnsupportedConfig(self.name, "period", f"{period} s not supported ({allowed} s)")
        if digits not in self.digits:
            allowed = "/".join(str(d) for d in self.digits)
            raise UnsupportedConfig(self.name, "digits", f"{digits} not supported ({allowed})")
        if not self.seed_min <= secret_len <= self.seed_max:
            raise UnsupportedConfig(
                self.name,
                "secret",
                f"{secret_len}-byte seed not supported ({self.seed_min}..{self.seed_max} bytes)",
            )
        if not 0 <= profile < self.profiles:
            raise UnsupportedConfig(
                self.name, "profile", f"profile {profile} out of range (0..{self.profiles - 1})"
            )
        if display_timeout is not None and display_timeout not in self.display_timeouts:
            allowed = "/".join(str(t) for t in self.display_timeouts)
            raise UnsupportedConfig(
                self.name, "display_timeout", f"{display_timeout} s not supported ({allowed} s)"
            )


_SINGLE_PROFILE = (
    ("miniOTP-2", "8659600", False),
    ("miniOTP-3", "8659601", True),
    ("miniOTP-3-NB", "8659609", True),
    ("OTPC-P1", "8659612", False),
    ("OTPC-P2", "8659622", True),
    ("OTPC-P2-NB", "8659621", True),
    ("C301", "8659610", True),
    ("C302", "8659632", False),
)

MODELS: dict[str, ModelSpec] = {
    name: ModelSpec(name=name, serial_prefix=prefix, restricted_sync=restricted)
    for name, prefix, restricted in _SINGLE_PROFILE
}
MODELS["Molto2"] = ModelSpec(
    name="Molto2",
    serial_prefix="",
    digits=(4, 6, 8, 10),
    restricted_sync=False,
    profiles=50,
    per_profile_time=True,
    transport="usb-ccid",
)
MODELS["Molto2v2"] = ModelSpec(
    name="Molto2v2",
    serial_prefix="",
    digits=(4, 6, 8, 10),
    restricted_sync=False,
    profiles=100,
    per_profile_time=True,
    transport="usb-ccid",
)


def model(name: str) -> ModelSpec:
    """Look a model up by name (case-insensitive), with the known names in the error."""
    for key, spec in MODELS.items():
        if key.lower() == name.lower():
            return spec
    raise KeyError(f"unknown token model {name!r}; known: {', '.join(MODELS)}")


def model_for_serial(serial: str) -> ModelSpec | None:
    """The single-profile model whose serial prefix ``serial`` carries, if any."""
    for spec in MODELS.values():
        if spec.serial_prefix and serial.startswith(spec.serial_prefix):
            return spec
    return None
