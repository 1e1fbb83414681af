"""records.json and tokens.csv: the machine-readable outputs of a run.

``records.json`` is the full record (the schema in docs/qualification.md); ``tokens.csv`` is
one row per token for a spreadsheet or a goods-in system. Neither ever holds a seed: records
carry its fingerprint only.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tokenrig.harness.qualify.record import BatchRecord, TokenRecord

CSV_COLUMNS = (
    "rig",
    "slot",
    "serial",
    "model",
    "firmware",
    "verdict",
    "findings",
    "clock_offset_s",
    "drift_ppm",
    "drift_uncertainty_ppm",
    "days_in_window",
    "marginal",
    "seed_fingerprint",
)


def write_records_json(batch: BatchRecord, path: Path) -> None:
    path.write_text(json.dumps(batch.to_json(), indent=2) + "\n", encoding="utf-8")


def read_records_json(path: Path) -> BatchRecord:
    return BatchRecord.from_json(json.loads(path.read_text(encoding="utf-8")))


def tokens_csv(batch: BatchRecord) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in batch.tokens:
        writer.writerow(
            (
                t.rig,
                t.slot,
                t.serial,
                t.model,
                t.firmware,
                t.verdict,
                "; ".join(t.defects() + t.errors + t.inconclusive),
                _value(t, "clock.offset_after_sync"),
                _value(t, "drift.ppm"),
                _value(t, "drift.ppm_uncertainty"),
                _value(t, "window.days_in_window"),
                "; ".join(m.name for m in t.marginal),
                t.seed_fingerprint,
            )
        )
    return buffer.getvalue()


def _value(record: TokenRecord, name: str) -> str:
    m = record.measurement(name)
    return "" if m is None else f"{m.value:.6g}"


def write_tokens_csv(batch: BatchRecord, path: Path) -> None:
    path.write_text(tokens_csv(batch), encoding="utf-8")
