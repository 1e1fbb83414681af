"""The real-time drift soak: every step boundary of every token of a rig, timed on the rig.

A token's drift is the slope of its clock offset over the soak; its error falls as
sigma_t * sqrt(12 / n) / T with n boundaries over T seconds, so every boundary counts. The
rig link carries one request at a time, so one scheduler serves all tokens of a rig: it
predicts each token's next boundary from what it has seen, watches it with a short
``WATCH?`` (the rig stamps the change on its own clock), and keeps the rig's time map fed
with ``DISP?`` reads in between. Boundaries of two tokens too close to watch both are taken
in turn (one of them waits a step). At the end every stamp is mapped to host time with the
map fitted over the whole run, and the drift is fitted with each boundary's own sigma
(:func:`~tokenrig.harness.otp.drift.fit_drift_weighted`); the map's rate error, common to all
points of a rig, is added in quadrature.

The soak ends when every token's drift is known to ``until_uncertainty`` ppm (1 sigma), or at
the profile's maximum soak. Progress listeners hear the worst uncertainty and the expected
remaining time (the error falls as T^-1.5).
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from tokenrig.harness.otp.drift import DriftEstimate, fit_drift_weighted
from tokenrig.harness.otp.offset import MeasurementError
from tokenrig.harness.qualify import observe
from tokenrig.harness.qualify.context import ProcedureContext, SoakStart
from tokenrig.harness.tokens.base import DisplayReading
from tokenrig.harness.tokens.time_fit import TICK_SIGMA

GUARD_S = 0.02  # watch this much either side of the predicted window (request latency)
PRIOR_PPM = 250.0  # drift assumed possible before a token's own fit (out-of-spec is 200)
IDLE_READ_S = 0.25  # a DISP? this often while waiting: feeds the time map, checks the display
MAX_MISSES = 4  # boundaries in a row not seen: the display does not update
POLL_S = 0.001  # a token the rig cannot watch for (in-process) is polled back to back


@dataclass(frozen=True)
class SoakStatus:
    """What a progress display shows during a soak."""

    elapsed: float
    remaining: float  # expected seconds until every token reaches the target (or the max)
    worst_ppm: float | None  # the largest drift uncertainty so far (None: too few points)
    boundaries: int


SOAK_LISTENERS: list[Callable[[SoakStatus], None]] = []
"""Called after each boundary; the live progress of ``tokenrig qualify`` registers here."""


@dataclass(frozen=True)
class SoakResult:
    """One token's soak: the boundary offsets, the drift fit, or why there is none."""

    points: tuple[tuple[float, float, float], ...]  # (host time, offset, 1 sigma)
    fit: DriftEstimate | None
    error: str | None
    missed: int
    temperature: str  # "23.5 °C" or why it was not read


class _Track:
    """One token during the soak: its sync, what it has shown, and its next boundary."""

    def __init__(self, ctx: ProcedureContext, start: SoakStart) -> None:
        self.ctx = ctx
        self.sync = start.sync
        self.first = start.offset
        self.stamps: list[tuple[int | None, float, float, float]] = []  # rig ms, host, B, σ
        self.missed = 0
        self.in_a_row = 0
        self.error: str | None = None
        self.last_press = -math.inf
        self.timeout = float(max(ctx.token.spec.display_timeouts))
        self.fit: DriftEstimate | None = None

    @property
    def period(self) -> int:
        return self.sync.burned.period

    def points(self) -> list[tuple[float, float, float]]:
        return [(h, b - self.sync.token_time(h), s) for _, h, b, s in self.stamps]

    def predict(self, host: float) -> tuple[float, float]:
        """(offset, half-width of where it may be) at ``host``."""
        if self.fit is not None:
            spread = 3 * self.fit.uncertainty_ppm * 1e-6 * abs(host - self.fit.reference_time)
            return self.fit.offset_at(host), spread + 5 * TICK_SIGMA + 0.002
        last_host, last_offset = self.first.host_time, self.first.offset
        last_unc = self.first.uncertainty
        if self.stamps:
            last_host, last_offset, last_unc = self.points()[-1]
        return last_offset, last_unc + PRIOR_PPM * 1e-6 * abs(host - last_host)

    def next_boundary(self, not_before: float) -> tuple[float, float, float]:
        """(host time, half-width, apparent token time) of the first boundary whose window
        opens after ``not_before``."""
        offset, width = self.predict(not_before)
        host, boundary = observe.next_boundary(self.sync, offset, width + GUARD_S, not_before)
        return host, width + GUARD_S, float(boundary)

    def refit(self) -> None:
        if len(self.stamps) >= 3:
            try:
                self.fit = fit_drift_weighted(self.points())
            except MeasurementError:
                self.fit = None


