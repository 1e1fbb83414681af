"""A verdict stays true when a run is killed: real ``tokenrig qualify`` runs, real signals.

Each case starts ``tokenrig qualify`` on simulated rigs driven in real time over kernel ptys
(a few seconds of work: two tokens, a short profile), in a session of its own, and signals it
at a seeded random moment (a quarter of the cases while the command starts, the others a random
time after the run has started, i.e. written its first records.json): SIGINT or SIGTERM (to the
process, or to its whole process group as a terminal's Ctrl-C and a CI cancel do, so each
pytest-xdist worker of a ``--jobs 2`` run gets it too), or SIGKILL to the group.
Afterwards:

* no token is recorded ``pass`` unless every procedure of the profile passed for it;
* the output directory either holds no report at all (the run never started) or says how the
  run ended: records.json valid against its schema with status ``complete``, ``interrupted``
  (``crashed``) or, after SIGKILL, ``running`` (``complete`` only when the run had finalised
  its records, every token judged, just before the kill); tokens.csv, report.html, JUnit and
  the allure environment agree with it (or are absent), and nothing says PASS unless the run
  is complete;
* SIGINT exits 130, SIGTERM 143, nothing is left running in the process group;
* the rig locks are free: released after SIGINT/SIGTERM, stale (taken over by the next run)
  after SIGKILL.

A background job of a non-interactive shell starts with SIGINT ignored, and a child inherits
that; each run is therefore started through a two-line wrapper that restores SIGINT's default
before it execs ``tokenrig``, so the test means the same under any CI runner.

The cases run four at a time (one module fixture runs them all, each test asserts one case,
so a failure names its case); ``TOKENRIG_KILL_SEED`` replays another random draw.
"""

from __future__ import annotations

import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tokenrig.harness.clock import SYSTEM_CLOCK
from tokenrig.harness.qualify.verdict import summary_line
from tokenrig.harness.reports.tables import read_records_json
from tokenrig.harness.rigs.lock import RigLock, pid_alive
from tokenrig.harness.sim.factory import make_sim_firmware
from tokenrig.harness.sim.rig_server import SimRig
from tokenrig.harness.sim.rig_serving import PtyRigServer

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("TOKENRIG_KILL_SEED", "1111"))
PARALLEL = 4  # cases at once: bounded wall time on 2 cores, still real time per run
PROCEDURES = ("burn", "leading_zero")  # the quick ones; provisioning follows them
MODELS = ("C302", "miniOTP-2")
RUN_TIMEOUT = 120.0  # a run that outlives this after its signal is hung: a failure
GROUP_GRACE = 20.0  # how long the process group may take to be gone after the main process
# SIGINT restored to its default, then tokenrig itself (argv after -c: the qualify arguments).
WRAPPER = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, '-m', 'tokenrig', *sys.argv[1:]])"
)


@dataclass(frozen=True)
class Case:
    index: int
    sig: signal.Signals
    jobs: int
    to_group: bool
    after_start: bool  # the delay counts from the run's start (records.json written), not launch
    delay: float

    @property
    def id(self) -> str:
        where = "group" if self.to_group else "pid"
        since = "start" if self.after_start else "launch"
        return f"{self.index:02d}-{self.sig.name}-jobs{self.jobs}-{where}-{since}+{self.delay:.2f}s"


def _cases(seed: int) -> list[Case]:
    """22 SIGINT/SIGTERM (10 of them with --jobs 2) and 10 SIGKILL (4 with --jobs 2)."""
    rng = random.Random(seed)
    plan: list[tuple[signal.Signals, int, bool]] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        plan += [(sig, 1, False)] * 4 + [(sig, 1, True)] * 2 + [(sig, 2, True)] * 4
        plan += [(sig, 2, False)]  # to the controller alone: it passes the stop on
    plan += [(signal.SIGKILL, 1, True)] * 6 + [(signal.SIGKILL, 2, True)] * 4
    rng.shuffle(plan)
    # One kill in four lands while the command is starting (no records yet); the others are
    # timed from the moment the run has started (its records.json says running), so they land
    # mid-run or near its end however loaded the machine is (the runs after their start last
    # about 6 s with one worker, 4 s with two).
    cases = []
    for i, (sig, jobs, group) in enumerate(plan):
        after_start = rng.random() >= 0.25
        if after_start:
            delay = rng.uniform(0.0, 6.5 if jobs == 1 else 4.0)
        else:
            delay = rng.uniform(0.3, 2.0)
        cases.append(Case(i, sig, jobs, group, after_start, round(delay, 2)))
    return cases


