"""records.json and tokens.csv: the machine-readable outputs of a run.

``records.json`` is the full record (its JSON Schema ships as records.schema.json next to this
module); ``tokens.csv`` is one row per token for a spreadsheet or a goods-in system. Neither
ever holds a seed: records carry its fingerprint only. A CSV cell a spreadsheet would run as a
formula (starting with ``= + - @``, tab or carriage return: a serial or finding from a rig is
outside input) is prefixed with a quote, as OWASP recommends.
"""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

from tokenrig.harness.qualify.record import BatchRecord, TokenRecord

SCHEMA_FILE = "records.schema.json"

CSV_COLUMNS = (
    "rig",
    "slot",
    "serial",
    "model",
    "firmware",
    "verdict",
    "verdict_reasons",
    "findings",
    "clock_offset_s",
    "drift_ppm",
    "drift_uncertainty_ppm",
    "days_in_window",
    "marginal",
    "seed_fingerprint",
)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def records_json_text(batch: BatchRecord) -> str:
    return json.dumps(batch.to_json(), indent=2, allow_nan=False) + "\n"


def write_records_json(batch: BatchRecord, path: Path) -> None:
    from tokenrig.harness.reports.outputs import write_atomic

    write_atomic(path, records_json_text(batch))


class RecordsFormatError(ValueError):
    """records.json does not match its schema; the message starts with the JSON path."""


def records_schema() -> dict[str, Any]:
    text = resources.files("tokenrig.harness.reports").joinpath(SCHEMA_FILE).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def check_records(data: object) -> None:
    """Raise :class:`RecordsFormatError` naming the first value the schema refuses."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(records_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise RecordsFormatError(f"at {error.json_path}: {error.message}")


def read_records_json(path: Path) -> BatchRecord:
    data = json.loads(path.read_text(encoding="utf-8"))
    check_records(data)
    try:
        return BatchRecord.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:  # what the schema cannot say
        raise RecordsFormatError(f"not a tokenrig records file: {exc}") from None


def tokens_csv(batch: BatchRecord) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in batch.tokens:
        row = (
            t.rig,
            t.slot,
            t.serial,
            t.model,
            t.firmware,
            t.verdict,
            "; ".join(t.verdict_reasons),
            "; ".join(t.defects() + t.errors + t.inconclusive),
            _value(t, "clock.offset_after_sync"),
            _value(t, "drift.ppm"),
            _value(t, "drift.ppm_uncertainty"),
            _value(t, "window.days_in_window"),
            "; ".join(m.name for m in t.marginal),
            t.seed_fingerprint,
        )
        # Numbers we formatted ourselves (a negative offset starts with '-') stay numbers.
        writer.writerow(
            cell if isinstance(cell, int) or column in _NUMERIC else csv_cell(cell)
            for column, cell in zip(CSV_COLUMNS, row, strict=True)
        )
    return buffer.getvalue()


_NUMERIC = {"clock_offset_s", "drift_ppm", "drift_uncertainty_ppm", "days_in_window"}


def _value(record: TokenRecord, name: str) -> str:
    m = record.measurement(name)
    return "" if m is None else f"{m.value:.6g}"


def write_tokens_csv(batch: BatchRecord, path: Path) -> None:
    from tokenrig.harness.reports.outputs import write_atomic

    write_atomic(path, tokens_csv(batch))