_ENLISTED: weakref.WeakKeyDictionary[ProcedureContext, object] = weakref.WeakKeyDictionary()
_RESULTS: weakref.WeakKeyDictionary[ProcedureContext, SoakResult] = weakref.WeakKeyDictionary()


def group_key(ctx: ProcedureContext) -> object:
    """Tokens behind one rig link soak together (the link carries one request at a time)."""
    return getattr(ctx.token, "link", None) or ctx.clock


def enlist(ctx: ProcedureContext) -> None:
    """Put a token in its rig's soak (``clock_offset`` does, before it syncs)."""
    _ENLISTED[ctx] = group_key(ctx)


def result_for(ctx: ProcedureContext) -> SoakResult:
    """This token's soak result, soaking its whole group now if it has not soaked yet."""
    if ctx not in _RESULTS:
        enlist(ctx)
        key = group_key(ctx)
        group = [c for c, k in list(_ENLISTED.items()) if k is key and c not in _RESULTS]
        for member, outcome in run_soak(group).items():
            _RESULTS[member] = outcome
            _ENLISTED.pop(member, None)
    return _RESULTS.pop(ctx)


def run_soak(contexts: list[ProcedureContext]) -> dict[ProcedureContext, SoakResult]:
    """Soak ``contexts`` (one rig's tokens) together; each gets a result or an error."""
    if not contexts:
        return {}
    clock = contexts[0].clock
    soak = contexts[0].profile.soak
    tracks: list[_Track] = []
    failed: dict[ProcedureContext, str] = {}
    for ctx in contexts:
        try:
            tracks.append(_Track(ctx, _start_of(ctx)))
        except observe.ObservationError as exc:
            failed[ctx] = str(exc)
    begun = min((t.first.host_time for t in tracks), default=clock.now())
    end = begun + soak.real
    target = soak.until_uncertainty
    while tracks and clock.now() < end:
        live = [t for t in tracks if t.error is None]
        if not live:
            break
        host, width, boundary, track = min(
            (*t.next_boundary(clock.now() + GUARD_S), t) for t in live
        )
        if host + width > end:
            break
        _idle_until(live, host - width - GUARD_S)
        _watch_boundary(track, host, width, boundary)
        track.refit()
        status = _status(tracks, begun, end, clock.now(), target)
        for listener in list(SOAK_LISTENERS):
            listener(status)
        if target is not None and status.worst_ppm is not None and status.worst_ppm <= target:
            break
    results = {
        ctx: SoakResult((), None, reason, 0, _temperature(ctx)) for ctx, reason in failed.items()
    }
    for track in tracks:
        results[track.ctx] = _finish(track)
    return results


def _start_of(ctx: ProcedureContext) -> SoakStart:
    """Where ``clock_offset`` left the token, or a fresh sync and first timing."""
    if ctx.soak_start is not None:
        return ctx.soak_start
    sync = observe.burn_slot_seed(ctx, before_boundary=True)
    obs = observe.observe_offset(ctx, sync, prior=0.0, prior_unc=ctx.timing.lead / 2)
    return observe.soak_start(sync, obs)


def _idle_until(tracks: list[_Track], until: float) -> None:
    """Wait for ``until``, reading displays now and then: each read feeds the rig's time map
    and wakes a display that went dark."""
    clock = tracks[0].ctx.clock
    turn = 0
    while (left := until - clock.now()) > 0:
        if left > IDLE_READ_S * 1.5:
            track = tracks[turn % len(tracks)]
            turn += 1
            reading = track.ctx.token.read_display()
            if reading.code is None:
                _press(track)
            clock.sleep(min(IDLE_READ_S, until - clock.now()))
        else:
            clock.sleep(left)


