"""The batch report: one self-contained HTML page a QA engineer can read and mail.

Summary first (how many passed, under which profile, on which station and rig), then one row
per token with its verdict and findings in words, the drift and offset plots, every
measurement per token on demand, and the profile's limits, so the page alone says how each
verdict was reached. Plots are embedded PNGs; there is no script and no external resource.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any

from tokenrig.harness.qualify.catalogue import DEFINITIONS
from tokenrig.harness.qualify.measurement import Limits
from tokenrig.harness.qualify.record import BatchRecord, TokenRecord
from tokenrig.harness.qualify.verdict import COMPLETE, batch_verdict, not_completed

_CSS = """
body{font-family:system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:2em;color:#222}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#f3f3f3}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#c62828;font-weight:bold}
.marginal,.inconclusive,.incomplete{color:#b26a00;font-weight:bold}
.banner{border:3px solid #b26a00;background:#fff4e0;padding:.6em 1em;font-size:1.2em}.summary td{font-size:1.1em}
.num{text-align:right;font-variant-numeric:tabular-nums}details{margin:.3em 0}
.muted{color:#666}
"""

_KEY_MEASUREMENTS = (
    ("clock.offset_after_sync", "offset (s)", "{:+.3f}"),
    ("drift.ppm", "drift (ppm)", "{:+.2f}"),
    ("window.days_in_window", "days in window", "{:.0f}"),
)


def _img(png: bytes | None, alt: str) -> str:
    if png is None:
        return f'<p class="muted">No data for: {escape(alt)}.</p>'
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _limits_of(run: dict[str, Any], name: str) -> Limits | None:
    limits = (run.get("profile") or {}).get("limits", {}).get(name)
    if limits is None:
        definition = DEFINITIONS.get(name)
        return definition.limits if definition else None
    return Limits(limits.get("low"), limits.get("high"), limits.get("marginal") or 0.0)


def _verdict_cell(t: TokenRecord) -> str:
    if t.verdict == "pass" and t.marginal:
        return '<span class="marginal">pass (marginal)</span>'
    return f'<span class="{t.verdict}">{t.verdict}</span>'


def _token_row(t: TokenRecord) -> str:
    cells = [
        escape(t.rig),
        str(t.slot),
        escape(t.serial),
        escape(t.model),
        escape(t.firmware),
        _verdict_cell(t),
    ]
    for name, _label, fmt in _KEY_MEASUREMENTS:
        m = t.measurement(name)
        text = "" if m is None else escape(fmt.format(m.value))
        css = "num" if m is None or m.outcome.value == "pass" else f"num {m.outcome.value}"
        cells.append(f'<td class="{css}">{text}</td>')
    problems = (
        [escape(d) for d in t.defects()]
        + [f"not qualified: {escape(e)}" for e in t.errors]
        + [f"inconclusive: {escape(n)}" for n in t.inconclusive]
    )
    if t.verdict == "incomplete":
        problems.append(f"not completed: {escape(', '.join(not_completed(t)))}")
    cells.append("<br>".join(problems) or '<span class="muted">none</span>')
    return "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in cells) + "</tr>"


def _measurement_details(t: TokenRecord) -> str:
    rows = "".join(
        f"<tr><td>{escape(m.procedure)}</td><td>{escape(m.name)}</td>"
        f'<td class="num">{m.value:.6g}</td><td>{escape(m.unit)}</td>'
        f"<td>{'' if m.low is None else f'{m.low:g}'}</td>"
        f"<td>{'' if m.high is None else f'{m.high:g}'}</td>"
        f'<td class="{m.outcome.value}">{m.outcome.value}</td></tr>'
        for m in t.measurements
    )
    procedures = ", ".join(f"{escape(k)}: {escape(v)}" for k, v in t.procedures.items())
    return (
        f"<details><summary>{escape(t.serial)} ({escape(t.model)}, slot {t.slot}) "
        f"— {t.verdict}</summary>"
        f'<p class="muted">procedures: {procedures or "none"}; '
        f"seed {escape(t.seed_fingerprint)}; {escape(t.started)} → {escape(t.finished)}</p>"
        "<table><tr><th>procedure</th><th>measurement</th><th>value</th><th>unit</th>"
        f"<th>low</th><th>high</th><th>outcome</th></tr>{rows}</table></details>"
    )


def _profile_section(run: dict[str, Any]) -> str:
    profile = run.get("profile") or {}
    soak = profile.get("soak", {})
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{escape(str(v.get('unit', '')))}</td>"
        f"<td>{'' if v.get('low') is None else v['low']}</td>"
        f"<td>{'' if v.get('high') is None else v['high']}</td>"
        f"<td>{v.get('marginal') or ''}</td></tr>"
        for name, v in profile.get("limits", {}).items()
    )
    return (
        f"<p>Profile <b>{escape(str(profile.get('name', '?')))}</b> "
        f"({escape(str(profile.get('source', '')))}): "
        f"{escape(str(profile.get('description', '')))}</p>"
        f"<p>Procedures: {escape(', '.join(profile.get('procedures', [])))}; burn configurations: "
        f"{escape(str(profile.get('burn_configs', '')))}; verifier window: "
        f"{escape(str(profile.get('verifier', '')))}; soak: "
        f"{(soak.get('virtual_s') or 0) / 86400:g} days virtual / "
        f"{(soak.get('real_s') or 0) / 60:g} min real, {soak.get('samples', '')} samples.</p>"
        "<table><tr><th>measurement</th><th>unit</th><th>low</th><th>high</th>"
        f"<th>marginal band</th></tr>{rows}</table>"
        '<p class="muted">Measurements not listed use the built-in limits '
        "(code mismatch counts must be 0).</p>"
    )


def render_html(batch: BatchRecord) -> str:
    # matplotlib costs a second to import; only pages being rendered pay it.
    from tokenrig.harness.reports.plots import drift_histogram, offset_over_time

    run = batch.run
    judged = batch_verdict(batch)
    summary = judged.counts
    verdict = judged.word.lower()
    banner = ""
    if judged.run_status != COMPLETE:
        why = run.get("interrupted_by") or run.get("crash") or ""
        banner = (
            f'<p class="banner"><b>INCOMPLETE RUN</b>: run status '
            f"<b>{escape(judged.run_status)}</b>{': ' + escape(str(why)) if why else ''}. "
            "Tokens whose procedures did not all run are <b>incomplete</b>, not passed; "
            "requalify them.</p>"
        )
    rigs = ", ".join(
        f"{r.get('name', '')} ({r.get('url') or r.get('source', '')})" for r in run.get("rigs", [])
    )
    head = "".join(f"<th>{label}</th>" for _name, label, _fmt in _KEY_MEASUREMENTS)
    rows = "".join(_token_row(t) for t in batch.tokens)
    details = "".join(_measurement_details(t) for t in batch.tokens)
    drift_png = drift_histogram(batch, _limits_of(run, "drift.ppm"))
    offset_png = offset_over_time(batch)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tokenrig qualification report</title>
<style>{_CSS}</style></head><body>
{banner}<h1>Token qualification: <span class="{verdict}">{verdict.upper()}</span></h1>
<table class="summary"><tr><th>tokens</th><th>passed</th><th>failed</th><th>marginal</th>
<th>inconclusive</th><th>incomplete</th>
<th>profile</th><th>station</th><th>rigs</th><th>time</th></tr>
<tr><td class="num">{summary["tokens"]}</td><td class="num pass">{summary["passed"]}</td>
<td class="num fail">{summary["failed"]}</td><td class="num marginal">{summary["marginal"]}</td>
<td class="num inconclusive">{summary["inconclusive"]}</td>
<td class="num incomplete">{summary["incomplete"]}</td>
<td>{escape(str((run.get("profile") or {}).get("name", "")))}</td>
<td>{escape(str(run.get("station", "")))}</td><td>{escape(rigs)}</td>
<td>{escape(str(run.get("started", "")))} → {escape(str(run.get("finished", "")))}
{" (virtual time)" if run.get("virtual_time") else ""}</td></tr></table>
<h2>Tokens</h2>
<table><tr><th>rig</th><th>slot</th><th>serial</th><th>model</th><th>firmware</th>
<th>verdict</th>{head}<th>findings</th></tr>{rows}</table>
<h2>Drift</h2>{_img(drift_png, "drift histogram")}
<h2>Clock offset over the soak</h2>{_img(offset_png, "offset over time")}
<h2>Measurements per token</h2>{details}
<h2>Profile and limits</h2>{_profile_section(run)}
<p class="muted">{escape(str(run.get("tool", "tokenrig")))}; seeds:
{escape(str(run.get("seeds", "")))}; seeds are never written, records carry fingerprints.</p>
</body></html>
"""
