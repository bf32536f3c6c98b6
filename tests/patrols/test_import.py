"""flask import-patrol: the JSON object, one patrol per file, the cleaning rules fix by fix, every bad input."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from pyproj import Geod
from sqlalchemy import func, select

from geodata.track_clean import clean_track
from geodata.tracks import read_track
from inspection import db
from inspection.patrols.models import Patrol, PatrolBatch, PatrolSegment
from tests.patrols.support import START, gpx, walk

REAL_GPX = Path(__file__).parents[1] / "data" / "tracks" / "cerknicko-jezero.gpx"
GEOD = Geod(ellps="GRS80")
KEYS = ["patrol_id", "points", "kept", "dropped", "segments", "length_m", "duration_s",
        "started_at", "ended_at"]  # fmt: skip


def run(app, path, *args):
    """Invoke flask import-patrol on a file as wgy_a1 (or the --user given)."""
    user = [] if "--user" in args else ["--user", "wgy_a1"]
    return app.test_cli_runner().invoke(args=["import-patrol", str(path), *user, *args])


def count(app, model=Patrol) -> int:
    """Rows of a patrol table."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def write(tmp_path, data: bytes, name="walk.gpx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def geodesic_m(fixes) -> float:
    """Sum of GRS80 geodesic hops, computed independently with pyproj."""
    lon = [f[0] for f in fixes]
    lat = [f[1] for f in fixes]
    return sum(GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])[2])


def test_json_is_the_issues_object(town_app, tmp_path):
    fixes = walk(11)
    result = run(town_app, write(tmp_path, gpx(fixes)), "--json")

    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert list(out) == KEYS
    assert list(out["dropped"]) == ["accuracy", "speed", "duplicate_time"]
    assert (out["points"], out["kept"], out["segments"]) == (11, 11, 1)
    assert out["dropped"] == {"accuracy": 0, "speed": 0, "duplicate_time": 0}
    assert out["length_m"] == pytest.approx(geodesic_m(fixes), abs=1e-6)
    assert out["duration_s"] == 100
    assert out["started_at"] == "2024-05-06T08:30:00+08:00"
    assert out["ended_at"] == "2024-05-06T08:31:40+08:00"
    assert result.stderr == ""


def test_the_same_file_twice_is_one_patrol_and_says_so(town_app, tmp_path):
    path = write(tmp_path, gpx(walk(11)))
    first = json.loads(run(town_app, path, "--json").stdout)

    again = run(town_app, path, "--json")
    plain = run(town_app, path)

    assert again.exit_code == 0 and json.loads(again.stdout) == first
    assert "已导入过" in again.stderr and f"#{first['patrol_id']}" in again.stderr
    assert "已导入过" in plain.stdout
    assert count(town_app) == 1 and count(town_app, PatrolBatch) == 1


def test_the_rules_fix_by_fix(town_app, tmp_path):
    base = walk(8)
    fixes = [
        base[0],
        base[1],
        (base[1][0], base[2][1], base[1][2]),  # 2: same time as the last kept → duplicate_time
        base[2],  # 3: kept
        base[3],  # 4: accuracy 80 m → accuracy
        (113.009, base[4][1], base[4][2]),  # 5: 771 m in 20 s from fix 3 (139 km/h) → speed
        base[5],  # 6: kept, judged from fix 3
        (base[6][0], base[6][1], base[5][2] + timedelta(minutes=11)),  # 7: a gap → new segment
    ]
    result = run(town_app, write(tmp_path, gpx(fixes, accuracy={4: 80, 0: 5})), "--json")

    out = json.loads(result.stdout)
    assert out["dropped"] == {"accuracy": 1, "speed": 1, "duplicate_time": 1}
    assert (out["points"], out["kept"], out["segments"]) == (8, 5, 2)
    kept = [fixes[i] for i in (0, 1, 3, 6)]
    assert out["length_m"] == pytest.approx(geodesic_m(kept), abs=1e-6)
    assert out["duration_s"] == pytest.approx(50.0)  # 0 → 50 s; the last fix alone spans 0


def test_a_file_without_times_keeps_its_length_and_says_the_duration_is_unknown(town_app, tmp_path):
    fixes = [(lon, lat, None) for lon, lat, _ in walk(5)]
    path = write(tmp_path, gpx(fixes))

    out = json.loads(run(town_app, path, "--json", "--date", "2024-05-07").stdout)
    plain = run(town_app, write(tmp_path, gpx(fixes[:4]), "b.gpx"))

    assert out["length_m"] == pytest.approx(geodesic_m(fixes), abs=1e-6)
    assert out["duration_s"] is None and out["started_at"] is None and out["ended_at"] is None
    assert "未知" in plain.stdout
    with town_app.app_context():
        patrol = db.session.get(Patrol, out["patrol_id"])
        assert str(patrol.day) == "2024-05-07"


