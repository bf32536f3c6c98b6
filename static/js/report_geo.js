/* 网格巡查 report pages: pure geometry helpers (no DOM, no Leaflet).
 * Areas are geodesic on the GRS80 ellipsoid (CGCS2000), by GeographicLib's PolygonArea (Karney 2013,
 * static/vendor/geographiclib-geodesic, loaded before this file): the same algorithm and ellipsoid as
 * the server's geodata/area.py, so the area shown while drawing is the one the case stores. */
(function (root) {
  'use strict';

  var GRS80_A_M = 6378137;
  var GRS80_F = 1 / 298.257222101;
  var M2_PER_MU = 10000 / 15;
  var RAD = Math.PI / 180;
  var grs80 = null;

  /* The GRS80 ellipsoid as a GeographicLib Geodesic, made on first use. */
  function ellipsoid() {
    if (!grs80) grs80 = new root.geodesic.Geodesic.Geodesic(GRS80_A_M, GRS80_F);
    return grs80;
  }

  /* Area in m² on GRS80 of one ring of [lon, lat] degrees (open or closed), always >= 0. */
  function ringAreaM2(ring) {
    var n = ring.length;
    if (n > 1 && ring[0][0] === ring[n - 1][0] && ring[0][1] === ring[n - 1][1]) n -= 1;
    if (n < 3) return 0;
    var polygon = ellipsoid().Polygon(false);
    for (var i = 0; i < n; i++) polygon.AddPoint(ring[i][1], ring[i][0]);
    // sign = true: a clockwise ring gives minus its area, not the rest of the Earth.
    return Math.abs(polygon.Compute(false, true).area);
  }

  /* Area in m² on GRS80 of a GeoJSON Polygon or MultiPolygon in lon/lat degrees (EPSG:4326):
   * each part's shell minus its holes, whatever their orientation, parts summed; 0 for points. */
  function geometryAreaM2(geometry) {
    if (!geometry) return 0;
    var polygons = geometry.type === 'Polygon' ? [geometry.coordinates]
      : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
    var total = 0;
    polygons.forEach(function (rings) {
      rings.forEach(function (ring, i) { total += (i === 0 ? 1 : -1) * ringAreaM2(ring); });
    });
    return Math.max(total, 0);
  }

  /* "1,234.56 m²（1.85 亩）": the area in m² and 亩, two decimals each. */
  function formatArea(m2, lang) {
    var fmt = function (v) {
      return v.toLocaleString(lang === 'en' ? 'en' : 'zh-CN',
        { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    };
    return lang === 'en' ? fmt(m2) + ' m² (' + fmt(m2 / M2_PER_MU) + ' mu)'
      : fmt(m2) + ' m²（' + fmt(m2 / M2_PER_MU) + ' 亩）';
  }

  function orient(a, b, c) {
    var v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
    return v > 0 ? 1 : v < 0 ? -1 : 0;
  }

  function onSegment(a, b, p) {
    return Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) &&
      Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1]);
  }

  /* True if segments ab and cd touch or cross. */
  function segmentsIntersect(a, b, c, d) {
    var o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b);
    if (o1 !== o2 && o3 !== o4) return true;
    return (o1 === 0 && onSegment(a, b, c)) || (o2 === 0 && onSegment(a, b, d)) ||
      (o3 === 0 && onSegment(c, d, a)) || (o4 === 0 && onSegment(c, d, b));
  }

  /* The first place where a ring of [x, y] crosses itself, as [x, y], or null if it is simple. */
  function selfIntersection(ring) {
    var pts = ring.filter(function (p, i) { // drop repeated consecutive vertices (a double tap)
      return i === 0 || p[0] !== ring[i - 1][0] || p[1] !== ring[i - 1][1];
    });
    if (pts.length > 1 && pts[0][0] === pts[pts.length - 1][0] &&
        pts[0][1] === pts[pts.length - 1][1]) pts.pop();
    var n = pts.length;
    if (n < 4) return null;
    for (var i = 0; i < n; i++) {
      var a = pts[i], b = pts[(i + 1) % n];
      for (var j = i + 2; j < n; j++) {
        if (i === 0 && j === n - 1) continue; // these two edges share the first vertex
        var c = pts[j], d = pts[(j + 1) % n];
        if (segmentsIntersect(a, b, c, d)) return [(a[0] + b[0] + c[0] + d[0]) / 4, (a[1] + b[1] + c[1] + d[1]) / 4];
      }
    }
    for (var k = 0; k < n; k++) { // a vertex visited twice
      for (var m = k + 1; m < n; m++) {
        if (pts[k][0] === pts[m][0] && pts[k][1] === pts[m][1]) return pts[k];
      }
    }
    return null;
  }

  /* GCJ-02 offset (as the 高德 / 腾讯 maps apply it) of WGS-84 lon/lat degrees. */
  function wgs84ToGcj02(lon, lat) {
    if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) return [lon, lat];
    var a = 6378245.0, ee = 0.00669342162296594323, PI = Math.PI;
    var x = lon - 105.0, y = lat - 35.0;
    var common = (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    var dLat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common;
    dLat += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
    dLat += (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
    var dLon = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common;
    dLon += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
    dLon += (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
    var radLat = lat * RAD, magic = 1 - ee * Math.sin(radLat) * Math.sin(radLat);
    dLat = dLat * 180 / ((a * (1 - ee)) / (magic * Math.sqrt(magic)) * PI);
    dLon = dLon * 180 / (a / Math.sqrt(magic) * Math.cos(radLat) * PI);
    return [lon + dLon, lat + dLat];
  }

  /* The GPS position in a JPEG's EXIF as {lon, lat} WGS-84 degrees, or null. */
  function exifGps(buffer) {
    try {
      var v = new DataView(buffer);
      if (v.getUint16(0) !== 0xFFD8) return null;
      var off = 2;
      while (off + 4 <= v.byteLength) {
        var marker = v.getUint16(off), size = v.getUint16(off + 2);
        if (marker === 0xFFE1 && v.getUint32(off + 4) === 0x45786966) return readTiffGps(v, off + 10);
        if ((marker & 0xFF00) !== 0xFF00 || marker === 0xFFDA) return null;
        off += 2 + size;
      }
    } catch (e) { /* truncated or odd EXIF: no suggestion */ }
    return null;
  }

  function readTiffGps(v, tiff) {
    var little = v.getUint16(tiff) === 0x4949;
    var u16 = function (o) { return v.getUint16(tiff + o, little); };
    var u32 = function (o) { return v.getUint32(tiff + o, little); };
    var entries = function (ifd) {
      var out = {}, count = u16(ifd);
      for (var i = 0; i < count; i++) {
        var e = ifd + 2 + i * 12;
        out[u16(e)] = { type: u16(e + 2), count: u32(e + 4), at: e + 8 };
      }
      return out;
    };
    var gpsTag = entries(u32(4))[0x8825];
    if (!gpsTag) return null;
    var gps = entries(u32(gpsTag.at));
    var ref = function (tag) { return tag ? String.fromCharCode(v.getUint8(tiff + tag.at)) : ''; };
    var dms = function (tag) {
      if (!tag || tag.type !== 5 || tag.count < 3) return NaN;
      var o = u32(tag.at), deg = 0;
      for (var i = 0; i < 3; i++) deg += u32(o + i * 8) / u32(o + i * 8 + 4) / Math.pow(60, i);
      return deg;
    };
    var lat = dms(gps[2]), lon = dms(gps[4]);
    if (!isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    if (lat === 0 && lon === 0) return null;
    if (ref(gps[1]) === 'S') lat = -lat;
    if (ref(gps[3]) === 'W') lon = -lon;
    return { lon: lon, lat: lat };
  }

  /* A random RFC 4122 v4 id; crypto.randomUUID needs HTTPS, getRandomValues does not. */
  function uuid4() {
    if (root.crypto && root.crypto.randomUUID) return root.crypto.randomUUID();
    var b = new Uint8Array(16);
    root.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  /* Add a basemap (data from geodata.tiles js_config) to a Leaflet map: its first layer, a switch if several. */
  function addBasemap(map, base) {
    var L = root.L, layers = {}, first = null;
    (base.layers || []).forEach(function (layer) {
      var group = L.layerGroup((layer.sources || []).map(function (src) {
        return L.tileLayer(src.url, {
          subdomains: src.subdomains || 'abc', maxNativeZoom: src.maxZoom, maxZoom: base.maxZoom,
          attribution: base.attribution
        });
      }));
      layers[layer.name] = group;
      if (!first) first = group.addTo(map);
    });
    if (Object.keys(layers).length > 1) L.control.layers(layers, null, { collapsed: true }).addTo(map);
  }

  root.ReportGeo = {
    addBasemap: addBasemap,
    M2_PER_MU: M2_PER_MU,
    ringAreaM2: ringAreaM2,
    geometryAreaM2: geometryAreaM2,
    formatArea: formatArea,
    segmentsIntersect: segmentsIntersect,
    selfIntersection: selfIntersection,
    wgs84ToGcj02: wgs84ToGcj02,
    exifGps: exifGps,
    uuid4: uuid4
  };
})(typeof window !== 'undefined' ? window : globalThis);
