"""Per-token records and the batch record: what a qualification run leaves behind.

A record says *which* token (serial, model, firmware, rig, slot), *where and how* it was
judged (station, profile, time), every measurement and every finding. A finding names a defect
in words a firmware engineer can act on ("code uses SHA1 although SHA256 was burned"); the seed
itself never appears, only its fingerprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tokenrig.harness.qualify import verdict as verdicts
from tokenrig.harness.qualify.measurement import Measurement, Outcome

SCHEMA_VERSION = 2


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
    # name -> passed/failed/inconclusive/error/interrupted/skipped (see qualify.verdict)
    procedures: dict[str, str] = field(default_factory=dict)
    offset_series: list[tuple[float, float]] = field(default_factory=list)  # (days, offset s)
    # The procedures this token must complete to pass (the profile's, then provision).
    selected: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """Derived in one place, :func:`tokenrig.harness.qualify.verdict.token_verdict`."""
        return verdicts.token_verdict(self).verdict

    @property
    def verdict_reasons(self) -> tuple[str, ...]:
        return verdicts.token_verdict(self).reasons

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
            "verdict_reasons": list(self.verdict_reasons),
            "selected": list(self.selected),
            "measurements": [m.to_json() for m in self.measurements],
            "findings": [f.to_json() for f in self.findings],
            "errors": list(self.errors),
            "inconclusive": list(self.inconclusive),
            "procedures": dict(self.procedures),
            "offset_series": [[t, o] for t, o in self.offset_series],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], selected: list[str] | None = None) -> TokenRecord:
        """``selected``: for records written before tokens named their procedures."""
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
            selected=[str(p) for p in data.get("selected", selected or [])],
        )


@dataclass
class BatchRecord:
    """One run: its description (``run``, with its ``status``) and one record per token,
    ordered by rig and slot. A token is identified by (rig, slot), never by its serial alone:
    two tokens reporting one serial are two records."""

    run: dict[str, Any]
    tokens: list[TokenRecord]

    @property
    def status(self) -> str:
        return str(self.run.get("status", "unknown"))

    @property
    def passed(self) -> bool:
        return verdicts.batch_verdict(self).passed

    def summary(self) -> dict[str, int]:
        return dict(verdicts.batch_verdict(self).counts)

    def to_json(self) -> dict[str, Any]:
        run = dict(self.run)
        run["summary"] = self.summary()
        run["verdict"] = verdicts.batch_verdict(self).word
        return {
            "schema_version": SCHEMA_VERSION,
            "run": run,
            "tokens": [t.to_json() for t in self.tokens],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BatchRecord:
        if not isinstance(data, dict) or "tokens" not in data or "run" not in data:
            raise ValueError("records.json must be an object with 'run' and 'tokens'")
        run = dict(data["run"])
        profile = run.get("profile") if isinstance(run.get("profile"), dict) else {}
        fallback = verdicts.selected_procedures(profile.get("procedures", [])) if profile else None
        return cls(run=run, tokens=[TokenRecord.from_json(t, fallback) for t in data["tokens"]])

    @classmethod
    def merge(cls, run: dict[str, Any], parts: list[list[TokenRecord]]) -> BatchRecord:
        """Join records written by several pytest-xdist workers (and the placeholders written
        when the run started) into one batch: one record per (rig, slot), the one that got
        furthest winning. Serials two slots share get a "duplicate serial" note each."""
        by_slot: dict[tuple[str, int], TokenRecord] = {}
        for part in parts:
            for t in part:
                key = (t.rig, t.slot)
                held = by_slot.get(key)
                if held is None or _progress(t) >= _progress(held):
                    by_slot[key] = t
        tokens = sorted(by_slot.values(), key=lambda t: (t.rig, t.slot, t.serial))
        mark_duplicate_serials(tokens)
        return cls(run=run, tokens=tokens)


def _progress(record: TokenRecord) -> int:
    return (
        len(record.procedures)
        + len(record.measurements)
        + len(record.errors)
        + len(record.findings)
        + len(record.inconclusive)
    )


DUPLICATE_SERIAL = "duplicate serial"


def mark_duplicate_serials(tokens: list[TokenRecord]) -> None:
    """Two slots reporting one serial cannot both be the token a serial names: each record
    keeps its own measurements and is marked, naming the other slots.

    The mark makes the token ``inconclusive``, not failed: nothing was measured wrong, and
    the usual cause is the rig (an answer for another slot, a label misread) or the bench
    (one rig file used for two rigs), which is never the token's defect. A serial of ``-``
    is a rig that cannot read serials (docs/rig-protocol.md), not a duplicate.
    """
    slots: dict[str, list[TokenRecord]] = {}
    for t in tokens:
        if t.serial and t.serial != "-":
            slots.setdefault(t.serial, []).append(t)
    for serial, same in slots.items():
        if len(same) < 2:
            continue
        for t in same:
            others = ", ".join(f"rig {o.rig} slot {o.slot}" for o in same if o is not t)
            note = (
                f"identity: {DUPLICATE_SERIAL} {serial}: also reported by {others}; which "
                "token was measured cannot be told (a rig or bench fault, not a token defect)"
            )
            if note not in t.inconclusive:
                t.inconclusive.append(note)
