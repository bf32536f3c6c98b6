"""Reading patrol track files: GPX 1.0/1.1, KML, KMZ and GeoJSON, and every refusal (no app needed)."""

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from geodata import sniff, ways
from geodata.errors import FileFormatError
from geodata.track_clean import clean_track, hop_lengths_m
from geodata.tracks import read_track

NOW = datetime(2024, 6, 1, tzinfo=UTC)
REAL_GPX = Path(__file__).parents[1] / "data" / "tracks" / "cerknicko-jezero.gpx"

GPX11 = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <wpt lat="29.9" lon="113.7"><name>not a track</name></wpt>
  <trk><trkseg>
    <trkpt lat="29.85" lon="113.62"><time>2024-05-01T08:00:00Z</time><hdop>9.5</hdop></trkpt>
    <trkpt lat="29.8501" lon="113.62"><time>2024-05-01T16:00:10+08:00</time>
      <extensions><accuracy>12.5</accuracy></extensions></trkpt>
  </trkseg><trkseg>
    <trkpt lat="29.8502" lon="113.62"><time>2024-05-01T08:00:20.5Z</time></trkpt>
  </trkseg></trk>
  <rte><rtept lat="1" lon="1"/></rte>
</gpx>"""

GPX10 = b"""<?xml version="1.0"?>
<gpx version="1.0" xmlns="http://www.topografix.com/GPX/1/0">
  <trk><trkseg>
    <trkpt lat="29.85" lon="113.62"><time>2024-05-01T08:00:00Z</time><pdop>3</pdop></trkpt>
    <trkpt lat="29.851" lon="113.621"><time>2024-05-01T08:01:00Z</time></trkpt>
  </trkseg></trk>
</gpx>"""

GPX_ROUTE = b"""<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">
  <rte><rtept lat="29.85" lon="113.62"/><rtept lat="29.86" lon="113.62"/></rte>
</gpx>"""

KML_LINE = b"""<?xml version="1.0"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><MultiGeometry>
  <LineString><coordinates>113.62,29.85,10 113.62,29.851,10
    113.621,29.851</coordinates></LineString>
  <LineString><coordinates>113.63,29.85 113.63,29.86</coordinates></LineString>
  <Point><coordinates>113.7,29.9</coordinates></Point>
</MultiGeometry></Placemark></Document></kml>"""

KML_GX = b"""<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Placemark><gx:Track>
  <when>2024-05-01T08:00:00Z</when><when>2024-05-01T08:00:05Z</when>
  <gx:coord>113.62 29.85 10</gx:coord><gx:coord>113.6201 29.85 10</gx:coord>
</gx:Track></Placemark>
<Placemark><LineString><coordinates>113.62,29.85 113.7,29.9</coordinates></LineString></Placemark>
</kml>"""


def geojson(geometry, **properties) -> bytes:
    """A one-feature GeoJSON FeatureCollection."""
    feature = {"type": "Feature", "properties": properties, "geometry": geometry}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def kmz(members: dict[str, bytes]) -> bytes:
    """A ZIP archive holding `members`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_gpx_11_tracks_with_times_accuracy_and_segments():
    track = read_track(GPX11, filename="walk.gpx", now=NOW)

    assert track.fmt == "gpx" and len(track) == 3  # the route and the waypoint are not the walk
    assert track.lon_deg.tolist() == [113.62, 113.62, 113.62]
    assert track.lat_deg.tolist() == [29.85, 29.8501, 29.8502]
    assert track.time.dtype == np.dtype("datetime64[ns]")
    assert [str(t) for t in track.time] == [
        "2024-05-01T08:00:00.000000000",
        "2024-05-01T08:00:10.000000000",  # +08:00 converted to UTC
        "2024-05-01T08:00:20.500000000",
    ]
    # hdop is a dilution of precision, not metres: accuracy unknown unless stated in metres.
    assert np.isnan(track.accuracy_m[0]) and track.accuracy_m[1] == 12.5
    assert np.isnan(track.accuracy_m[2])
    assert track.segment_break.tolist() == [True, False, True]


def test_gpx_10_track_pdop_is_not_accuracy():
    track = read_track(GPX10, filename="walk.GPX", now=NOW)

    assert len(track) == 2 and track.has_times
    assert np.isnan(track.accuracy_m).all()


def test_gpx_route_without_times_when_there_is_no_track():
    track = read_track(GPX_ROUTE, filename="plan.gpx", now=NOW)

    assert track.lat_deg.tolist() == [29.85, 29.86]
    assert not track.has_times and np.isnat(track.time).all()


def test_kml_linestrings_are_segments_without_times():
    track = read_track(KML_LINE, filename="lines.kml", now=NOW)

    assert track.lon_deg.tolist() == [113.62, 113.62, 113.621, 113.63, 113.63]
    assert track.segment_break.tolist() == [True, False, False, True, False]
    assert not track.has_times


def test_kml_gx_track_wins_over_the_linestring_drawn_for_it():
    track = read_track(KML_GX, filename="track.kml", now=NOW)

    assert track.lon_deg.tolist() == [113.62, 113.6201]
    assert str(track.time[1]) == "2024-05-01T08:00:05.000000000"


