// The 举证 page: watch the phone's GPS, put the fix in the form, and say how far and which way the
// polygon is (geodesic, on the ellipsoid, to a point on the polygon). The server checks the fix again.
(function () {
  "use strict";
  var where = document.getElementById("where");
  var form = document.getElementById("evidence-form");
  var status = document.getElementById("fix-status");
  if (!where || !navigator.geolocation) { return; }
  var grs80 = null;
  var zh = document.documentElement.lang !== "en";
  var target = { lat: parseFloat(where.dataset.lat), lon: parseFloat(where.dataset.lon) };
  var compass = zh ? ["北", "东北", "东", "东南", "南", "西南", "西", "西北"]
                   : ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];

  function show(position) {
    var c = position.coords;
    grs80 = grs80 || new window.geodesic.Geodesic.Geodesic(6378137, 1 / 298.257222101);
    var line = grs80.Inverse(c.latitude, c.longitude, target.lat, target.lon);
    var heading = compass[Math.round(((line.azi1 + 360) % 360) / 45) % 8];
    var text = zh ? where.dataset.textZh : where.dataset.textEn;
    where.textContent = text.replace("{m}", Math.round(line.s12)).replace("{d}", heading);
    if (form) {
      form.elements.fix_lon.value = c.longitude.toFixed(7);
      form.elements.fix_lat.value = c.latitude.toFixed(7);
      form.elements.fix_accuracy.value = Math.round(c.accuracy);
      status.textContent = (zh ? "已定位，精度 ±" : "Fix: ±") + Math.round(c.accuracy) + (zh ? " 米" : " m")
        + (c.accuracy > 20 ? (zh ? "（需 20 米以内，请稍候）" : " (20 m or better needed; wait)") : "");
    }
  }

  function failed() {
    if (status) {
      status.textContent = zh ? "无法定位：请允许定位，或在下方填写原因" : "No fix: allow location, or give the reason below";
    }
  }

  navigator.geolocation.watchPosition(show, failed, { enableHighAccuracy: true, maximumAge: 10000, timeout: 60000 });
})();