def test_segments_of_the_file_are_kept(town_app, tmp_path):
    first, second = walk(4), walk(4, start=START + timedelta(minutes=2), lon0=113.002)

    out = json.loads(run(town_app, write(tmp_path, gpx(first, second)), "--json").stdout)

    assert out["segments"] == 2
    assert out["length_m"] == pytest.approx(geodesic_m(first) + geodesic_m(second), abs=1e-6)
    with town_app.app_context():
        segments = db.session.scalars(select(PatrolSegment).order_by(PatrolSegment.seq)).all()
        assert [s.fixes for s in segments] == [4, 4]
        assert [s.geom.geom_type for s in segments] == ["LineString", "LineString"]


def test_the_real_gpx_file_is_stored_outside_the_town(town_app):
    expected = clean_track(read_track(REAL_GPX))

    result = run(town_app, REAL_GPX, "--json")

    out = json.loads(result.stdout)
    assert (out["points"], out["kept"], out["segments"]) == (
        expected.points,
        expected.kept,
        expected.segments,
    )
    assert out["length_m"] == pytest.approx(expected.length_m)
    assert "网格之外" in result.stderr
    with town_app.app_context():
        patrol = db.session.get(Patrol, out["patrol_id"])
        assert patrol.outside and patrol.kept_inside == 0


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&b;</name></trk></gpx>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&x;</name>
<trkseg><trkpt lat="30.001" lon="113.001"/></trkseg></trk></gpx>"""
FUTURE = gpx([(113.001, 30.001 + i * 1e-4, START.replace(year=2099) + timedelta(seconds=i))
              for i in range(3)])  # fmt: skip
OUT_OF_RANGE = gpx([(113.001, 30.001, START), (213.0, 95.0, START + timedelta(seconds=10))])
NO_TRACK = b"""<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">
<wpt lat="30.001" lon="113.001"><name>only a waypoint</name></wpt></gpx>"""
ALL_BAD = gpx(walk(3), accuracy={0: 90, 1: 90, 2: 90})


@pytest.mark.parametrize(
    ("data", "name", "config", "says"),
    [
        (b"<gpx><trk><trkseg><trkpt", "broken.gpx", {}, "格式"),
        (BILLION_LAUGHS, "laughs.gpx", {}, "DOCTYPE"),
        (XXE, "xxe.gpx", {}, "DOCTYPE"),
        (gpx(walk(50)), "big.gpx", {"PATROL_MAX_FILE_BYTES": 1000}, "1,000"),
        (gpx(walk(50)), "many.gpx", {"PATROL_MAX_POINTS": 40}, "50 个，上限 40"),
        (NO_TRACK, "none.gpx", {}, "没有轨迹"),
        (FUTURE, "future.gpx", {}, "晚于现在"),
        (OUT_OF_RANGE, "range.gpx", {}, "超出范围"),
        (ALL_BAD, "bad.gpx", {}, "全部被剔除"),
        (b'{"type": "FeatureCollection", "features": []}', "walk.gpx", {}, "扩展名"),
        (b"", "empty.gpx", {}, "为空"),
    ],
    ids=[
        "malformed",
        "entity-expansion",
        "external-entity",
        "size",
        "points",
        "no-track",
        "future",
        "range",
        "all-dropped",
        "not-what-its-name-says",
        "empty",
    ],  # fmt: skip
)
def test_bad_input_is_refused_and_nothing_is_stored(town_app, tmp_path, data, name, config, says):
    town_app.config.update(config)

    result = run(town_app, write(tmp_path, data, name), "--json")

    assert result.exit_code == 1
    assert says in result.stderr, result.stderr
    assert "未写入任何巡查" in result.stderr and result.stdout == ""
    assert count(town_app) == count(town_app, PatrolBatch) == count(town_app, PatrolSegment) == 0


def test_the_size_refusal_says_both_numbers(town_app, tmp_path):
    data = gpx(walk(50))
    town_app.config["PATROL_MAX_FILE_BYTES"] = 1000

    result = run(town_app, write(tmp_path, data), "--json")

    assert f"{len(data):,}" in result.stderr and "1,000" in result.stderr


def test_an_unknown_user_is_refused(town_app, tmp_path):
    result = run(town_app, write(tmp_path, gpx(walk(3))), "--user", "nobody")

    assert result.exit_code == 1 and "nobody" in result.stderr and count(town_app) == 0
