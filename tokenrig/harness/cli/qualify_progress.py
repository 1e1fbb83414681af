"""Live progress of ``tokenrig qualify``: a pytest plugin that draws with rich.

It listens to test reports in the controlling process (with or without pytest-xdist), counts
each token's procedures, and prints a token's verdict the moment its last procedure ends, with
the first finding when it failed. Everything it shows comes from the reports' properties, so
it knows nothing about how tokens are reached.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from typing import Any

import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from tokenrig.harness.qualify import soak

_PARAM = re.compile(r"\[(?P<id>[^\]]+)\]$")
_PROCEDURE = re.compile(r"::test_(?P<name>\w+)\[")
PER_TOKEN_BARS_UP_TO = 16


def token_id(nodeid: str) -> str | None:
    match = _PARAM.search(nodeid)
    return match.group("id") if match else None


_STATUS_SO_FAR = {"pass": "[green]pass so far", "inconclusive": "[yellow]inconclusive"}
_STATUS_DONE = {"pass": "[green]pass", "inconclusive": "[yellow]inconclusive"}


PLAIN_EVERY = 30.0  # seconds between status lines when the output is not a terminal


class LiveProgress:
    def __init__(self, console: Console, *, plain_every: float = PLAIN_EVERY) -> None:
        self.console = console
        # Not a terminal (a CI log, a pipe): the bars cannot redraw, so a plain status line
        # is printed at most every ``plain_every`` seconds instead, soak countdown included.
        self.plain = not console.is_terminal
        self.plain_every = plain_every
        self._last_plain = -math.inf
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            console=console,
        )
        self.totals: Counter[str] = Counter()
        self.done: Counter[str] = Counter()
        self.state: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, TaskID] = {}
        self.overall: TaskID | None = None
        self.verdicts: dict[str, str] = {}
        self.running: dict[str, str] = {}  # token -> the procedure it is in
        self.soak_line = ""  # the running soak's state, after the procedures on the overall line
        # A real-time soak runs inside one test: it reports here after each boundary (in this
        # process only; under pytest-xdist the soak runs in a worker and is not shown).
        soak.SOAK_LISTENERS.append(self.soak_status)

    # -- collection (in-process, or per xdist worker) ---------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not getattr(session.config.option, "numprocesses", None):
            self._collected([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.totals:
            self._collected(ids)

    def _collected(self, nodeids: list[str]) -> None:
        for nodeid in nodeids:
            ident = token_id(nodeid)
            if ident is not None:
                self.totals[ident] += 1
        self.progress.start()
        self.overall = self.progress.add_task(
            f"{len(self.totals)} tokens", total=sum(self.totals.values()), status=""
        )
        if len(self.totals) <= PER_TOKEN_BARS_UP_TO:
            for ident, total in self.totals.items():
                self.tasks[ident] = self.progress.add_task(
                    f"  {ident}", total=total, status="[dim]waiting"
                )

    # -- reports ------------------------------------------------------------------------------

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        """Say which procedure each token is in as it starts: a real-time soak runs for
        minutes, and a bar that only moves when a procedure ends looks like a hang."""
        ident = token_id(nodeid)
        if ident is None or ident not in self.totals:
            return
        match = _PROCEDURE.search(nodeid)
        procedure = match.group("name") if match else "next procedure"
        self.running[ident] = procedure
        if ident in self.tasks:
            self.progress.update(self.tasks[ident], status=f"[cyan]{procedure}…")
        if self.overall is not None:
            self.progress.update(self.overall, status=self._running_summary())
        self._plain_line()

    def _plain_line(self) -> None:
        """One plain status line (when not a terminal, and not more often than asked)."""
        if not self.plain or self.overall is None:
            return
        now = time.monotonic()
        if now - self._last_plain < self.plain_every:
            return
        self._last_plain = now
        done, total = sum(self.done.values()), sum(self.totals.values())
        summary = self._running_summary()
        line = f"progress: {done}/{total} procedures done" + (f"; {summary}" if summary else "")
        self.console.print(line, markup=True, highlight=False)

    def _running_summary(self) -> str:
        """``drift ×3, burn ×1``: what the tokens still running are doing."""
        counts = Counter(self.running.values())
        running = ", ".join(f"{name} ×{n}" for name, n in counts.most_common(3))
        return " · ".join(part for part in (running, self.soak_line) if part)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        ident = token_id(report.nodeid)
        if ident is None or ident not in self.totals:
            return
        for name, value in report.user_properties:
            if name == "tokenrig":
                self.state[ident] = json.loads(str(value))
        finished = report.when == "call" or (report.when == "setup" and not report.passed)
        if not finished:
            return
        self.done[ident] += 1
        self.running.pop(ident, None)
        if "drift" not in self.running.values():
            self.soak_line = ""  # the soak ended with the last drift procedure
        state = self.state.get(ident, {})
        verdict = state.get("verdict", "pass")
        if report.failed and not state:
            verdict = "fail"
        status = _STATUS_SO_FAR.get(verdict, "[red]FAIL")
        if ident in self.tasks:
            self.progress.update(self.tasks[ident], advance=1, status=status)
        if self.overall is not None:
            self.progress.update(self.overall, advance=1, status=self._running_summary())
        if self.done[ident] == self.totals[ident]:
            self._token_done(ident, verdict, state)

    def _token_done(self, ident: str, verdict: str, state: dict[str, Any]) -> None:
        self.verdicts[ident] = verdict
        model = state.get("model", "")
        if verdict == "pass":
            line = f"[green]✓ pass[/] {ident} {model}"
        elif verdict == "inconclusive":
            reasons = state.get("inconclusive") or ["a measurement could not be taken"]
            line = f"[yellow]? inconclusive[/] {ident} {model}: {reasons[0]}"
        else:
            findings = state.get("findings") or ["a procedure failed (see the report)"]
            line = f"[red]✗ FAIL[/] {ident} {model}: {findings[0]}"
            if len(findings) > 1:
                line += f" [dim](+{len(findings) - 1} more)"
        if ident in self.tasks:
            self.progress.update(
                self.tasks[ident],
                status=_STATUS_DONE.get(verdict, "[red]FAIL"),
            )
        self.progress.console.print(line, markup=True, highlight=False)

    def soak_status(self, status: soak.SoakStatus) -> None:
        """Show the soak's worst drift uncertainty and the expected time left."""
        if self.overall is None:
            return
        worst = "" if status.worst_ppm is None else f", worst ±{status.worst_ppm:.2f} ppm"
        self.soak_line = (
            f"[cyan]soak: {status.boundaries} boundaries{worst}, "
            f"~{status.remaining / 60:.1f} min left"
        )
        self.progress.update(self.overall, status=self._running_summary())
        self._plain_line()

    def stop(self) -> None:
        if self.soak_status in soak.SOAK_LISTENERS:
            soak.SOAK_LISTENERS.remove(self.soak_status)
        self.progress.stop()
