/* 网格巡查 case page: show the case's geometry (WGS-84) on a small map, shifted for 高德 tiles,
 * with the parcel as first reported (dashed) when it was redrawn; and ask for the reason when a
 * demolished area differs from the footprint. */
(function (root) {
  'use strict';

  function showMap(el) {
    var base = JSON.parse(el.dataset.basemap || '{}'), G = root.ReportGeo;
    var toLatLng = function (c) {
      var d = base.shift === 'gcj02' ? G.wgs84ToGcj02(c[0], c[1]) : c;
      return L.latLng(d[1], d[0]);
    };
    var map = L.map(el, { maxZoom: base.maxZoom || 19 });
    G.addBasemap(map, base);
    var reported = JSON.parse(el.dataset.reportedGeometry || 'null');
    if (reported) {
      L.geoJSON(reported, {
        coordsToLatLng: toLatLng,
        style: { color: '#5b6573', weight: 2, dashArray: '6 4', fill: false }
      }).addTo(map);
    }
    var shape = L.geoJSON(JSON.parse(el.dataset.geometry), {
      coordsToLatLng: toLatLng, style: { color: '#d9480f', weight: 3 }
    }).addTo(map);
    map.fitBounds(shape.getBounds(), { maxZoom: 18, padding: [20, 20] });
  }

  /* The reason is required exactly when the figure differs from the footprint by a cent or more. */
  function watchDemolishedArea(input) {
    var reason = input.form.elements.area_reason, footprint = parseFloat(input.dataset.footprint);
    if (!reason || !isFinite(footprint)) return;
    var sync = function () {
      var value = parseFloat(input.value);
      reason.required = isFinite(value) && Math.abs(value - footprint) > 0.005;
    };
    input.addEventListener('input', sync);
    sync();
  }

  document.addEventListener('DOMContentLoaded', function () {
    var el = document.getElementById('case-map');
    if (el && root.L) showMap(el);
    document.querySelectorAll('input[name=demolished_area_m2][data-footprint]').forEach(watchDemolishedArea);
  });
})(window);
