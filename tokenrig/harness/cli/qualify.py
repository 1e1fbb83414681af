"""``tokenrig qualify``: qualify a batch of tokens, write records and a report.

The qualification suite is pytest underneath (``tokenrig/suites/qualification``, shipped in the
package, run under its own ``suites.ini`` so the caller's pytest configuration and conftest
files do not apply), so every pytest option
passes through after ``--``; this command chooses the rig(s), the profile and the output
directory, shows live progress per token, and turns the batch verdict into the exit status:
0 every token passed, 1 any token failed, is inconclusive or incomplete (see
tokenrig.harness.qualify.verdict), 2 a usage, configuration or infrastructure error (an
unreachable or busy rig, a crashed run), 128 + the signal when stopped by SIGINT (130),
SIGHUP (129) or SIGTERM (143).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import re
import shutil
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tokenrig.harness import interrupts
from tokenrig.harness.cli.main import EXIT_USAGE, UsageError
from tokenrig.harness.cli.qualify_progress import LiveProgress
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.packaged import (
    PackageDataMissing,
    default_rig_file,
    plugin_args,
    suite_dir,
    suites_dir,
    suites_ini,
)
from tokenrig.harness.qualify.profile import ProfileError, load_profile
from tokenrig.harness.qualify.rig_names import duplicate_rig_name
from tokenrig.harness.qualify.seeds import (
    SeedFileError,
    SeedTarget,
    check_seed_book,
    load_seed_book,
)
from tokenrig.harness.qualify.verdict import COMPLETE, batch_verdict, summary_line
from tokenrig.harness.reports.outputs import RECORDS_JSON, REPORT_HTML
from tokenrig.harness.reports.tables import read_records_json
from tokenrig.harness.rigs.config import RigConfig, RigFileError, SlotConfig
from tokenrig.harness.rigs.rig import rig_config_for, safe_file_name
from tokenrig.harness.sim.factory import realistic_batch, sim_serial
from tokenrig.harness.sim.faults import FAULTS
from tokenrig.harness.sim.firmware import SimFirmware
from tokenrig.harness.tokens.models import model

SIM_MODELS = ("miniOTP-2", "miniOTP-3", "OTPC-P1", "OTPC-P2", "C301", "C302", "Molto2")
SIM_BATCH_SEED = 2026
MAX_JOBS = 64


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "qualify",
        help="qualify a batch of tokens (default: the simulated rig) and write a report",
        description=(
            "Run the qualification suite on every token of a rig and write records.json, "
            "tokens.csv, JUnit XML, allure results and report.html. Exit 0 if every token "
            "passed, 1 if any failed, 2 on a usage or configuration error. Arguments after "
            "'--' go to pytest."
        ),
    )
    parser.add_argument(
        "--rig",
        action="append",
        default=[],
        metavar="FILE|URL",
        help="rig file or URL; repeat to qualify several rigs in one run "
        "(default: the built-in simulated rig)",
    )
    parser.add_argument("--sim", action="store_true", help="a fresh simulated batch (see --slots)")
    parser.add_argument("--slots", type=int, default=None, metavar="N", help="with --sim: tokens")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SLOT=NAME",
        help="simulated rigs: give the token in SLOT a firmware fault (tokenrig sim faults)",
    )
    parser.add_argument(
        "--profile", default="qa", metavar="NAME|FILE", help="qa (default), vendor, or a file"
    )
    parser.add_argument("--seeds", metavar="FILE", help="CSV slot,secret,algorithm,period")
    parser.add_argument("--out", metavar="DIR", help="output directory (reports/<UTC time>)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="parallel workers")
    parser.add_argument(
        "--real-time",
        action="store_true",
        help="drive simulated rigs over their serial path in real time (default: virtual time)",
    )
    parser.add_argument("--station", metavar="NAME", help="station name in the records")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then pytest options")
    parser.set_defaults(func=run_qualify)


def parse_faults(specs: Sequence[str], slots: set[int]) -> dict[int, list[str]]:
    faults: dict[int, list[str]] = {}
    for spec in specs:
        slot_text, sep, name = spec.partition("=")
        if not sep or not slot_text.strip().isdigit():
            raise UsageError(f"--fault {spec!r}: expected SLOT=NAME, e.g. 3=drift_out_of_spec")
        slot = int(slot_text)
        if slot not in slots:
            raise UsageError(f"--fault {spec!r}: no slot {slot} (slots: {_ranges(slots)})")
        if name not in FAULTS:
            raise UsageError(f"--fault {spec!r}: unknown fault; known: {', '.join(FAULTS)}")
        faults.setdefault(slot, []).append(name)
    return faults


def _ranges(slots: set[int]) -> str:
    ordered = sorted(slots)
    return f"{ordered[0]}..{ordered[-1]}" if ordered else "none"


def sim_rig_toml(rig: RigConfig, faults: dict[int, list[str]]) -> str:
    """A rig file for a simulated rig with ``faults`` added, as written to the output dir."""
    lines = [
        "# Simulated rig used by this run (written by tokenrig qualify).",
        f"name = {json.dumps(rig.name)}",  # a JSON string is a valid TOML basic string
        f"description = {json.dumps(rig.description)}",
        'url = "sim"',
    ]
    for slot in rig.slots:
        names = [*slot.faults, *faults.get(slot.slot, [])]
        lines += [
            "",
            "[[slots]]",
            f"slot = {slot.slot}",
            f"model = {json.dumps(slot.model)}",
            *([f"serial = {json.dumps(slot.serial)}"] if slot.serial else []),
            f"firmware = {json.dumps(slot.firmware)}",
            f"drift_ppm = {slot.drift_ppm!r}",
            f"rtc_offset = {slot.rtc_offset!r}",
            f"faults = [{', '.join(json.dumps(n) for n in names)}]",
        ]
    return "\n".join(lines) + "\n"


def simulated_batch(count: int) -> RigConfig:
    clock = VirtualClock()  # frozen: each token's factory clock offset reads back exactly
    batch = realistic_batch(count, clock=clock, seed=SIM_BATCH_SEED, models=SIM_MODELS)
    slots = tuple(
        SlotConfig(
            slot=i + 1,
            model=fw.spec.name,
            serial=fw.identity.serial,
            drift_ppm=fw.drift_ppm,
            rtc_offset=_rtc_offset(fw),
        )
        for i, fw in enumerate(batch)
    )
    return RigConfig(name="sim", url="sim", slots=slots, description=f"{count} simulated tokens")


def _rtc_offset(firmware: SimFirmware) -> float:
    return round(firmware.rtc_now() - firmware.clock.now(), 3)


def _rig_configs(args: argparse.Namespace) -> list[RigConfig]:
    """The rigs to qualify, read and checked before anything is written."""
    if args.sim and args.rig:
        raise UsageError("give either --sim or --rig, not both")
    if args.slots is not None and not args.sim:
        raise UsageError("--slots needs --sim (a rig file says how many slots it has)")
    if args.sim:
        count = 8 if args.slots is None else args.slots
        if not 1 <= count <= 10_000:
            raise UsageError(f"--slots {count}: expected 1..10000")
        configs = [simulated_batch(count)]
    else:
        try:
            configs = [rig_config_for(r) for r in args.rig] or [rig_config_for(default_rig_file())]
        except RigFileError as exc:
            raise UsageError(str(exc)) from None
    duplicate = duplicate_rig_name(configs)
    if duplicate:
        raise UsageError(f"--rig: {duplicate}")
    if args.fault and not all(c.is_sim for c in configs):
        raise UsageError('--fault only applies to simulated rigs (url = "sim")')
    if args.fault and len(configs) > 1:
        raise UsageError("--fault needs a single simulated rig")
    if args.fault:
        parse_faults(args.fault, {s.slot for s in configs[0].slots})  # refuse bad slots now
    if args.seeds and all(c.is_sim for c in configs):
        # Simulated rigs say what is in every slot; a real rig is asked when the suite starts
        # (which runs the same check before any token is touched).
        targets = [
            SeedTarget(c.name, s.slot, s.serial or sim_serial(model(s.model), s.slot), s.model)
            for c in configs
            for s in c.slots
        ]
        try:
            check_seed_book(load_seed_book(args.seeds), targets)
        except SeedFileError as exc:
            raise UsageError(f"--seeds: {exc}") from None
    return configs


def _rig_targets(args: argparse.Namespace, configs: list[RigConfig], out: Path) -> list[Path | str]:
    """The rig targets to pass to the suite; simulated ones are written into ``out``."""
    targets: list[Path | str] = []
    for index, config in enumerate(configs):
        if config.is_sim and (args.sim or args.fault):
            faults = parse_faults(args.fault, {s.slot for s in config.slots})
            path = out / f"rig-{index + 1}-{safe_file_name(config.name)}.toml"
            path.write_text(sim_rig_toml(config, faults), encoding="utf-8")
            targets.append(path)
        else:
            targets.append(config.source or str(args.rig[index]))
    return targets


def _check_inputs(args: argparse.Namespace) -> None:
    try:
        load_profile(args.profile)
    except ProfileError as exc:
        raise UsageError(f"--profile: {exc}") from None
    if args.seeds:
        try:
            load_seed_book(args.seeds)
        except SeedFileError as exc:
            raise UsageError(f"--seeds: {exc}") from None
    if not 1 <= args.jobs <= MAX_JOBS:
        raise UsageError(f"--jobs {args.jobs}: expected 1..{MAX_JOBS}")
    try:
        suite_dir("qualification")
        suites_ini()
    except PackageDataMissing as exc:
        raise UsageError(str(exc)) from None


def default_out() -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("reports") / stamp


def pytest_arguments(args: argparse.Namespace, out: Path, rigs: Sequence[Path | str]) -> list[str]:
    extra = list(args.pytest_args)
    if extra and extra[0] == "--":
        extra = extra[1:]
    argv = [
        str(suite_dir("qualification")),
        "--rootdir",
        str(suites_dir()),
        "-c",
        str(suites_ini()),
        *plugin_args(),
        "--profile",
        str(args.profile),
        "--qualify-out",
        str(out),
        "--junitxml",
        str(out / "junit.xml"),
        "--alluredir",
        str(out / "allure-results"),
        "-q",
    ]
    for rig in rigs:
        argv += ["--qualify-rig", str(rig)]
    if args.seeds:
        argv += ["--seeds", str(args.seeds)]
    if args.station:
        argv += ["--station", str(args.station)]
    if args.real_time:
        argv.append("--real-time")
    if args.jobs > 1:
        argv += ["-n", str(args.jobs), "--dist", "loadgroup"]
    return argv + extra


def parallel_groups(args: argparse.Namespace, configs: list[RigConfig]) -> int:
    """How many workers can have work: one per in-process simulated token, one per rig that
    is driven over its serial line (a rig is never driven by two processes)."""
    return sum(len(c.slots) if c.is_sim and not args.real_time else 1 for c in configs) or 1


def prepare_out(args: argparse.Namespace) -> Path:
    """The output directory, new or empty: an ``--out`` holds one run, so a directory with
    files in it (an earlier run's records or allure results) is refused, never mixed in."""
    out = Path(args.out) if args.out else default_out()
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(
            f"--out {out}: not empty; an output directory holds one run: give a new or "
            "empty directory (or remove this one)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create the directory: {exc.strerror}") from None
    return out


def run_qualify(args: argparse.Namespace) -> int:
    with interrupts.installed():
        return _run_qualify(args)


def _run_qualify(args: argparse.Namespace) -> int:
    _check_inputs(args)
    configs = _rig_configs(args)
    groups = parallel_groups(args, configs)
    if args.jobs > groups:
        print(
            f"tokenrig qualify: --jobs {args.jobs}: {groups} worker(s) can have work here "
            f"(one per simulated token, or per rig driven over a serial line); using {groups}",
            file=sys.stderr,
        )
        args.jobs = groups
    out = prepare_out(args)
    rigs = _rig_targets(args, configs, out)
    argv = pytest_arguments(args, out, rigs)
    console = Console(file=sys.stdout)
    progress = LiveProgress(console)
    log_path = out / "pytest.log"
    with log_path.open("w", encoding="utf-8") as log, contextlib.redirect_stdout(log):
        try:
            status = int(pytest.main(argv, plugins=[progress]))
        except KeyboardInterrupt as exc:  # outside pytest's own handling (e.g. at start-up)
            interrupts.note(getattr(exc, "signum", signal.SIGINT))
            status = int(pytest.ExitCode.INTERRUPTED)
        finally:
            progress.stop()
    return _verdict(status, out, console, log_path)


_EXCEPTION_PREFIX = re.compile(r"^E\s+(?:[\w.]+(?:Error|Exception|Busy)\w*: )?")


def _cause(log_path: Path) -> str:
    """The error pytest stopped on (its last ``E`` line), without the exception's class."""
    lines = log_path.read_text(encoding="utf-8").splitlines()
    errors = [line for line in lines if line.startswith("E ")]
    if errors:
        return _EXCEPTION_PREFIX.sub("", errors[-1]).strip()
    tail = [line for line in lines if line.strip()][-3:]
    return "; ".join(tail) or "the suite stopped before any token was touched"


def _not_run(out: Path, log_path: Path) -> None:
    """A run that never started writes no report: remove what was prepared for it, keep
    pytest's log (the CLI quotes its cause) so the reason can be read."""
    for path in out.iterdir():
        if path == log_path:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _verdict(status: int, out: Path, console: Console, log_path: Path) -> int:
    records = out / RECORDS_JSON
    signum = interrupts.received()
    if not records.exists():
        _not_run(out, log_path)
        if signum is not None:
            print(
                f"tokenrig qualify: interrupted by {interrupts.signal_name(signum)} before "
                "any token was touched; no report written",
                file=sys.stderr,
            )
            return interrupts.exit_status(signum)
        print(
            f"tokenrig qualify: the suite did not start (pytest exit {status}): "
            f"{_cause(log_path)}; no report written (log: {log_path})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    batch = read_records_json(records)
    judged = batch_verdict(batch)
    colour = {"PASS": "green", "FAIL": "red"}.get(judged.word, "yellow")
    line = summary_line(batch)
    word, rest = line.split(":", 1)
    console.print(
        f"[bold {colour}]{word}[/]:{rest} — {out / REPORT_HTML}", highlight=False, markup=True
    )
    if signum is not None:
        return interrupts.exit_status(signum)
    if judged.run_status != COMPLETE:
        return EXIT_USAGE  # crashed: the harness's failure, not a verdict on any token
    if not judged.counts["tokens"]:
        print("tokenrig qualify: no tokens to qualify", file=sys.stderr)
        return EXIT_USAGE
    return judged.exit_status
