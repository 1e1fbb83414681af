"""``tokenrig camera read/snapshot`` on rendered frames written as real files (mp4, MJPG avi,
PNG folders), the errors a user sees for a missing or unreadable file, and the calibration
procedure against a simulated camera whose latency and LCD delay are known."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tokenrig.harness.camera.calibration import calibrate
from tokenrig.harness.camera.reading import read_frame
from tokenrig.harness.camera.segments import code_segments
from tokenrig.harness.cli.main import main
from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.sim.lcd_render import SEVERITIES, render_frame
from tokenrig.harness.sim.live_camera import LED_BOX, LiveSimCamera

CODES = ["042137", "042137", "042137", "913370", "913370", "913370", None, None]


def _frames(count: int = 4, codes: list[str | None] = CODES) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    return [
        render_frame(
            [code_segments(codes[(i + k) % len(codes)]) for k in range(count)],
            severity=SEVERITIES["mild"],
            rng=rng,
            size=(1280, 720) if count > 1 else (640, 360),
        ).image
        for i in range(len(codes))
    ]


def _video(path: Path, fourcc: str, images: list[np.ndarray]) -> Path:
    h, w = images[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 30.0, (w, h))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc}"
    for image in images:
        writer.write(image)
    writer.release()
    return path


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.parametrize(("name", "fourcc"), [("clip.mp4", "mp4v"), ("clip.avi", "MJPG")])
def test_read_a_video_file_finds_the_one_lcd(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, fourcc: str
) -> None:
    video = _video(tmp_path / name, fourcc, _frames(1))
    assert main(["camera", "read", str(video)]) == 0
    lines = _lines(capsys)
    assert [line["frame"] for line in lines] == list(range(len(CODES)))
    assert {line["slot"] for line in lines} == {1}
    got = [line["code"] for line in lines]
    # Video compression may cost a frame its read; it must never give a wrong code.
    assert all(g is None or g == want for g, want in zip(got, CODES, strict=True) if want)
    assert sum(g is not None for g in got) >= 5
    assert got[-2:] == [None, None]  # display off reads as no code
    t = [float(str(line["t_ms"])) for line in lines]
    assert t == sorted(t)
    assert t[-1] - t[0] == pytest.approx(7 * 1000 / 30, abs=2)


def test_read_a_folder_of_pngs_sorted_by_name_with_a_rig_of_four(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    for i, image in reversed(list(enumerate(_frames(4)))):  # written out of order
        cv2.imwrite(str(folder / f"f{i:03d}.png"), image)
    rig = tmp_path / "cam.toml"
    rig.write_text(
        'name = "cam"\nkind = "camera"\n[camera]\nsource = "sim"\n'
        + "".join(f'[[slots]]\nslot = {n}\nmodel = "C301"\n' for n in range(1, 5))
    )
    assert main(["camera", "read", str(folder), "--rig", str(rig)]) == 0
    lines = _lines(capsys)
    assert len(lines) == 4 * len(CODES)
    assert [line["file"] for line in lines[::4]] == [f"f{i:03d}.png" for i in range(len(CODES))]
    wrong = 0
    right = 0
    for line in lines:
        i = int(str(line["file"])[1:4])
        want = CODES[(i + int(str(line["slot"])) - 1) % len(CODES)]
        if line["code"] is not None:
            right += line["code"] == want
            wrong += line["code"] != want
    assert wrong == 0
    assert right >= 16


def test_snapshot_draws_the_regions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    original = _frames(4)[0]
    cv2.imwrite(str(folder / "a.png"), original)
    out = tmp_path / "snap.png"
    rig = tmp_path / "cam.toml"
    rig.write_text(
        'name = "cam"\nkind = "camera"\n[camera]\nsource = "sim"\n'
        + "".join(f'[[slots]]\nslot = {n}\nmodel = "C301"\n' for n in range(1, 5))
    )
    assert main(["camera", "snapshot", str(folder), "--out", str(out), "--rig", str(rig)]) == 0
    assert "4 region(s) drawn" in capsys.readouterr().err
    drawn = cv2.imread(str(out))
    assert drawn is not None
    assert drawn.shape == original.shape
    green = (drawn[..., 1] > 180) & (drawn[..., 0] < 40) & (drawn[..., 2] < 40)
    assert green.sum() > 200  # the region outline of a read display


def test_missing_path_and_unreadable_video_exit_2_naming_the_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.mp4"
    assert main(["camera", "read", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err
    assert "no such file" in err
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"this is no video" * 100)
    assert main(["camera", "read", str(junk)]) == 2
    err = capsys.readouterr().err
    assert str(junk) in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["camera", "read", str(empty)]) == 2
    assert "no images" in capsys.readouterr().err


def test_calibration_recovers_a_known_latency_and_lcd_delay() -> None:
    """A relay LED and a display that lights ``wake`` after the contact closes, filmed at
    30 fps with 85 ms latency: the procedure must find both within a few ms."""
    clock = VirtualClock()
    latency, wake = 0.085, 0.120
    led_on: list[tuple[float, bool]] = [(0.0, False)]
    shown_from: list[float] = []

    def led(t: float) -> bool:
        return [on for when, on in led_on if when <= t][-1]

    def scene(t: float) -> list[np.ndarray]:
        lit = bool(shown_from) and shown_from[-1] <= t < shown_from[-1] + 1.0
        return [code_segments("123456" if lit else None)]

    def switch(closed: bool) -> None:
        led_on.append((clock.now(), closed))
        if closed:
            shown_from.append(clock.now() + wake)

    camera = LiveSimCamera(clock, scene, latency=latency, led=led, seed=3)
    result = calibrate(
        camera,
        clock,
        led=LED_BOX,
        switch=switch,
        reads_code=lambda f: read_frame(f, None).status == "code",
        wait_off=lambda: clock.sleep(1.2),
        toggles=30,
        presses=12,
        rng=np.random.default_rng(1),
    )
    assert result.camera_latency == pytest.approx(latency, abs=0.008)
    assert result.lcd_delay == pytest.approx(wake, abs=0.012)
    assert 0 < result.uncertainty < 0.01
    assert result.samples == 30


class _QueuedCamera:
    """A V4L2-like capture on a virtual clock: ``queued`` frames come back at once, after
    that each grab waits a frame period for the camera."""

    def __init__(self, clock: VirtualClock, queued: int) -> None:
        self.clock, self.queued, self.grabs = clock, queued, 0

    def isOpened(self) -> bool:  # OpenCV's name
        return True

    def get(self, prop: int) -> float:
        return 30.0

    def set(self, prop: int, value: float) -> bool:
        return True

    def grab(self) -> bool:
        self.grabs += 1
        if self.queued:
            self.queued -= 1
        else:
            self.clock.sleep(1 / 30)
        return True

    def retrieve(self) -> tuple[bool, np.ndarray]:
        return True, np.full((4, 4, 3), self.grabs, dtype=np.uint8)

    def release(self) -> None:
        return None


def test_a_live_camera_drops_queued_frames_and_stamps_a_fresh_one() -> None:
    from tokenrig.harness.camera.frames import OpenCvSource

    clock = VirtualClock()
    capture = _QueuedCamera(clock, queued=4)
    source = OpenCvSource("7", clock=clock, capture=capture)
    start = clock.now()
    frame = source.grab()
    assert frame is not None
    assert source.dropped == 4  # the four old frames were skipped...
    assert int(frame.image[0, 0, 0]) == 5  # ...and the fifth, waited for, is the one decoded
    assert frame.t == pytest.approx(start + 1 / 30)
    second = source.grab()
    assert second is not None
    assert source.dropped == 4  # nothing queued any more: the next grab waits, drops none
    assert second.t == pytest.approx(start + 2 / 30)
