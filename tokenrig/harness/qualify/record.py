"""Per-token records and the batch record: what a qualification run leaves behind.

A record says *which* token (serial, model, firmware, rig, slot), *where and how* it was
judged (station, profile, time), every measurement and every finding. A finding names a defect
in words a firmware engineer can act on ("code uses SHA1 although SHA256 was burned"); the seed
itself never appears, only its fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tokenrig.harness.qualify.measurement import Measurement, Outcome


@dataclass(frozen=True)
class Finding:
    procedure: str
    defect: str

    def to_json(self) -> dict[str, str]:
        return {"procedure": self.procedure, "defect": self.defect}

    @classmethod
    def from_json(cls, data: dict[str, Any] | str) -> Finding:
        if isinstance(data, str):
            return cls(procedure="", defect=data)
        return cls(procedure=str(data.get("procedure", "")), defect=str(data["defect"]))


@dataclass
class TokenRecord:
    serial: str
    slot: int
    model: str
    firmware: str = ""
    rig: str = ""
    station: str = ""
    profile: str = ""
    started: str = ""
    finished: str = ""
    seed_fingerprint: str = ""
    measurements: list[Measurement] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Measurements the harness could not take precisely enough (e.g. a slow rig's round trips
    # blur the display timing): not a token defect, and not an acceptance either.
    inconclusive: list[str] = field(default_factory=list)
    procedures: dict[str, str] = field(default_factory=dict)  # name -> passed/failed/skipped/error
    offset_series: list[tuple[float, float]] = field(default_factory=list)  # (days, offset s)

    @property
    def verdict(self) -> str:
        """``fail`` if any measurement failed, any defect was found, or the token could not be
        qualified (an infrastructure error is not acceptance); else ``inconclusive`` if a
        measurement could not be taken precisely enough to judge; else ``pass``."""
        if self.errors or self.findings:
            return "fail"
        if any(m.outcome is Outcome.FAIL for m in self.measurements):
            return "fail"
        if self.inconclusive:
            return "inconclusive"
        return "pass"

    @property
    def marginal(self) -> list[Measurement]:
        return [m for m in self.measurements if m.outcome is Outcome.MARGINAL]

    def defects(self) -> list[str]:
        """Each defect once, in the order first found (several procedures may see one bug)."""
        return list(dict.fromkeys(f.defect for f in self.findings))

    def measurement(self, name: str) -> Measurement | None:
        for m in self.measurements:
            if m.name == name:
                return m
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "serial": self.serial,
            "slot": self.slot,
            "model": self.model,
            "firmware": self.firmware,
            "rig": self.rig,
            "station": self.station,
            "profile": self.profile,
            "started": self.started,
            "finished": self.finished,
            "seed_fingerprint": self.seed_fingerprint,
            "verdict": self.verdict,
            "measurements": [m.to_json() for m in self.measurements],
            "findings": [f.to_json() for f in self.findings],
            "errors": list(self.errors),
            "inconclusive": list(self.inconclusive),
            "procedures": dict(self.procedures),
            "offset_series": [[t, o] for t, o in self.offset_series],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenRecord:
        return cls(
            serial=str(data["serial"]),
            slot=int(data["slot"]),
            model=str(data["model"]),
            firmware=str(data.get("firmware", "")),
            rig=str(data.get("rig", "")),
            station=str(data.get("station", "")),
            profile=str(data.get("profile", "")),
            started=str(data.get("started", "")),
            finished=str(data.get("finished", "")),
            seed_fingerprint=str(data.get("seed_fingerprint", "")),
            measurements=[Measurement.from_json(m) for m in data.get("measurements", [])],
            findings=[Finding.from_json(f) for f in data.get("findings", [])],
            errors=[str(e) for e in data.get("errors", [])],
            inconclusive=[str(e) for e in data.get("inconclusive", [])],
            procedures={str(k): str(v) for k, v in data.get("procedures", {}).items()},
            offset_series=[(float(t), float(o)) for t, o in data.get("offset_series", [])],
        )


@dataclass
class BatchRecord:
    """One run: its description (``run``) and one record per token, ordered by rig and slot."""

    run: dict[str, Any]
    tokens: list[TokenRecord]

    @property
    def passed(self) -> bool:
        return bool(self.tokens) and all(t.verdict == "pass" for t in self.tokens)

    def summary(self) -> dict[str, int]:
        return {
            "tokens": len(self.tokens),
            "passed": sum(t.verdict == "pass" for t in self.tokens),
            "failed": sum(t.verdict == "fail" for t in self.tokens),
            "inconclusive": sum(t.verdict == "inconclusive" for t in self.tokens),
            "marginal": sum(bool(t.marginal) and t.verdict == "pass" for t in self.tokens),
        }

    def to_json(self) -> dict[str, Any]:
        run = dict(self.run)
        run["summary"] = self.summary()
        return {"run": run, "tokens": [t.to_json() for t in self.tokens]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BatchRecord:
        if not isinstance(data, dict) or "tokens" not in data or "run" not in data:
            raise ValueError("records.json must be an object with 'run' and 'tokens'")
        return cls(run=dict(data["run"]), tokens=[TokenRecord.from_json(t) for t in data["tokens"]])

    @classmethod
    def merge(cls, run: dict[str, Any], parts: list[list[TokenRecord]]) -> BatchRecord:
        """Join records written by several pytest-xdist workers into one batch."""
        tokens = [t for part in parts for t in part]
        tokens.sort(key=lambda t: (t.rig, t.slot, t.serial))
        return cls(run=run, tokens=tokens)
