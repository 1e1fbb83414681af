"""The step runner: numbering, the failing step named in the error, notes, observers."""

from __future__ import annotations

import logging

import pytest

from tokenrig.harness.enroll.steps import (
    StepFailed,
    StepRecord,
    StepRunner,
    StepSkipped,
    StepStatus,
    check,
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.pngs: list[str] = []

    def step_started(self, record: StepRecord) -> None:
        self.events.append(f"start {record.number} {record.name}")

    def step_finished(self, record: StepRecord) -> None:
        self.events.append(f"end {record.number} {record.status}")

    def attach_png(self, name: str, png: bytes) -> None:
        self.pngs.append(name)

    def attach_text(self, name: str, text: str) -> None:
        self.events.append(f"text {name}")


def test_steps_run_in_order_and_return_results() -> None:
    recorder = Recorder()
    runner = StepRunner((recorder,))
    assert runner.run("add", lambda a, b: a + b, 2, 3) == 5
    assert runner.run("upper", str.upper, "x") == "X"
    assert [r.number for r in runner.records] == [1, 2]
    assert all(r.status is StepStatus.PASSED for r in runner.records)
    assert recorder.events == ["start 1 add", "end 1 passed", "start 2 upper", "end 2 passed"]


def test_failure_names_the_step_and_the_cause(caplog: pytest.LogCaptureFixture) -> None:
    runner = StepRunner(title="t")
    runner.run("first", lambda: None)

    def broken() -> None:
        raise ValueError("digits: 8 not supported (6)")

    with caplog.at_level(logging.ERROR, logger="tokenrig.enroll"), pytest.raises(StepFailed) as err:
        runner.run("burn seed into token", broken)
    assert err.value.step == "burn seed into token"
    assert err.value.number == 2
    assert str(err.value) == (
        "step 2 'burn seed into token' failed: ValueError: digits: 8 not supported (6)"
    )
    assert isinstance(err.value.__cause__, ValueError)
    # A failed step is a failed test (allure: "failed"), not a crashed one ("broken").
    assert isinstance(err.value, AssertionError)
    assert runner.records[-1].status is StepStatus.FAILED
    assert "step 2 'burn seed into token': failed" in caplog.text


def test_check_fails_with_its_message() -> None:
    runner = StepRunner()
    with pytest.raises(StepFailed, match="status is PENDING, expected ENROLLED"):
        runner.run("status", check, False, "status is PENDING, expected ENROLLED")


def test_notes_go_to_the_running_or_last_step_and_into_the_log() -> None:
    runner = StepRunner()

    def noisy() -> None:
        runner.note("inside")

    runner.run("one", noisy)
    runner.note("after")
    assert runner.records[0].details == ["inside", "after"]
    assert "step 1 'one': passed" in runner.log
    assert "inside; after" in runner.log


def test_skipped_step_is_recorded_and_propagates() -> None:
    runner = StepRunner()

    def skip() -> None:
        raise StepSkipped("no mailbox configured")

    with pytest.raises(StepSkipped):
        runner.run("read mail", skip)
    assert runner.records[0].status is StepStatus.SKIPPED
    assert "no mailbox configured" in runner.log


def test_steps_cannot_nest() -> None:
    runner = StepRunner()
    with pytest.raises(StepFailed, match="started inside step 'outer'"):
        runner.run("outer", lambda: runner.run("inner", lambda: None))


def test_screenshots_reach_every_observer() -> None:
    a, b = Recorder(), Recorder()
    runner = StepRunner((a, b))
    runner.attach_png("01 login", b"\x89PNG")
    assert a.pngs == b.pngs == ["01 login"]
