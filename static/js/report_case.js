/* 网格巡查 case page: ask for the reason when a demolished area differs from the footprint.
 * (The case's map is drawn by map.js, embedded from inspection.maps.case_map.) */
(function () {
  'use strict';

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
    document.querySelectorAll('input[name=demolished_area_m2][data-footprint]').forEach(watchDemolishedArea);
  });
})();
