"""Allure attachments for a qualification test: measurements as parameters, plots, logs.

Calls into allure are no-ops when pytest runs without ``--alluredir``, so procedures attach
unconditionally and a plain ``pytest`` run pays nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import allure

from tokenrig.harness.qualify.measurement import Measurement
from tokenrig.harness.qualify.record import TokenRecord


def attach_procedure(record: TokenRecord, procedure: str) -> None:
    """Name the token and list this procedure's measurements and findings in the test."""
    allure.dynamic.parameter("serial", record.serial)
    allure.dynamic.parameter("model", record.model)
    allure.dynamic.parameter("slot", record.slot)
    measured: list[Measurement] = [m for m in record.measurements if m.procedure == procedure]
    for m in measured:
        allure.dynamic.parameter(m.name, f"{m.value:.6g} {m.unit} [{m.outcome.value}]")
    findings = [f.defect for f in record.findings if f.procedure == procedure]
    if measured or findings:
        text = "\n".join(
            [f"{m.name} = {m.value:.6g} {m.unit} ({m.outcome.value})" for m in measured]
            + [f"defect: {d}" for d in findings]
        )
        allure.attach(
            text, name=f"{procedure} measurements", attachment_type=allure.attachment_type.TEXT
        )


def step(title: str) -> Any:
    """An allure step (a context manager) around one procedure."""
    return allure.step(title)


def attach_offset_plot(record: TokenRecord) -> None:
    """The token's offsets over the soak as a PNG (rendering imports matplotlib: only call
    this when allure results are being written)."""
    from tokenrig.harness.reports.plots import token_offsets

    png = token_offsets(record.offset_series, f"{record.serial} clock offset")
    if png is not None:
        attach_png(png, "offset over the soak")


def attach_offset_series(record: TokenRecord) -> None:
    """The soak's (days, offset s) samples as CSV text."""
    if record.offset_series:
        text = "days,offset_s\n" + "".join(f"{d:.6f},{o:.6f}\n" for d, o in record.offset_series)
        allure.attach(
            text, name="offset over the soak (csv)", attachment_type=allure.attachment_type.CSV
        )


def attach_file_tail(path: Path, name: str, limit: int = 256_000) -> None:
    """The end of a log file (a rig's wire log: every line, timestamped, seeds redacted)."""
    if path.is_file():
        data = path.read_bytes()[-limit:]
        allure.attach(
            data.decode("utf-8", "replace"), name=name, attachment_type=allure.attachment_type.TEXT
        )


def attach_png(png: bytes, name: str) -> None:
    allure.attach(png, name=name, attachment_type=allure.attachment_type.PNG)


def attach_text(text: str, name: str) -> None:
    allure.attach(text, name=name, attachment_type=allure.attachment_type.TEXT)
