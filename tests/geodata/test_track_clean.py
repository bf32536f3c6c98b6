"""Track cleaning rules fix by fix, and the vectorised cleaner against a plain sequential loop."""

from datetime import UTC, datetime

import numpy as np
import pytest

from geodata.track_clean import (
    ACCURACY,
    DUPLICATE_TIME,
    KEPT,
    REASONS,
    SPEED,
    clean_fixes,
    hop_lengths_m,
)

T0 = np.datetime64("2024-05-01T08:00:00", "ns")
LAT_M = 1 / 110_850  # about one metre of latitude at 30° N, in degrees


def fixes(rows):
    """Arrays from rows of (seconds after T0, metres north of 30° N, accuracy_m or None)."""
    seconds, north_m, accuracy = zip(*rows, strict=True)
    time = T0 + (np.array(seconds, float) * 1e9).astype("timedelta64[ns]")
    accuracy = np.array([np.nan if a is None else a for a in accuracy])
    return np.full(len(rows), 113.0), 30.0 + np.array(north_m) * LAT_M, time, accuracy


def reasons(result):
    """The drop reason of every input fix, as names ("" kept)."""
    return [REASONS[code] for code in result.drop_reason]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # accuracy: known and worse than 50 m drops; unknown (None) and exactly 50 m keep.
        ([(0, 0, 10), (5, 5, 51), (10, 10, 50), (15, 15, None)], ["", "accuracy", "", ""]),
        # duplicate time: the same time as the last kept fix, even at another place.
        ([(0, 0, None), (0, 3, None), (5, 6, None)], ["", "duplicate_time", ""]),
        # speed: 200 m in 5 s is 144 km/h; the next fix is judged from the last KEPT one.
        ([(0, 0, None), (5, 200, None), (10, 10, None)], ["", "speed", ""]),
        # 160 m in 5 s from the first, 170 m in 10 s (61 km/h) from the first: kept.
        ([(0, 0, None), (5, 200, None), (10, 170, None)], ["", "speed", ""]),
        # A run of jumps: each judged from the same last kept fix until one is plausible.
        (
            [(0, 0, None), (1, 100, None), (2, 100, None), (3, 101, None), (60, 120, None)],
            ["", "speed", "speed", "speed", ""],
        ),
        # A fix with the same time as a DROPPED fix is judged on speed from the kept one.
        ([(0, 0, None), (5, 500, None), (5, 5, None)], ["", "speed", ""]),
        # Exactly 120 km/h (33.33 m/s) is not more than 120 km/h.
        ([(0, 0, None), (3, 99.9, None)], ["", ""]),
        # A bad-accuracy fix is no "last kept" fix: a fix at its time is no duplicate.
        ([(0, 0, None), (5, 5, 80), (5, 6, None)], ["", "accuracy", ""]),
    ],
)
def test_rules_fix_by_fix(rows, expected):
    result = clean_fixes(*fixes(rows))

    assert reasons(result) == expected
    assert result.kept == expected.count("")
    assert result.dropped == {
        name: expected.count(name) for name in ("accuracy", "duplicate_time", "speed")
    }


def test_fixes_are_taken_in_time_order_and_reasons_come_back_in_file_order():
    lon, lat, time, accuracy = fixes([(10, 10, None), (0, 0, None), (5, 300, None)])

    result = clean_fixes(lon, lat, time, accuracy)

    assert reasons(result) == ["", "", "speed"]
    assert result.lat_deg.tolist() == [lat[1], lat[0]]
    assert result.started_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert result.ended_at == datetime(2024, 5, 1, 8, 0, 10, tzinfo=UTC)


def test_a_gap_over_ten_minutes_starts_a_segment_and_length_stays_within_segments():
    # 100 m walked, 11 minutes' gap (11 m away: 0.06 km/h), 100 m walked; a 10-minute gap joins.
    rows = [(0, 0, None), (60, 100, None), (720, 111, None), (780, 211, None), (1380, 300, None)]

    result = clean_fixes(*fixes(rows))

    assert result.segments == 2
    assert result.segment.tolist() == [0, 0, 1, 1, 1]
    lat = result.lat_deg
    expected_m = hop_lengths_m(113, lat[0], 113, lat[1]) + hop_lengths_m(113, lat[2], 113, lat[3])
    expected_m += hop_lengths_m(113, lat[3], 113, lat[4])
    assert result.length_m == pytest.approx(float(expected_m))
    assert result.length_m == pytest.approx(100 + 100 + 89, abs=0.5)
    assert result.duration_s == 60 + 660  # the spans of the two segments


