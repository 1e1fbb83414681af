"""``tokenrig enroll --users FILE --out DIR``: one token per user, a result per user.

Every row is checked before the first user is touched: a username once, a slot once (never
two users on one token), every slot present on the rig. Each user then walks the chosen path
on the local emulator with its own token (the rig slot its row names, or a fresh simulated
token), ending with a login by the token's code and that code refused a second time. The
results (CSV and JSON) are rewritten after every user, so an interrupted batch loses nothing,
and a re-run into the same ``--out`` skips the users it already enrolled.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tokenrig.harness.cli.enroll import enroll_new_user, local_site, open_portal
from tokenrig.harness.cli.main import EXIT_FAIL, EXIT_OK, UsageError
from tokenrig.harness.cli.rig_access import open_cli_rig, slot_token
from tokenrig.harness.clock import Clock, VirtualClock
from tokenrig.harness.enroll.steps import StepFailed, StepRunner, StepStatus
from tokenrig.harness.reports.outputs import write_atomic
from tokenrig.harness.reports.tables import csv_cell
from tokenrig.harness.rigs.kind import OpenRig
from tokenrig.harness.sim.factory import make_sim_token
from tokenrig.harness.tokens.base import Token

RESULTS_JSON = "enroll-results.json"
RESULTS_CSV = "enroll-results.csv"
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_USERS = 10_000
SKIPPED = "enrolled in an earlier run into this --out"


@dataclass(frozen=True)
class BatchUser:
    line: int
    username: str
    slot: int | None


@dataclass
class UserResult:
    username: str
    email: str
    slot: int | None
    result: str  # enrolled, failed, skipped
    token_model: str = ""
    token_serial: str = ""
    failed_step: int | None = None
    reason: str = ""
    steps: int = 0
    seconds: float = 0.0


def read_users(path: Path, *, with_rig: bool) -> list[BatchUser]:
    """The batch's rows, every one checked; errors name ``file:line`` and the column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--users {path}: cannot read: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    columns = set(reader.fieldnames or ())
    rows = list(reader)
    if "username" not in columns:
        raise UsageError(f"--users {path}: needs a header with a 'username' column")
    if with_rig and "slot" not in columns:
        raise UsageError(f"--users {path}: with --rig each row needs a 'slot' column")
    if not 1 <= len(rows) <= MAX_USERS:
        raise UsageError(f"--users {path}: expected 1..{MAX_USERS} users, got {len(rows)}")
    users: list[BatchUser] = []
    seen_names: dict[str, int] = {}
    seen_slots: dict[int, int] = {}
    for line, row in enumerate(rows, start=2):
        where = f"--users {path}:{line}"
        name = (row.get("username") or "").strip()
        if not USERNAME.match(name):
            raise UsageError(f"{where}: username {name!r}: letters, digits, . _ - (1-64)")
        if name in seen_names:
            raise UsageError(f"{where}: username {name} already on line {seen_names[name]}")
        seen_names[name] = line
        slot = _slot(row.get("slot"), where) if with_rig else None
        if slot is not None:
            if slot in seen_slots:
                raise UsageError(
                    f"{where}: slot {slot} already given to line {seen_slots[slot]}: "
                    "one token enrolls one user"
                )
            seen_slots[slot] = line
        users.append(BatchUser(line, name, slot))
    return users


def _slot(text: str | None, where: str) -> int:
    try:
        slot = int((text or "").strip())
    except ValueError:
        raise UsageError(f"{where}: slot {text!r}: not a number") from None
    if slot < 1:
        raise UsageError(f"{where}: slot {slot}: slots count from 1")
    return slot