CASES = _cases(SEED)


@dataclass
class Outcome:
    case: Case
    work: Path
    returncode: int
    exited_first: bool  # the run had ended before its signal was due
    started_after: float | None  # seconds from launch to records.json, if seen before the kill
    hung: bool
    leftover: bool  # processes of its group still alive GROUP_GRACE s after it exited
    seconds: float

    @property
    def out(self) -> Path:
        return self.work / "out"

    @property
    def locks(self) -> Path:
        return self.work / "locks"

    def log(self) -> str:
        parts = [f"case {self.case.id}: exit {self.returncode}"]
        for name in ("stdout", "stderr"):
            parts.append(f"--- {name}\n{(self.work / name).read_text(errors='replace')[-3000:]}")
        log = self.out / "pytest.log"
        if log.exists():
            parts.append(f"--- pytest.log\n{log.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)


def _write_inputs(case: Case, work: Path) -> list[str]:
    """Rig files (one rig of two tokens, or two rigs of one for --jobs 2) and the profile."""
    names = ["a"] if case.jobs == 1 else ["a", "b"]
    per_rig = len(MODELS) // len(names)
    args: list[str] = []
    for position, name in enumerate(names):
        models = MODELS[position * per_rig : (position + 1) * per_rig]
        slots = "".join(
            f'\n[[slots]]\nslot = {slot}\nmodel = "{m}"\n' for slot, m in enumerate(models, start=1)
        )
        rig = work / f"{name}.toml"
        rig.write_text(f'name = "{name}"\nurl = "sim"\n{slots}', encoding="utf-8")
        args += ["--rig", str(rig)]
    profile = work / "profile.toml"
    listed = ", ".join(f'"{p}"' for p in PROCEDURES)
    profile.write_text(f'name = "kill"\nprocedures = [{listed}]\n', encoding="utf-8")
    return [*args, "--profile", str(profile)]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _run_case(case: Case, root: Path) -> Outcome:
    work = root / case.id
    (work / "locks").mkdir(parents=True)
    argv = [
        sys.executable, "-c", WRAPPER, "qualify", *_write_inputs(case, work),
        "--real-time", "--jobs", str(case.jobs), "--out", str(work / "out"),
    ]  # fmt: skip
    env = {**os.environ, "TOKENRIG_LOCK_DIR": str(work / "locks"), "COLUMNS": "120"}
    started = time.monotonic()
    with (work / "stdout").open("wb") as stdout, (work / "stderr").open("wb") as stderr:
        proc = subprocess.Popen(
            argv, cwd=work, env=env, stdout=stdout, stderr=stderr, start_new_session=True
        )
    pgid = proc.pid  # its own session: the process group has its PID
    exited_first = hung = False
    started_after = _wait_for_start(proc, work / "out", started) if case.after_start else None
    try:
        proc.wait(timeout=case.delay)
        exited_first = True
    except subprocess.TimeoutExpired:
        try:
            if case.to_group:
                os.killpg(pgid, case.sig)
            else:
                proc.send_signal(case.sig)
        except ProcessLookupError:
            exited_first = True
    try:
        proc.wait(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        hung = True
        os.killpg(pgid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + GROUP_GRACE
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    leftover = _group_alive(pgid)
    if leftover:
        os.killpg(pgid, signal.SIGKILL)
    if proc.returncode in (0, 1) and case.sig is not signal.SIGKILL:
        # The signal landed after main had returned (outputs written, status decided): the
        # program ignores it then, so the run counts as having ended first, and its records
        # must say complete (checked with the outputs).
        exited_first = True
    seconds = time.monotonic() - started
    return Outcome(
        case, work, proc.returncode, exited_first, started_after, hung, leftover, seconds
    )


def _wait_for_start(proc: subprocess.Popen[bytes], out: Path, launched: float) -> float | None:
    """Until the run has written its first records.json (or has ended, or a minute passed)."""
    deadline = time.monotonic() + 60.0
    while proc.poll() is None and time.monotonic() < deadline:
        if (out / "records.json").exists():
            return time.monotonic() - launched
        time.sleep(0.02)
    return None


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    root = tmp_path_factory.mktemp("kills")
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        outcomes = list(pool.map(lambda c: _run_case(c, root), CASES))
    _print_tally(outcomes, time.monotonic() - started)
    return {o.case.id: o for o in outcomes}


def _records(out: Path) -> dict[str, Any] | None:
    path = out / "records.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _status(outcome: Outcome) -> str:
    data = _records(outcome.out)
    if data is None:
        return "no records"
    return str(data["run"]["status"])


def _print_tally(outcomes: list[Outcome], seconds: float) -> None:
    kinds = Counter(o.case.sig.name for o in outcomes)
    by_status = Counter(
        (
            o.case.sig.name,
            f"--jobs {o.case.jobs}",
            "ended before its signal" if o.exited_first else _status(o),
        )
        for o in outcomes
    )
    jobs2 = Counter(o.case.sig.name for o in outcomes if o.case.jobs > 1)
    starts = sorted(o.started_after for o in outcomes if o.started_after is not None)
    print(f"\nkill matrix (seed {SEED}): {len(outcomes)} runs in {seconds:.1f} s: {dict(kinds)}")
    print(f"  with --jobs 2: {dict(jobs2)}")
    if starts:
        print(f"  launch to records.json: {starts[0]:.1f}..{starts[-1]:.1f} s")
    for (sig, jobs, status), count in sorted(by_status.items()):
        print(f"  {sig:8} {jobs:9} {status:24} {count}")


def _schema() -> dict[str, Any]:
    text = (resources.files("tokenrig.harness.reports") / "records.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _check_tokens(data: dict[str, Any], where: str) -> None:
    """No token is pass unless every procedure the profile selects passed, in limits."""
    required = {*data["run"]["profile"]["procedures"], "provision"}
    assert required == {*PROCEDURES, "provision"}, where
    for token in data["tokens"]:
        name = f"{where}: token {token['rig']}:{token['slot']}"
        assert required <= set(token.get("selected", [])), name
        if token["verdict"] == "pass":
            passed = {p for p, s in token.get("procedures", {}).items() if s == "passed"}
            assert required <= passed, f"{name} is pass with only {sorted(passed)} passed"
            assert all(m["outcome"] != "fail" for m in token["measurements"]), name
            assert not token.get("errors"), name
            assert not token.get("inconclusive"), name
    if data["run"]["status"] == "complete":
        # A complete run has run everything: no token may be left incomplete.
        assert all(t["verdict"] != "incomplete" for t in data["tokens"]), where
    else:
        assert data["run"]["verdict"] == "INCOMPLETE", where


def _csv_verdicts(out: Path) -> dict[tuple[str, str], str] | None:
    path = out / "tokens.csv"
    if not path.exists():
        return None
    with path.open(newline="", encoding="utf-8") as handle:
        return {(r["rig"], r["slot"]): r["verdict"] for r in csv.DictReader(handle)}


def _junit_properties(out: Path) -> dict[str, str] | None:
    path = out / "junit.xml"
    if not path.exists():
        return None
    root = ET.parse(path).getroot()  # noqa: S314 (our own run; a half-written file fails here)
    return {
        p.get("name", ""): p.get("value", "")
        for p in root.iter("property")
        if p.get("name", "").startswith("tokenrig.")
    }


def _check_outputs(outcome: Outcome) -> None:
    out, where = outcome.out, outcome.log()
    data = _records(out)
    present = {p.name for p in out.iterdir()} if out.exists() else set()
    if data is None:
        # The run never started: no report of any kind (the CLI keeps pytest's log).
        assert not present & {"tokens.csv", "report.html"}, where
        if outcome.case.sig is not signal.SIGKILL:
            assert present <= {"pytest.log"}, where
        junit = _junit_properties(out) or {}
        assert junit.get("tokenrig.verdict") != "PASS", where
        return
    jsonschema.Draft202012Validator(_schema()).validate(data)
    status = data["run"]["status"]
    _check_tokens(data, where)
    # What `tokenrig report DIR` (and the CLI) would say, derived again from the records.
    said = summary_line(read_records_json(out / "records.json"))
    assert said.startswith("INCOMPLETE") or status == "complete", where
    if outcome.exited_first:
        assert status == "complete", where
    elif outcome.case.sig is signal.SIGKILL:
        # Written first, finalised last: a killed run says it was still running, unless it
        # had finalised its records (every token judged, checked above) before the kill.
        assert status in ("running", "complete"), where
    else:
        assert status in ("interrupted", "complete"), where
        if status == "interrupted":
            assert data["run"]["interrupted_by"] == outcome.case.sig.name, where
    # The other outputs are written after records.json, each atomically; after SIGKILL one
    # may lag behind it (still the run-start version, every token incomplete), never ahead.
    lag_ok = outcome.case.sig is signal.SIGKILL and not outcome.exited_first
    tokens = {(t["rig"], str(t["slot"])): t["verdict"] for t in data["tokens"]}
    rows = _csv_verdicts(out)
    if rows is not None:
        assert rows == tokens or (lag_ok and set(rows.values()) == {"incomplete"}), where
    html = (out / "report.html").read_text(encoding="utf-8") if "report.html" in present else None
    if html is not None:
        banner = "INCOMPLETE RUN" in html
        assert banner == (status != "complete") or (lag_ok and banner), where
        headline = re.search(r'Token qualification: <span class="(\w+)">', html)
        assert headline is not None, where
        assert headline.group(1) == data["run"]["verdict"].lower() or (lag_ok and banner), where
    junit = _junit_properties(out)
    if junit is not None:
        assert status != "running", where  # JUnit is written only once records are final
        assert junit.get("tokenrig.run_status") == status, where
        assert junit.get("tokenrig.verdict") == data["run"]["verdict"], where
    environment = out / "allure-results" / "environment.properties"
    if environment.exists():
        said = dict(
            line.split("=", 1) for line in environment.read_text().splitlines() if "=" in line
        )
        said_status = said.get("tokenrig.run_status")
        assert said_status == status or (lag_ok and said_status == "running"), where
        assert said.get("tokenrig.verdict") != "PASS" or status == "complete", where


def _check_locks(outcome: Outcome) -> None:
    """Released after SIGINT/SIGTERM; after SIGKILL each lock left names a dead process and
    the next run takes it over (see rigs/lock.py)."""
    left = sorted(outcome.locks.glob("*.lock"))
    if outcome.case.sig is not signal.SIGKILL or outcome.exited_first:
        assert left == [], outcome.log()
        return
    for path in left:
        holder = json.loads(path.read_text())
        assert not pid_alive(int(holder["pid"])), path
        lock = RigLock(str(holder["rig"]), lock_dir=outcome.locks).acquire()
        try:
            assert lock.took_over_from == holder["pid"], path
        finally:
            lock.release()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_killed_run_never_says_more_than_it_measured(
    case: Case, matrix: dict[str, Outcome]
) -> None:
    outcome = matrix[case.id]
    assert not outcome.hung, outcome.log()
    if case.sig is not signal.SIGKILL:
        assert not outcome.leftover, outcome.log()
    if outcome.exited_first:
        assert outcome.returncode in (0, 1), outcome.log()
    elif case.sig is signal.SIGKILL:
        assert outcome.returncode == -signal.SIGKILL, outcome.log()
    else:
        assert outcome.returncode == 128 + case.sig, outcome.log()
        stderr = (outcome.work / "stderr").read_text(errors="replace")
        assert "Traceback" not in stderr, outcome.log()
    _check_outputs(outcome)
    _check_locks(outcome)


def test_the_matrix_kills_runs_in_every_phase(matrix: dict[str, Outcome]) -> None:
    """The random moments cover what matters: enough kills of each kind, and kills that land
    mid-run (records written, run not finished), not only before the start or after the end."""
    outcomes = list(matrix.values())
    soft = [o for o in outcomes if o.case.sig is not signal.SIGKILL]
    hard = [o for o in outcomes if o.case.sig is signal.SIGKILL]
    assert len(soft) >= 20
    assert sum(o.case.jobs > 1 for o in soft) >= 4
    assert len(hard) >= 10
    interrupted = [o for o in soft if not o.exited_first and _status(o) == "interrupted"]
    running = [o for o in hard if not o.exited_first and _status(o) == "running"]
    assert len(interrupted) >= 5, [(o.case.id, _status(o)) for o in soft]
    assert len(running) >= 3, [(o.case.id, _status(o)) for o in hard]
    # Under --jobs the xdist controller collects nothing; it still writes the run-start records
    # (when a worker has collected), so a run killed there says running too.
    assert any(o.case.jobs > 1 for o in running), [(o.case.id, _status(o)) for o in hard]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_the_next_qualify_on_the_same_rig_runs_after_a_killed_one(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """A rig outside the run (served by this test on a pty, as a real rig on a tty): a qualify
    killed mid-run, then another qualify of the same rig runs to ``complete``, PASS. After
    SIGTERM the lock was released; after SIGKILL the second run takes the stale lock over."""
    firmware = make_sim_firmware("C302", clock=SYSTEM_CLOCK)
    with PtyRigServer(SimRig([firmware], clock=SYSTEM_CLOCK)) as server:
        rig = tmp_path / "rig.toml"
        rig.write_text(f'name = "bench"\nurl = "{server.path}"\n', encoding="utf-8")
        profile = tmp_path / "profile.toml"
        listed = ", ".join(f'"{p}"' for p in PROCEDURES)
        profile.write_text(f'name = "kill"\nprocedures = [{listed}]\n', encoding="utf-8")
        env = {**os.environ, "TOKENRIG_LOCK_DIR": str(tmp_path / "locks"), "COLUMNS": "120"}

        def qualify(out: str) -> subprocess.Popen[bytes]:
            argv = [sys.executable, "-c", WRAPPER, "qualify", "--rig", str(rig)]
            argv += ["--profile", str(profile), "--out", str(tmp_path / out)]
            return subprocess.Popen(
                argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )

        first = qualify("first")
        assert _wait_for_start(first, tmp_path / "first", time.monotonic()) is not None
        first.send_signal(sig)
        first.wait(timeout=RUN_TIMEOUT)
        assert first.returncode == (128 + sig if sig is not signal.SIGKILL else -sig)
        first_records = _records(tmp_path / "first")
        assert first_records is not None
        assert first_records["run"]["status"] == (
            "running" if sig is signal.SIGKILL else "interrupted"
        )
        assert [t["verdict"] for t in first_records["tokens"]] == ["incomplete"]
        second = qualify("second")
        _, err = second.communicate(timeout=RUN_TIMEOUT)
    assert second.returncode == 0, err.decode(errors="replace")
    second_records = _records(tmp_path / "second")
    assert second_records is not None
    assert second_records["run"]["status"] == "complete"
    assert [t["verdict"] for t in second_records["tokens"]] == ["pass"]
    assert list((tmp_path / "locks").glob("*.lock")) == []