def _press(track: _Track) -> None:
    track.ctx.token.press()
    track.last_press = track.ctx.clock.now()


def _watch_boundary(track: _Track, host: float, width: float, boundary: float) -> None:
    ctx = track.ctx
    if host + width + 1.0 - track.last_press > 0.8 * track.timeout:
        _press(track)  # the display must stay lit through the watch
    timeout = max(host + width - ctx.clock.now(), 0.0) + GUARD_S
    reading = _watch(ctx, timeout)
    expected = track.sync.burned.generator().at(int(boundary))
    if reading is not None and reading.code is not None and _same(reading.code, expected):
        stamp = reading.extra.get("rig_ms")
        sigma = TICK_SIGMA if stamp is not None else reading.uncertainty / math.sqrt(3)
        track.stamps.append((int(stamp) if stamp else None, reading.host_time, boundary, sigma))
        track.in_a_row = 0
        return
    track.missed += 1
    track.in_a_row += 1
    if reading is not None and reading.code is None:
        _press(track)
    if track.in_a_row >= MAX_MISSES:
        track.error = (
            f"the display did not change to the next step's code at {MAX_MISSES} predicted "
            "boundaries in a row"
        )


def _same(shown: str, expected: str) -> bool:
    return shown.zfill(len(expected)) == expected


def _watch(ctx: ProcedureContext, timeout: float) -> DisplayReading | None:
    """The display's next change within ``timeout``: timed by the rig where it can watch
    (``WATCH?``), else by polling back to back (an in-process token: exact host times)."""
    watch = getattr(ctx.token, "watch_display", None)
    if watch is not None:
        reading: DisplayReading = watch(timeout)
        return reading if reading.extra.get("watch") == "changed" else None
    try:
        change = observe.watch_for_change(ctx, until=ctx.clock.now() + timeout, poll=POLL_S)
    except observe.DisplayBlank:  # a miss like any other: MAX_MISSES of them end the track
        return None
    if change is None:
        return None
    return dataclasses.replace(
        change.after, host_time=change.host_time, uncertainty=change.resolution
    )


def _finish(track: _Track) -> SoakResult:
    """Map every stamp with the run's final time map, then fit the drift."""
    temperature = _temperature(track.ctx)
    time_map = getattr(track.ctx.token, "time_map", None)
    rate_sigma_ppm = 0.0
    if time_map is not None and track.stamps:
        final = time_map.final_fit()
        rate_sigma_ppm = final.rate_sigma * 1e6
        track.stamps = [
            (ms, final.to_host(ms / 1000) if ms is not None else h, b, s)
            for ms, h, b, s in track.stamps
        ]
    points = tuple(track.points())
    if track.error is not None or len(points) < 3:
        reason = track.error or f"only {len(points)} step boundaries seen during the soak"
        return SoakResult(points, None, reason, track.missed, temperature)
    fit = fit_drift_weighted(points)
    total = math.hypot(fit.uncertainty_ppm, rate_sigma_ppm)
    fit = dataclasses.replace(fit, uncertainty_ppm=total)
    return SoakResult(points, fit, None, track.missed, temperature)


def _status(
    tracks: list[_Track], begun: float, end: float, now: float, target: float | None
) -> SoakStatus:
    elapsed = now - begun
    fits = [t.fit for t in tracks if t.error is None]
    boundaries = sum(len(t.stamps) for t in tracks)
    if not fits or any(f is None for f in fits):
        return SoakStatus(elapsed, end - now, None, boundaries)
    worst = max(f.uncertainty_ppm for f in fits if f is not None)
    remaining = end - now
    if target is not None and elapsed > 0:
        # The error falls as T^-1.5: T_needed = T * (sigma / target)^(2/3).
        needed = elapsed * (worst / target) ** (2 / 3)
        remaining = min(max(needed - elapsed, 0.0), remaining)
    return SoakStatus(elapsed, remaining, worst, boundaries)


def _temperature(ctx: ProcedureContext) -> str:
    """The token's temperature where the rig reads one; else why it cannot be given."""
    read = getattr(ctx.token, "read_temperature", None)
    if read is None:
        return "not read: this rig reports no temperature (rig protocol 1.0 has no command)"
    value = read()
    return f"{value:.1f} °C" if value is not None else "not read: no sensor at this slot"