def earlier_results(out: Path) -> dict[str, UserResult]:
    """What a previous run into ``out`` enrolled (a directory with other files is refused)."""
    path = out / RESULTS_JSON
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    if not path.is_file():
        if out.is_dir() and any(out.iterdir()):
            raise UsageError(f"--out {out}: not empty and holds no {RESULTS_JSON}")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        results = [UserResult(**row) for row in data["users"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: not a tokenrig enroll results file: {exc}") from None
    return {r.username: r for r in results}


def run_batch(args: argparse.Namespace) -> int:
    users = read_users(args.users, with_rig=bool(args.rig))
    earlier = earlier_results(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, UserResult] = {}
    done = threading.Lock()

    def finished(result: UserResult) -> None:
        with done:
            results[result.username] = result
            _write(args.out, [results[u.username] for u in users if u.username in results])
            _progress(len(results), len(users), result)

    with contextlib.ExitStack() as stack:
        rig = stack.enter_context(open_cli_rig(args.rig, wait=args.wait)) if args.rig else None
        if rig is not None:
            _check_slots(args.users, users, rig)
        site = stack.enter_context(local_site(args.clock))
        todo = []
        for user in users:
            before = earlier.get(user.username)
            if before is not None and before.result in ("enrolled", "skipped"):
                finished(UserResult(**{**asdict(before), "result": "skipped", "reason": SKIPPED}))
            else:
                todo.append(user)
        # In real time users run side by side: each spends most of its time waiting for a
        # fresh time step. On a virtual clock that wait is free, and one user's wait would move
        # time under another's code, so they run one after the other.
        jobs = 1 if isinstance(args.clock, VirtualClock) else min(args.jobs, max(len(todo), 1))
        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            futures = [
                pool.submit(
                    _enroll_one, args, site, user, _user_token(rig, user, args.model, n, args.clock)
                )
                for n, user in enumerate(todo, start=1)
            ]
            for future in as_completed(futures):
                finished(future.result())
        finally:  # on Ctrl-C: start no new user, let those under way finish and be written
            pool.shutdown(wait=True, cancel_futures=True)
    failed = [r for r in results.values() if r.result == "failed"]
    print(
        f"{len(results) - len(failed)} of {len(results)} users enrolled or already enrolled, "
        f"{len(failed)} failed — {args.out / RESULTS_CSV}"
    )
    return EXIT_FAIL if failed else EXIT_OK


def _check_slots(path: Path, users: list[BatchUser], rig: OpenRig) -> None:
    present = {info.slot for info in rig.slots() if info.present}
    for user in users:
        if user.slot not in present:
            raise UsageError(
                f"--users {path}:{user.line}: slot {user.slot}: no token there on rig "
                f"{rig.name}; nothing enrolled"
            )


def _user_token(
    rig: OpenRig | None, user: BatchUser, model: str, index: int, clock: Clock
) -> Token:
    if rig is None:  # a simulated token of its own, with a serial of its own
        return make_sim_token(model, clock=clock, index=index)
    assert user.slot is not None  # read_users requires it with a rig
    return slot_token(rig, user.slot)


def _enroll_one(args: argparse.Namespace, site: Any, user: BatchUser, token: Token) -> UserResult:
    runner = StepRunner()
    started = time.perf_counter()
    result = UserResult(
        username=user.username,
        email=f"{user.username}@example.test",
        slot=user.slot,
        result="enrolled",
        token_model=token.identity.model,
        token_serial=token.identity.serial,
    )
    try:
        with site.for_thread() as own, open_portal(args, site.url) as portal:
            enroll_new_user(runner, args.path, own, portal, token, username=user.username)
    except StepFailed as exc:
        failed = next((r for r in runner.records if r.status is StepStatus.FAILED), None)
        result.result = "failed"
        result.failed_step = failed.number if failed else None
        result.reason = str(exc)
    result.steps = len(runner.records)
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _write(out: Path, results: list[UserResult]) -> None:
    rows = [asdict(r) for r in results]
    write_atomic(out / RESULTS_JSON, json.dumps({"users": rows}, indent=2) + "\n")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if rows:
        writer.writerow(rows[0])
    writer.writerows([csv_cell("" if v is None else v) for v in row.values()] for row in rows)
    write_atomic(out / RESULTS_CSV, buffer.getvalue())


def _progress(index: int, total: int, result: UserResult) -> None:
    if result.result == "failed":
        text = f"failed at step {result.failed_step}: {result.reason}"
    elif result.result == "skipped":
        text = "skipped (enrolled in an earlier run)"
    else:
        text = f"enrolled with {result.token_model} {result.token_serial} ({result.seconds:.2f} s)"
    print(f"[{index}/{total}] {result.username}: {text}", file=sys.stdout, flush=True)