def test_kmz_reads_its_kml_and_skips_its_pictures():
    data = kmz({"doc.kml": KML_GX, "files/photo.jpg": b"\xff\xd8"})

    track = read_track(data, filename="track.kmz", now=NOW)

    assert len(track) == 2 and track.fmt == "kml"


def test_geojson_linestring_with_coord_times():
    line = {"type": "LineString", "coordinates": [[113.62, 29.85, 5], [113.621, 29.85]]}
    data = geojson(line, coordTimes=["2024-05-01T08:00:00Z", "2024-05-01T08:00:30Z"])

    track = read_track(data, filename="walk.geojson", now=NOW)

    assert track.lon_deg.tolist() == [113.62, 113.621]
    assert str(track.time[1]) == "2024-05-01T08:00:30.000000000"


def test_geojson_multilinestring_with_times_nested_per_line():
    lines = {
        "type": "MultiLineString",
        "coordinates": [[[113.62, 29.85], [113.621, 29.85]], [[113.63, 29.85]]],
    }
    times = [["2024-05-01T08:00:00Z", "2024-05-01T08:00:10Z"], ["2024-05-01T09:00:00Z"]]
    data = geojson(lines, coordinateProperties={"times": times})

    track = read_track(data, filename="walk.json", now=NOW)

    assert track.segment_break.tolist() == [True, False, True]
    assert str(track.time[2]) == "2024-05-01T09:00:00.000000000"


def test_a_bare_geojson_line_without_times():
    data = json.dumps({"type": "LineString", "coordinates": [[113.62, 29.85], [113.63, 29.85]]})

    track = read_track(data.encode(), filename="line.geojson", now=NOW)

    assert len(track) == 2 and not track.has_times


def test_the_real_gpx_file_reads_and_measures_like_an_independent_sum():
    track = read_track(REAL_GPX, now=NOW)
    clean = clean_track(track)

    assert len(track) == 296 and track.has_times
    assert int(track.segment_break.sum()) == 7  # eight trkseg, one of them empty
    assert clean.kept + sum(clean.dropped.values()) == 296
    # Independent: pyproj's geodesic between kept fixes, segment by segment.
    from pyproj import Geod

    geod = Geod(ellps="GRS80")
    same = clean.segment[1:] == clean.segment[:-1]
    lon, lat = clean.lon_deg, clean.lat_deg
    reference_m = geod.inv(lon[:-1][same], lat[:-1][same], lon[1:][same], lat[1:][same])[2].sum()
    assert clean.length_m == pytest.approx(reference_m, rel=1e-9)
    assert 4000 < clean.length_m < 5000
    assert clean.started_at == datetime(2010, 8, 5, 14, 23, 59, tzinfo=UTC)


def test_local_hop_lengths_match_pyproj():
    from pyproj import Geod

    rng = np.random.default_rng(7)
    lon1, lat1 = rng.uniform(73, 135, 10_000), rng.uniform(-80, 80, 10_000)
    step = rng.uniform(0, 2000, 10_000) * rng.choice([1e-6, 1e-5, 1e-3], 10_000)
    lon2, lat2 = lon1 + step * rng.normal(size=10_000), lat1 + step * rng.normal(size=10_000)

    ours_m = hop_lengths_m(lon1, lat1, lon2, lat2)
    reference_m = Geod(ellps="GRS80").inv(lon1, lat1, lon2, lat2)[2]

    assert np.abs(ours_m - reference_m).max() < 1e-6 + 1e-9 * reference_m.max()


HOSTILE_GPX = {
    "external entity": b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<gpx version="1.1"><trk><trkseg><trkpt lat="1" lon="1"><name>&x;</name></trkpt></trkseg></trk></gpx>',
    "billion laughs": b'<!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    b'<gpx version="1.1"><trk><name>&b;</name></trk></gpx>',
    "doctype only": b'<!DOCTYPE gpx SYSTEM "http://127.0.0.1:9/gpx.dtd"><gpx version="1.1"/>',
}


@pytest.mark.parametrize("name", list(HOSTILE_GPX))
def test_xml_attacks_are_refused(name):
    with pytest.raises(FileFormatError) as caught:
        read_track(HOSTILE_GPX[name], filename="x.gpx", now=NOW)

    assert caught.value.code == "gpx_doctype"
    assert "root:" not in caught.value.message_en


