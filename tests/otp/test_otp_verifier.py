"""The verifier: windows as data, replay rejection, drift tracking, resync, drifting clocks."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tokenrig.harness.clock import VirtualClock
from tokenrig.harness.otp.generator import TotpGenerator
from tokenrig.harness.otp.verifier import Outcome, TokenState, Verifier
from tokenrig.harness.otp.window import (
    JUMPCLOUD,
    LIBOATH,
    LINOTP,
    PRESETS,
    PRIVACYIDEA,
    SearchOrder,
    WindowPolicy,
    search_offsets,
)

KEY = b"12345678901234567890"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z, a step boundary for 30 s and 60 s


def gen(period: int = 30, digits: int = 6) -> TotpGenerator:
    return TotpGenerator(KEY, period=period, digits=digits)


def test_presets_reproduce_the_servers_windows() -> None:
    assert (JUMPCLOUD.back, JUMPCLOUD.forward) == (1, 1)
    assert (PRIVACYIDEA.back, PRIVACYIDEA.forward, PRIVACYIDEA.order) == (
        6,
        5,
        SearchOrder.ASCENDING,
    )
    assert (LINOTP.back, LINOTP.forward) == (10, 9)
    assert (LIBOATH.back, LIBOATH.forward, LIBOATH.track_drift) == (5, 5, False)
    assert WindowPolicy.privacyidea(period=60, time_window=180).back == 3
    assert list(LIBOATH.offsets()) == [0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5]
    assert list(PRIVACYIDEA.offsets()) == list(range(-6, 6))
    assert set(PRESETS) == {"jumpcloud", "privacyidea", "liboath", "linotp"}


@given(st.integers(0, 50), st.integers(0, 50), st.sampled_from(list(SearchOrder)))
def test_search_offsets_cover_the_window_once(back: int, forward: int, order: SearchOrder) -> None:
    offsets = list(search_offsets(back, forward, order))
    assert sorted(offsets) == list(range(-back, forward + 1))
    if order is SearchOrder.OUTWARD:
        assert [abs(o) for o in offsets] == sorted(abs(o) for o in offsets)


def test_negative_window_is_refused() -> None:
    with pytest.raises(ValueError, match=r"WindowPolicy.back must be >= 0"):
        WindowPolicy("bad", back=-1, forward=1)


@pytest.mark.parametrize("policy", list(PRESETS.values()), ids=list(PRESETS))
def test_each_preset_accepts_exactly_its_range(policy: WindowPolicy) -> None:
    g = gen(digits=8)
    for steps in range(-policy.back - 3, policy.forward + 4):
        verdict = Verifier(g, policy).verify(g.at(NOW + 30 * steps), at=NOW + 15)
        assert verdict.accepted == policy.accepts_offset(steps), steps
        if verdict.accepted:
            assert verdict.offset_steps == steps


def test_a_step_once_accepted_is_never_accepted_again() -> None:
    g = gen()
    verifier = Verifier(g, JUMPCLOUD)
    code = g.at(NOW)
    assert verifier.verify(code, at=NOW + 1).outcome is Outcome.ACCEPTED
    assert verifier.verify(code, at=NOW + 2).outcome is Outcome.REPLAYED
    assert verifier.verify(code, at=NOW + 31).outcome is Outcome.REPLAYED  # still in window
    # an older step than the last accepted one is a replay too
    verifier.verify(g.at(NOW + 60), at=NOW + 60)
    assert verifier.verify(g.at(NOW + 30), at=NOW + 60).outcome is Outcome.REPLAYED
    assert verifier.verify(g.at(NOW + 90), at=NOW + 90).outcome is Outcome.ACCEPTED


def test_malformed_codes() -> None:
    verifier = Verifier(gen(), JUMPCLOUD)
    for code in ("", "12345", "1234567", "12345a", "١٢٣٤٥٦"):
        assert verifier.verify(code, at=NOW).outcome is Outcome.MALFORMED


def test_drift_is_learnt_after_each_success_and_centres_the_next_search() -> None:
    g = gen(digits=8)
    verifier = Verifier(g, JUMPCLOUD)
    assert verifier.verify(g.at(NOW + 30), at=NOW).offset_steps == 1  # token a step ahead
    assert verifier.state.drift_steps == 1
    # it then drifts to two steps ahead: outside ±1 of the host, inside ±1 of the drift
    assert verifier.verify(g.at(NOW + 600 + 60), at=NOW + 600).accepted
    assert verifier.state.drift_steps == 2
    fresh = Verifier(g, JUMPCLOUD)
    assert fresh.verify(g.at(NOW + 600 + 60), at=NOW + 600).outcome is Outcome.OUT_OF_WINDOW


def test_liboath_keeps_no_drift() -> None:
    g = gen(digits=8)
    verifier = Verifier(g, WindowPolicy.liboath(1))
    assert verifier.verify(g.at(NOW + 30), at=NOW).accepted
    assert verifier.state.drift_steps == 0
    assert not verifier.verify(g.at(NOW + 600 + 60), at=NOW + 600).accepted


def test_resync_from_two_consecutive_codes_far_away() -> None:
    g = gen(digits=8)
    verifier = Verifier(g, JUMPCLOUD)
    far = NOW + 30 * 700  # token 700 steps (5.8 h) ahead
    assert verifier.verify(g.at(far), at=NOW).outcome is Outcome.OUT_OF_WINDOW
    verdict = verifier.resync(g.at(far), g.at(far + 30), at=NOW + 20)
    assert verdict.outcome is Outcome.RESYNCED
    assert verdict.offset_steps == 701
    assert verifier.state.drift_steps == 701
    assert verifier.verify(g.at(far + 60), at=NOW + 40).accepted
    # the resync codes themselves cannot be used again
    assert not verifier.verify(g.at(far + 30), at=NOW + 40).accepted


def test_resync_refuses_non_consecutive_codes_replays_and_too_far() -> None:
    g = gen(digits=8)
    verifier = Verifier(g, JUMPCLOUD)
    assert verifier.resync(g.at(NOW), g.at(NOW + 60), at=NOW).outcome is Outcome.RESYNC_FAILED
    assert verifier.resync(g.at(NOW + 30), g.at(NOW), at=NOW).outcome is Outcome.RESYNC_FAILED
    too_far = NOW + 30 * 1100
    assert not verifier.resync(g.at(too_far), g.at(too_far + 30), at=NOW).accepted
    assert verifier.resync(g.at(NOW), g.at(NOW + 30), at=NOW).accepted
    assert verifier.resync(g.at(NOW), g.at(NOW + 30), at=NOW).outcome is Outcome.RESYNC_FAILED
    assert verifier.resync("1", "2", at=NOW).outcome is Outcome.MALFORMED


def test_time_from_a_clock_or_explicit() -> None:
    g = gen()
    clock = VirtualClock(NOW)
    verifier = Verifier(g, JUMPCLOUD, clock=clock)
    assert verifier.verify(g.at(NOW)).accepted
    clock.advance(30)
    assert verifier.verify(g.at(NOW + 30)).accepted
    with pytest.raises(ValueError, match="pass at="):
        Verifier(g).verify("123456")


def test_state_is_plain_data_the_caller_can_keep() -> None:
    g = gen()
    state = TokenState()
    Verifier(g, JUMPCLOUD, state=state).verify(g.at(NOW), at=NOW)
    assert state.last_counter == NOW // 30
    assert state.successes == 1
    assert not Verifier(g, JUMPCLOUD, state=state).verify(g.at(NOW), at=NOW).accepted


def _token_time(host: float, offset: float, ppm: float, start: float) -> float:
    """A modelled token clock: an initial offset plus a constant rate error."""
    return host + offset + ppm * 1e-6 * (host - start)


@given(
    start=st.integers(1_000_000_000, 2**34),  # up to year 2514, well past 2^32 s
    offset=st.floats(-400, 400),
    ppm=st.floats(-200, 200),
    period=st.sampled_from([30, 60]),
    window=st.integers(0, 3),
    elapsed=st.lists(st.floats(0, 86_400 * 365), min_size=1, max_size=8),
)
def test_a_drifting_token_is_accepted_exactly_while_within_the_window(
    start: int,
    offset: float,
    ppm: float,
    period: int,
    window: int,
    elapsed: list[float],
) -> None:
    g = gen(period=period)
    policy = WindowPolicy("fixed", back=window, forward=window, track_drift=False)
    for dt in elapsed:
        host = start + dt
        token = _token_time(host, offset, ppm, start)
        assume(token >= 0)
        steps = g.counter_at(token) - g.counter_at(host)
        code = g.at(token)
        verdict = Verifier(g, policy).verify(code, at=host)
        in_window = -window <= steps <= window
        collides = any(g.hotp(g.counter_at(host) + k) == code for k in range(-window, window + 1))
        assert verdict.accepted == (in_window or collides)
        if in_window:
            assert verdict.offset_steps == steps
        # the phase-independent limits: always accepted inside ±N·X, never beyond ±(N+1)·X
        token_offset = token - host
        if abs(token_offset) <= window * period:
            assert verdict.accepted
        if abs(token_offset) >= (window + 1) * period and not collides:
            assert not verdict.accepted


@given(ppm=st.floats(-200, 200), period=st.sampled_from([30, 60]), start=st.integers(0, 2**33))
def test_drift_tracking_follows_a_token_used_daily_for_a_year(
    ppm: float, period: int, start: int
) -> None:
    g = gen(period=period, digits=8)
    verifier = Verifier(g, JUMPCLOUD)
    for day in range(365):  # 200 ppm is at most 17.3 s a day: under one step between uses
        host = start + day * 86_400 + 17.0
        assert verifier.verify(g.at(_token_time(host, 0.0, ppm, start)), at=host).accepted, day
    expected = round(ppm * 1e-6 * 364 * 86_400 / period)
    assert abs(verifier.state.drift_steps - expected) <= 1


@given(
    back=st.integers(0, 40),
    forward=st.integers(0, 40),
    centre=st.integers(0, 60) | st.integers(2**64 - 60, 2**64 - 1),
    shift=st.integers(-45, 45),
)
def test_unrolled_outward_search_equals_the_plain_one(
    back: int, forward: int, centre: int, shift: int
) -> None:
    g = gen(digits=6)
    target = min(max(centre + shift, 0), 2**64 - 1)
    code = g.hotp(target)
    plain = g.first_match(code, (centre + o for o in search_offsets(back, forward)))
    assert g.find_outward(code, centre, back, forward) == plain
    if -back <= target - centre <= forward:
        assert plain is not None


def test_an_asymmetric_outward_policy() -> None:
    g = gen(digits=8)
    policy = WindowPolicy("ahead-only", back=0, forward=3)
    for steps in range(-2, 6):
        verdict = Verifier(g, policy).verify(g.at(NOW + 30 * steps), at=NOW)
        assert verdict.accepted == (0 <= steps <= 3)
