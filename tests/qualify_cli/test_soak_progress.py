"""The live progress of ``tokenrig qualify`` shows a real-time soak's state: boundaries timed,
the worst drift uncertainty so far and the expected time left (``qualify.soak`` reports it
after every boundary to ``SOAK_LISTENERS``)."""

from __future__ import annotations

import io

from rich.console import Console

from tokenrig.harness.cli.qualify_progress import LiveProgress
from tokenrig.harness.qualify import soak


def overall_status(live: LiveProgress) -> str:
    assert live.overall is not None
    return str(live.progress.tasks[live.overall].fields["status"])


def test_the_soak_reports_its_expected_remaining_time_in_the_progress() -> None:
    live = LiveProgress(Console(file=io.StringIO(), force_terminal=False))
    try:
        live._collected(["suite.py::test_drift[rig-1]", "suite.py::test_drift[rig-2]"])
        assert live.soak_status in soak.SOAK_LISTENERS
        for listener in list(soak.SOAK_LISTENERS):
            listener(soak.SoakStatus(elapsed=30.0, remaining=570.0, worst_ppm=None, boundaries=2))
        assert overall_status(live) == "[cyan]soak: 2 boundaries, ~9.5 min left"
        live.soak_status(
            soak.SoakStatus(elapsed=200.0, remaining=150.0, worst_ppm=1.234, boundaries=12)
        )
        assert overall_status(live) == "[cyan]soak: 12 boundaries, worst ±1.23 ppm, ~2.5 min left"
        # Next to what the tokens are doing (the procedure each is in).
        live.pytest_runtest_logstart("suite.py::test_drift[rig-2]", ("suite.py", 1, "drift"))
        assert overall_status(live) == (
            "drift ×1 · [cyan]soak: 12 boundaries, worst ±1.23 ppm, ~2.5 min left"
        )
    finally:
        live.stop()
    assert live.soak_status not in soak.SOAK_LISTENERS
