"""Write every file a run leaves in its output directory (JUnit and allure come from pytest).

Each file is written to a temporary name and renamed into place, so a run killed at any
moment (SIGKILL included) leaves the previous complete version of a file, never half of one.
"""

from __future__ import annotations

import os
from pathlib import Path

from tokenrig.harness.qualify.record import BatchRecord

RECORDS_JSON = "records.json"
TOKENS_CSV = "tokens.csv"
REPORT_HTML = "report.html"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a whole, readable by the owner only (0600): records,
    tokens.csv and report.html carry seed fingerprints (docs/qualification.md)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def write_outputs(batch: BatchRecord, out: Path) -> None:
    from tokenrig.harness.reports.tables import records_json_text, tokens_csv

    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / RECORDS_JSON, records_json_text(batch))
    write_atomic(out / TOKENS_CSV, tokens_csv(batch))
    write_report(batch, out)
    write_allure_environment(batch, out / "allure-results")


def write_report(batch: BatchRecord, out: Path) -> Path:
    from tokenrig.harness.reports.html import render_html

    path = out / REPORT_HTML
    write_atomic(path, render_html(batch))
    return path


def write_allure_environment(batch: BatchRecord, results: Path) -> None:
    """The batch verdict on allure's overview page (its environment widget), next to the
    per-procedure results pytest writes there."""
    if not results.is_dir():
        return
    from tokenrig.harness.qualify.verdict import batch_verdict

    verdict = batch_verdict(batch)
    lines = [f"tokenrig.verdict={verdict.word}", f"tokenrig.run_status={verdict.run_status}"]
    lines += [f"tokenrig.{k}={v}" for k, v in verdict.counts.items()]
    write_atomic(results / "environment.properties", "\n".join(lines) + "\n")
