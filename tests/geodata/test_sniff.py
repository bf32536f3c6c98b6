"""Telling a file's format from its first bytes."""

import pytest

from geodata.sniff import has_xml_declarations, sniff_format


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"PK\x03\x04\x14\x00", "zip"),
        (b"PK\x05\x06" + b"\x00" * 18, "zip"),
        (b"SQLite format 3\x00" + b"\x00" * 52 + b"GPKG", "gpkg"),
        (b"SQLite format 3\x00" + b"\x00" * 52 + b"\x00\x00\x00\x00", None),
        (b"\x00\x00\x27\x0a" + b"\x00" * 96, "shp"),
        (b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2">', "kml"),
        (b"\xef\xbb\xbf  <kml:kml xmlns:kml='http://www.opengis.net/kml/2.2'>", "kml"),
        (b"<html><body>kml</body></html>", None),
        (b'{"type": "Topology", "objects": {}, "arcs": []}', "topojson"),
        (b'{"type":"FeatureCollection","features":[]}', "geojson"),
        (b'\n {"features": [], "type" : "FeatureCollection"}', "geojson"),
        (b'{"type": "Polygon", "coordinates": []}', "geojson"),
        (b'{"hello": "world"}', None),
        (b"\x89PNG\r\n\x1a\n", None),
        (b"code,name\n1,2\n", None),
        (b"", None),
    ],
)
def test_sniff_format(head, expected):
    assert sniff_format(head) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'<!DOCTYPE kml [<!ENTITY a "b">]><kml/>', True),
        (b"<!entity a 'b'><kml/>", True),
        (b'<?xml version="1.0"?><kml><name>DOCTYPE</name></kml>', False),
    ],
)
def test_has_xml_declarations(text, expected):
    assert has_xml_declarations(text) is expected
