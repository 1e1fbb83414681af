"""Write every file a run leaves in its output directory (JUnit and allure come from pytest)."""

from __future__ import annotations

from pathlib import Path

from tokenrig.harness.qualify.record import BatchRecord
from tokenrig.harness.reports.html import render_html
from tokenrig.harness.reports.tables import write_records_json, write_tokens_csv

RECORDS_JSON = "records.json"
TOKENS_CSV = "tokens.csv"
REPORT_HTML = "report.html"


def write_outputs(batch: BatchRecord, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_records_json(batch, out / RECORDS_JSON)
    write_tokens_csv(batch, out / TOKENS_CSV)
    write_report(batch, out)


def write_report(batch: BatchRecord, out: Path) -> Path:
    path = out / REPORT_HTML
    path.write_text(render_html(batch), encoding="utf-8")
    return path
