"""The traffic meter behind the inbox's traffic view: per-second counters per VASID in a bounded
ring, and the 4030 windows, read under a fake clock (plain numbers and the mock's FakeClock)."""

from __future__ import annotations

import random
import sys

import pytest

from mm7client.throttle.clock import FakeClock
from mockmmsc.state import MockState
from mockmmsc.traffic import SERIES, TrafficMeter, series_of


def test_status_codes_fall_in_four_series() -> None:
    assert [SERIES[series_of(c)] for c in (1000, 1100, 7103, 4030, 4006, 3000, None)] == [
        "accepted",
        "accepted",
        "7103",
        "4030",
        "other",
        "other",
        "other",
    ]


def test_counts_land_in_their_second_and_series() -> None:
    meter = TrafficMeter(10)
    for code, at in [(1000, 100.1), (1000, 100.9), (7103, 100.5), (4030, 102.0), (2007, 109.99)]:
        meter.count("VAS01", code, at)
    snap = meter.snapshot(109.5, 10)
    assert snap.seconds == 10 and snap.elapsed == pytest.approx(0.5)
    accepted, tps, overload, other = snap.vas_ids["VAS01"]
    # bucket i covers second 100 + i
    assert accepted == [2, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert tps == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert overload == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert other[-1] == 1
    data = snap.to_dict(lambda vas_id: 5.0)
    (entry,) = data["traffic"]
    assert entry["vas_id"] == "VAS01" and entry["tps"] == 5.0 and entry["peak"] == 3
    assert entry["totals"] == {"accepted": 2, "7103": 1, "4030": 1, "other": 1}
    assert data["series"] == list(SERIES) and data["seconds"] == 10


def test_a_shorter_span_shows_the_newest_seconds() -> None:
    meter = TrafficMeter(60)
    for second in range(60):
        meter.count("V", 1000, second + 0.5)
    (accepted, *_) = meter.snapshot(59.5, 5).vas_ids["V"]
    assert accepted == [1] * 5
    assert len(meter.snapshot(59.5, 1000).vas_ids["V"][0]) == 60  # at most the ring
    assert len(meter.snapshot(59.5, 0).vas_ids["V"][0]) == 1


def test_the_ring_forgets_what_is_older_than_its_span() -> None:
    meter = TrafficMeter(10)
    meter.count("V", 1000, 5.0)
    meter.count("V", 7103, 14.2)  # slot 4; slot 5 still holds second 5
    (accepted, tps, *_) = meter.snapshot(14.5, 10).vas_ids["V"]
    assert accepted == [1] + [0] * 9 and tps[-1] == 1
    meter.count("V", 1000, 15.0)  # reuses second 5's slot: its old count is gone
    (accepted, tps, *_) = meter.snapshot(15.0, 10).vas_ids["V"]
    assert accepted == [0] * 9 + [1] and tps == [0] * 8 + [1, 0]
    # a VASID idle for longer than the span is not shown at all
    assert "V" not in meter.snapshot(26.0, 10).vas_ids


def test_memory_is_bounded_whatever_the_run_length() -> None:
    meter = TrafficMeter(30, max_vas_ids=4)
    ring = None
    for second in range(20_000):
        vas_id = f"VAS{second % 7}"
        meter.count(vas_id, 1000, second + 0.25)
        if ring is None:
            ring = meter._rings[vas_id]
            size = _bytes(ring)
    assert len(meter) == 4  # the VASIDs idle the longest were forgotten
    assert meter.forgotten_vas_ids == 20_000 - 4
    for kept in meter._rings.values():
        assert _bytes(kept) == size
    for at in range(0, 20_000, 7):
        meter.window_opened(None, float(at), at + 3.0)
    assert len(meter._windows) <= 30 // 7 + 2  # only those that reach into the span


def _bytes(ring: object) -> int:
    arrays = [ring.stamps, *ring.counts]  # type: ignore[attr-defined]
    return sum(sys.getsizeof(a) for a in arrays)


def test_reads_equal_a_plain_count_of_every_request_in_the_span() -> None:
    rng = random.Random(7)
    meter = TrafficMeter(50)
    seen: list[tuple[int, int]] = []  # (second, series) of every request
    now = 1000.0
    for _ in range(3000):
        now += rng.choice([0.01, 0.3, 1.0, 7.0, 49.0, 120.0])
        code = rng.choice([1000, 7103, 4030, 2007])
        meter.count("V", code, now)
        seen.append((int(now), series_of(code)))
        if rng.random() < 0.2:
            span = rng.randint(1, 60)
            at = now + rng.choice([0.0, 0.5, 3.0, 60.0])
            first = int(at) - min(span, 50) + 1
            expected = [[0] * (int(at) - first + 1) for _ in SERIES]
            for second, series in seen:
                if first <= second <= int(at):
                    expected[series][second - first] += 1
            got = meter.snapshot(at, span).vas_ids.get("V")
            assert list(got or ()) == (expected if any(map(any, expected)) else [])


def test_the_window_bound_drops_the_oldest() -> None:
    meter = TrafficMeter(600, max_windows=3)
    for i in range(5):
        meter.window_opened(f"V{i}", float(i), i + 100.0)
    assert [w[0] for w in meter.snapshot(10.0).windows] == ["V2", "V3", "V4"]


def test_windows_open_extend_close_and_show_relative_to_now() -> None:
    meter = TrafficMeter(60)
    meter.window_opened("VAS01", 100.25, 160.25)
    meter.window_opened("VAS01", 110.0, 130.0)  # already open until later: unchanged
    meter.window_opened("VAS01", 120.0, 200.0)  # extended
    meter.window_opened(None, 130.0, 131.0)  # every VASID
    meter.window_opened("VAS02", 140.0, 140.0)  # zero seconds: nothing to show
    snap = meter.snapshot(150.5)
    assert snap.windows == [("VAS01", -49.75, 50.0), (None, -20.0, -19.0)]
    # a VASID with a window of its own and no request yet is shown (with zero counts)
    assert list(snap.vas_ids) == ["VAS01"] and sum(snap.vas_ids["VAS01"][2]) == 0
    meter.window_closed("VAS01", 155.0)
    assert meter.snapshot(155.0).windows[0] == ("VAS01", -54.75, 0.0)
    meter.window_opened("VAS01", 156.0, 166.0)  # closed: a new window
    meter.window_opened(None, 157.0, 167.0)
    meter.window_closed(None, 158.0, everything=True)
    assert meter.snapshot(158.0).windows[-2:] == [("VAS01", -2.0, 0.0), (None, -1.0, 0.0)]
    # windows that ended before the span are not shown
    assert meter.snapshot(300.0).windows == []


def test_a_vas_id_filter_keeps_its_windows_and_everyones() -> None:
    meter = TrafficMeter(60)
    meter.count("A", 1000, 10.0)
    meter.count("B", 4030, 10.0)
    meter.count(None, 2007, 10.0)
    meter.window_opened("B", 9.0, 20.0)
    meter.window_opened(None, 9.5, 12.0)
    snap = meter.snapshot(11.0, 30, ["A"])
    assert list(snap.vas_ids) == ["A"] and snap.windows == [(None, -1.5, 1.0)]
    data = meter.snapshot(11.0, 30).to_dict()
    assert [t["vas_id"] for t in data["traffic"]] == [None, "A", "B"]
    assert data["traffic"][0]["tps"] is None


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="seconds=0"):
        TrafficMeter(0)
    with pytest.raises(ValueError, match="max_vas_ids=0"):
        TrafficMeter(10, max_vas_ids=0)


def test_the_state_records_its_windows_under_its_clock() -> None:
    clock = FakeClock(1000.0)
    state = MockState(clock=clock, time_scale=0.5)
    state.overload(60, "VAS01")  # scaled: 30 s
    clock.advance(10.0)
    state.traffic.count("VAS01", 4030, clock.now())
    snap = state.traffic.snapshot(clock.now(), 60)
    assert snap.windows == [("VAS01", -10.0, 20.0)]
    assert snap.vas_ids["VAS01"][2][-1] == 1
    state.end_overload("VAS01")
    assert state.traffic.snapshot(clock.now(), 60).windows == [("VAS01", -10.0, 0.0)]
    state.reset()
    assert len(state.traffic) == 0 and state.traffic.snapshot(clock.now()).windows == []
