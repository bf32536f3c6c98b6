/* 网格巡查 case page: show the case's geometry (WGS-84) on a small map, shifted for 高德 tiles. */
(function (root) {
  'use strict';
  document.addEventListener('DOMContentLoaded', function () {
    var el = document.getElementById('case-map');
    if (!el || !root.L) return;
    var base = JSON.parse(el.dataset.basemap || '{}'), G = root.ReportGeo;
    var toLatLng = function (c) {
      var d = base.shift === 'gcj02' ? G.wgs84ToGcj02(c[0], c[1]) : c;
      return L.latLng(d[1], d[0]);
    };
    var map = L.map(el, { maxZoom: base.maxZoom || 19 });
    G.addBasemap(map, base);
    var shape = L.geoJSON(JSON.parse(el.dataset.geometry), {
      coordsToLatLng: toLatLng, style: { color: '#d9480f', weight: 3 }
    }).addTo(map);
    map.fitBounds(shape.getBounds(), { maxZoom: 18, padding: [20, 20] });
  });
})(window);