def test_a_source_segment_break_starts_a_segment_even_on_a_dropped_fix():
    lon, lat, time, accuracy = fixes([(0, 0, None), (5, 5, None), (10, 10, 99), (15, 15, None)])

    result = clean_fixes(lon, lat, time, accuracy, [True, False, True, False])

    assert result.segment.tolist() == [0, 0, 1]
    assert result.length_m == pytest.approx(5, abs=0.01)
    assert result.duration_s == 5


def test_without_times_only_accuracy_applies_and_duration_is_unknown():
    lon, lat, _, accuracy = fixes([(0, 0, None), (0, 100, 80), (0, 100, None), (0, 100, None)])

    result = clean_fixes(lon, lat, None, accuracy)

    assert reasons(result) == ["", "accuracy", "", ""]
    assert result.duration_s is None and result.started_at is None
    assert result.length_m == pytest.approx(100, abs=0.05)


def test_thresholds_are_parameters():
    rows = [(0, 0, 30), (5, 100, None), (1000, 110, None)]

    result = clean_fixes(*fixes(rows), max_accuracy_m=20, max_speed_kmh=200, max_gap_s=3600)

    assert reasons(result) == ["accuracy", "", ""]
    assert result.segments == 1


def test_empty_and_single_fix_tracks():
    empty = clean_fixes([], [], np.array([], "datetime64[ns]"))
    single = clean_fixes(*fixes([(0, 0, None)]))

    assert (empty.points, empty.kept, empty.segments, empty.length_m) == (0, 0, 0, 0.0)
    assert (single.kept, single.segments, single.length_m, single.duration_s) == (1, 1, 0.0, 0.0)


def test_some_fixes_without_times_are_refused():
    lon, lat, time, _ = fixes([(0, 0, None), (5, 5, None)])
    time[1] = np.datetime64("NaT")

    with pytest.raises(ValueError, match="1 of 2 fixes have no time"):
        clean_fixes(lon, lat, time)


def sequential_reference(lon, lat, time, accuracy, max_accuracy_m=50, max_speed_kmh=120):
    """The rules as written: one fix at a time in stable time order, judged from the last kept."""
    t = time.astype(np.int64)
    code = np.zeros(len(lon), np.int8)
    last = None
    for i in np.argsort(t, kind="stable"):
        if accuracy[i] > max_accuracy_m:
            code[i] = ACCURACY
        elif last is None:
            last = i
        elif t[i] == t[last]:
            code[i] = DUPLICATE_TIME
        elif (
            hop_lengths_m(lon[last], lat[last], lon[i], lat[i])
            > max_speed_kmh / 3.6 * (t[i] - t[last]) / 1e9
        ):
            code[i] = SPEED
        else:
            last = i
    return code


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_cleaning_equals_the_sequential_rules_on_random_tracks(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3000))
    # A walk with noise, jumps of every size, bursts of jumps, repeated and shuffled times.
    steps_m = rng.normal(0, 4, (n, 2))
    jumps = rng.random(n) < rng.uniform(0, 0.3)
    steps_m[jumps] *= rng.choice([10, 50, 500], jumps.sum())[:, None]
    east_m, north_m = np.cumsum(steps_m, axis=0).T
    lon, lat = 113 + east_m / 96_000, 30 + north_m * LAT_M
    seconds = np.cumsum(
        rng.choice([0, 1, 5, 5, 5, 30, 900], n, p=[0.1, 0.1, 0.3, 0.2, 0.2, 0.05, 0.05])
    )
    if seed % 3 == 0:
        seconds = rng.permutation(seconds)
    time = T0 + (seconds * 1e9).astype("timedelta64[ns]")
    accuracy = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(1, 80, n))

    result = clean_fixes(lon, lat, time, accuracy)

    reference = sequential_reference(lon, lat, time, accuracy)
    assert result.drop_reason.tolist() == reference.tolist()
    assert result.kept == int((reference == KEPT).sum())
    assert result.dropped["speed"] == int((reference == SPEED).sum())


def test_a_long_burst_of_jumps_is_judged_past_the_lookahead():
    rows = [(0, 0, None)] + [(k, 1000 + k, None) for k in range(1, 21)] + [(21, 5, None)]

    result = clean_fixes(*fixes(rows))

    assert reasons(result) == [""] + ["speed"] * 20 + [""]
