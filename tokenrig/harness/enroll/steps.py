"""Named steps and the runner that walks them, so a failure says *which* step broke.

An enrollment is twenty-odd actions across a console, a mailbox, a portal and a token. When
one fails, "AssertionError in line 212" helps nobody; "step 9 'burn seed into token' failed:
C301 8659610000001: digits: 8 not supported (6)" does. The runner numbers and times each step,
logs its start and outcome, tells an :class:`StepObserver` (the test report) about it, and
turns any exception inside a step into :class:`StepFailed` naming the step and the cause.

Step details are plain text meant for logs and reports, so callers pass only safe facts
(fingerprints, sizes, codes), never seeds or passwords.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeVar

log = logging.getLogger("tokenrig.enroll")

T = TypeVar("T")


class StepStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass
class StepRecord:
    """One step as it ran: number, name, outcome, duration and what it reported."""

    number: int
    name: str
    status: StepStatus | None = None
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)
    error: str = ""

    def line(self) -> str:
        """One log line: ``step 3 'activate now': passed (0.012 s) - state ACTIVATED``."""
        outcome = self.status.value if self.status else "running"
        text = f"step {self.number} {self.name!r}: {outcome} ({self.seconds:.3f} s)"
        if self.details:
            text += " - " + "; ".join(self.details)
        if self.error:
            text += f" - {self.error}"
        return text


class StepFailed(AssertionError):
    """A step failed. ``step`` is its name, ``number`` its position, ``reason`` the cause.

    An :class:`AssertionError`, because a failed step is the verdict of the test that ran it:
    pytest and allure then report the test as *failed* (the procedure did not work), not as
    *broken* (the test itself crashed).
    """

    def __init__(self, record: StepRecord, reason: str) -> None:
        super().__init__(f"step {record.number} {record.name!r} failed: {reason}")
        self.step = record.name
        self.number = record.number
        self.reason = reason


class StepSkipped(Exception):
    """Raised inside a step that cannot run here (e.g. a real mailbox is not configured)."""


class StepObserver(Protocol):
    """Who hears about steps as they run (a test report, a console)."""

    def step_started(self, record: StepRecord) -> None: ...

    def step_finished(self, record: StepRecord) -> None: ...

    def attach_png(self, name: str, png: bytes) -> None: ...

    def attach_text(self, name: str, text: str) -> None: ...


class StepCheckError(Exception):
    """A step's own check failed (the portal said no, a status was wrong)."""


class StepRunner:
    """Runs steps in order; keeps their records; the first failure ends the run.

    ``runner.run("name", fn, *args)`` returns ``fn``'s result. Inside a step, ``runner.note()``
    adds a detail to the current step and ``runner.attach_png()`` hands a screenshot to the
    observers. ``runner.log`` is the text of every finished step, one line each.
    """

    def __init__(self, observers: tuple[StepObserver, ...] = (), *, title: str = "") -> None:
        self.observers = list(observers)
        self.title = title
        self.records: list[StepRecord] = []
        self._current: StepRecord | None = None

    @property
    def log(self) -> str:
        return "\n".join(record.line() for record in self.records)

    def note(self, detail: str) -> None:
        """Add a detail (safe text only) to the running step, or else to the last one run."""
        target = self._current or (self.records[-1] if self.records else None)
        if target is not None:
            target.details.append(detail)

    def attach_png(self, name: str, png: bytes) -> None:
        for observer in self.observers:
            observer.attach_png(name, png)

    def attach_text(self, name: str, text: str) -> None:
        for observer in self.observers:
            observer.attach_text(name, text)

    def run(
        self,
        name: str,
        action: Callable[..., T],
        *args: object,
        describe: Callable[[T], str] | None = None,
        **kwargs: object,
    ) -> T:
        """Run ``action(*args, **kwargs)`` as step ``name``; ``describe(result)`` (safe text)
        becomes a detail of the step before it is reported."""
        if self._current is not None:
            raise RuntimeError(f"step {name!r} started inside step {self._current.name!r}")
        record = StepRecord(number=len(self.records) + 1, name=name)
        self.records.append(record)
        self._current = record
        for observer in self.observers:
            observer.step_started(record)
        log.info("%sstep %d %r: start", self._prefix(), record.number, name)
        started = time.monotonic()
        try:
            result = action(*args, **kwargs)
        except StepSkipped as exc:
            self._finish(record, started, StepStatus.SKIPPED, str(exc))
            raise
        except StepFailed as exc:  # a nested runner's failure: keep its exact wording
            self._finish(record, started, StepStatus.FAILED, str(exc))
            raise StepFailed(record, str(exc)) from exc
        except Exception as exc:
            reason = _describe(exc)
            self._finish(record, started, StepStatus.FAILED, reason)
            raise StepFailed(record, reason) from exc
        if describe is not None:
            record.details.append(describe(result))
        self._finish(record, started, StepStatus.PASSED, "")
        return result

    def _prefix(self) -> str:
        return f"[{self.title}] " if self.title else ""

    def _finish(self, record: StepRecord, started: float, status: StepStatus, error: str) -> None:
        record.seconds = time.monotonic() - started
        record.status = status
        record.error = error
        self._current = None
        level = logging.INFO if status is not StepStatus.FAILED else logging.ERROR
        log.log(level, "%s%s", self._prefix(), record.line())
        for observer in self.observers:
            observer.step_finished(record)


def _describe(exc: BaseException) -> str:
    """``TypeName: message`` (or just the type when the message is empty)."""
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def check(condition: bool, message: str) -> None:
    """Fail the running step with ``message`` unless ``condition`` holds."""
    if not condition:
        raise StepCheckError(message)