@pytest.mark.parametrize(
    ("data", "filename", "code", "words"),
    [
        (
            b'<gpx version="1.1"><trk><trkseg><trkpt lat="1"',
            "x.gpx",
            "xml_malformed",
            "well-formed",
        ),
        (KML_LINE, "walk.gpx", "extension_mismatch", ".gpx"),
        (GPX10, "walk.kml", "extension_mismatch", "GPX"),
        (GPX10, "walk.geojson", "extension_mismatch", "GPX"),
        (b'{"type": "Feature", "geometry": ', "x.geojson", "json_malformed", "JSON"),
        (b"<html><body>gpx</body></html>", "x.gpx", "unknown_format", "accepted"),
        (b"\x89PNG\r\n\x1a\n", "x.gpx", "unknown_format", "accepted"),
        (b"", "x.gpx", "file_empty", "empty"),
        (
            GPX10.replace(b"<trkpt", b"<wpt").replace(b"</trkpt>", b"</wpt>"),
            "x.gpx",
            "no_track",
            "no track",
        ),
        (geojson({"type": "Point", "coordinates": [113, 29]}), "x.geojson", "no_track", "no track"),
        (GPX10.replace(b'lat="29.851"', b'lat="95.0"'), "x.gpx", "track_out_of_range", "point 2"),
        (
            geojson({"type": "LineString", "coordinates": [[500000, 3300000], [500010, 3300000]]}),
            "x.geojson",
            "track_out_of_range",
            "degrees",
        ),
        (GPX10.replace(b'lon="113.62"', b'lon="east"'), "x.gpx", "track_bad_coordinates", "number"),
        (
            GPX10.replace(b"2024-05-01T08:01:00Z", b"2030-01-01T00:00:00Z"),
            "x.gpx",
            "track_in_future",
            "2030-01-01T00:00:00",
        ),
        (
            GPX10.replace(b"<time>2024-05-01T08:01:00Z</time>", b""),
            "x.gpx",
            "track_times_partial",
            "1 of the 2",
        ),
        (
            GPX10.replace(b"2024-05-01T08:01:00Z", b"yesterday"),
            "x.gpx",
            "track_bad_time",
            "ISO 8601",
        ),
        (
            KML_GX.replace(b"<when>2024-05-01T08:00:05Z</when>", b""),
            "x.kml",
            "track_times_mismatch",
            "1 times",
        ),
        (kmz({"doc.kml": KML_LINE, "run.exe": b"MZ"}), "x.kmz", "zip_member_refused", "run.exe"),
        (kmz({"doc.gpx": KML_LINE}), "x.kmz", "zip_member_mismatch", "doc.gpx"),
        (kmz({"notes.txt": b"hello"}), "x.kmz", "zip_no_data", "no track file"),
    ],
)
def test_bad_files_are_refused_with_a_reason(data, filename, code, words):
    with pytest.raises(FileFormatError) as caught:
        read_track(data, filename=filename, now=NOW)

    assert caught.value.code == code
    assert words in caught.value.message_en, caught.value.message_en
    assert caught.value.message_zh


def test_over_the_size_cap_says_both_sizes(tmp_path):
    path = tmp_path / "big.gpx"
    path.write_bytes(GPX10)

    for source in (GPX10, path):
        with pytest.raises(FileFormatError) as caught:
            read_track(source, filename="big.gpx", max_bytes=100, now=NOW)
        assert caught.value.code == "file_too_large"
        assert f"{len(GPX10):,} bytes" in caught.value.message_en
        assert "limit of 100 bytes" in caught.value.message_en
        assert f"{len(GPX10):,} 字节" in caught.value.message_zh


def test_over_the_point_cap_says_both_counts():
    with pytest.raises(FileFormatError) as caught:
        read_track(GPX11, filename="walk.gpx", max_points=2, now=NOW)

    assert caught.value.code == "too_many_points"
    assert "has 3 track points, over the limit of 2" in caught.value.message_en


def test_a_kmz_unpacking_past_the_size_cap_is_refused():
    padded = KML_LINE.replace(b"<Document>", b"<Document>" + b" " * 5000)

    with pytest.raises(FileFormatError) as caught:
        read_track(kmz({"doc.kml": padded}), filename="x.kmz", max_bytes=4000, now=NOW)

    assert caught.value.code == "zip_too_large"


def test_a_kml_network_link_is_never_followed():
    data = KML_LINE.replace(
        b"<Document>",
        b"<Document><NetworkLink><Link><href>http://127.0.0.1:9/x.kml</href></Link></NetworkLink>",
    )

    # Nothing fetches: GDAL never sees track files and our reader follows no links.
    track = read_track(data, filename="x.kml", now=NOW)

    assert len(track) == 5


def test_gpx_sniffed_by_its_root_and_kml_unchanged():
    assert sniff.sniff_format(GPX11[:200]) == sniff.GPX
    assert sniff.sniff_format(b"<gpx/>") == sniff.GPX
    assert sniff.sniff_format(KML_LINE[:200]) == sniff.KML
    assert sniff.sniff_format(b"<gpx><desc><![CDATA[<kml>]]></desc></gpx>") == sniff.GPX
    assert sniff.sniff_format(b"<gpxfoo/>") is None


def test_the_patrol_way_allows_tracks_only():
    assert ways.PATROL_IMPORT.formats == {sniff.GPX, sniff.KML, sniff.GEOJSON, sniff.ZIP}
    assert "GPX" in ways.PATROL_IMPORT.names_en()
    with pytest.raises(FileFormatError) as caught:
        read_track(
            b"SQLite format 3\x00" + b"\x00" * 52 + b"GPKG" + b"\x00" * 100, filename="x.gpkg"
        )
    assert caught.value.code == "format_not_allowed"
