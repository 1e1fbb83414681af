"""The live progress shows what each token is doing while a procedure runs, not only when it
ends: a real-time soak takes minutes and once sat at "0/24 waiting" the whole time."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from tokenrig.harness.cli.qualify_progress import LiveProgress

SUITE = "tokenrig/suites/qualification/test_qualification.py"
TOKENS = ("8659600000001", "8659632000002")


def _ids() -> list[str]:
    return [f"{SUITE}::test_{p}[{t}]" for t in TOKENS for p in ("burn", "drift")]


def _progress() -> tuple[LiveProgress, io.StringIO]:
    out = io.StringIO()
    live = LiveProgress(Console(file=out, force_terminal=False, width=120))
    live._collected(_ids())
    return live, out


def _status(live: LiveProgress, ident: str) -> str:
    task = next(t for t in live.progress.tasks if t.id == live.tasks[ident])
    return str(task.fields["status"])


def _report(nodeid: str, verdict: str) -> pytest.TestReport:
    state = json.dumps({"verdict": verdict, "model": "C302"})
    return pytest.TestReport(
        nodeid, ("x", 0, "x"), {}, "passed", None, "call", user_properties=[("tokenrig", state)]
    )


def test_a_started_procedure_is_shown_before_it_ends() -> None:
    live, _ = _progress()
    try:
        nodeid = f"{SUITE}::test_drift[{TOKENS[0]}]"
        live.pytest_runtest_logstart(nodeid, ("x", 0, "x"))
        assert _status(live, TOKENS[0]) == "[cyan]drift…"
        assert _status(live, TOKENS[1]) == "[dim]waiting"
        overall = next(t for t in live.progress.tasks if t.id == live.overall)
        assert overall.fields["status"] == "drift ×1"
    finally:
        live.stop()


def test_the_running_mark_clears_when_the_procedure_ends() -> None:
    live, out = _progress()
    try:
        for procedure in ("burn", "drift"):
            nodeid = f"{SUITE}::test_{procedure}[{TOKENS[0]}]"
            live.pytest_runtest_logstart(nodeid, ("x", 0, "x"))
            live.pytest_runtest_logreport(_report(nodeid, "pass"))
        assert _status(live, TOKENS[0]) == "[green]pass"
        assert live.running == {}
        assert f"pass {TOKENS[0]} C302" in out.getvalue()
    finally:
        live.stop()


def test_a_test_outside_the_batch_is_ignored() -> None:
    live, _ = _progress()
    try:
        live.pytest_runtest_logstart("tests/other.py::test_x", ("x", 0, "x"))
        assert live.running == {}
    finally:
        live.stop()


def test_without_a_terminal_a_plain_status_line_is_printed_as_procedures_start() -> None:
    out = io.StringIO()
    live = LiveProgress(Console(file=out, force_terminal=False, width=200), plain_every=0.0)
    live._collected(_ids())
    try:
        live.pytest_runtest_logstart(f"{SUITE}::test_drift[{TOKENS[0]}]", ("x", 0, "x"))
        live.pytest_runtest_logstart(f"{SUITE}::test_burn[{TOKENS[1]}]", ("x", 0, "x"))
    finally:
        live.stop()
    lines = [line for line in out.getvalue().splitlines() if line.startswith("progress:")]
    assert lines[0] == "progress: 0/4 procedures done; drift ×1"
    assert lines[1] == "progress: 0/4 procedures done; drift ×1, burn ×1"


def test_plain_lines_are_rate_limited() -> None:
    out = io.StringIO()
    live = LiveProgress(Console(file=out, force_terminal=False), plain_every=3600.0)
    live._collected(_ids())
    try:
        for token in TOKENS:
            live.pytest_runtest_logstart(f"{SUITE}::test_drift[{token}]", ("x", 0, "x"))
    finally:
        live.stop()
    assert out.getvalue().count("progress:") == 1


def test_on_a_terminal_no_plain_lines_are_printed() -> None:
    out = io.StringIO()
    live = LiveProgress(Console(file=out, force_terminal=True), plain_every=0.0)
    live._collected(_ids())
    try:
        live.pytest_runtest_logstart(f"{SUITE}::test_drift[{TOKENS[0]}]", ("x", 0, "x"))
    finally:
        live.stop()
    assert "progress:" not in out.getvalue()
