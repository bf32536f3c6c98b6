/* 网格巡查 maps (MapApp): basemaps, grid cells, cases coloured from their status, GCJ-02 display shift.
 * geodata/maps/elements.py writes one MapApp call per layer; data arrives as compact GeoJSON (see
 * geodata.maps.case_geojson), embedded or fetched from a JSON endpoint by bounding box and zoom.
 * Stored coordinates are WGS-84; on 高德 tiles (GCJ-02) they are shifted for display only, and a
 * point picked on the map is shifted back with MapApp.toWgs84. */
(function (global) {
  "use strict";

  // ---- GCJ-02 (高德) <-> WGS-84: the formulas of geodata/crs.py -----------------------------
  var KRASOVSKY_A = 6378245.0;
  var KRASOVSKY_E2 = 0.00669342162296594323;

  function gcjOffset(lng, lat) {
    if (!(lng >= 72.004 && lng <= 137.8347 && lat >= 0.8293 && lat <= 55.8271)) return [0, 0];
    var PI = Math.PI, x = lng - 105.0, y = lat - 35.0;
    var common = (20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2 / 3;
    var dlat = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x)) + common;
    dlat += (20 * Math.sin(y * PI) + 40 * Math.sin(y / 3 * PI)) * 2 / 3;
    dlat += (160 * Math.sin(y / 12 * PI) + 320 * Math.sin(y * PI / 30)) * 2 / 3;
    var dlng = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x)) + common;
    dlng += (20 * Math.sin(x * PI) + 40 * Math.sin(x / 3 * PI)) * 2 / 3;
    dlng += (150 * Math.sin(x / 12 * PI) + 300 * Math.sin(x / 30 * PI)) * 2 / 3;
    var rad = lat / 180 * PI;
    var magic = 1 - KRASOVSKY_E2 * Math.sin(rad) * Math.sin(rad);
    var root = Math.sqrt(magic);
    dlat = dlat * 180 / ((KRASOVSKY_A * (1 - KRASOVSKY_E2)) / (magic * root) * PI);
    dlng = dlng * 180 / (KRASOVSKY_A / root * Math.cos(rad) * PI);
    return [dlng, dlat];
  }

  /** WGS-84 [lng, lat] degrees -> GCJ-02 [lng, lat] degrees. */
  function wgs84ToGcj02(lng, lat) {
    var d = gcjOffset(lng, lat);
    return [lng + d[0], lat + d[1]];
  }

  /** GCJ-02 [lng, lat] degrees -> WGS-84 [lng, lat], by fixed-point iteration (~1e-9 degrees). */
  function gcj02ToWgs84(lng, lat) {
    var x = lng, y = lat;
    for (var i = 0; i < 30; i++) {
      var d = gcjOffset(x, y), ex = x + d[0] - lng, ey = y + d[1] - lat;
      x -= ex;
      y -= ey;
      if (Math.abs(ex) < 1e-9 && Math.abs(ey) < 1e-9) break;
    }
    return [x, y];
  }

  // ---- helpers -------------------------------------------------------------------------------
  var CSS = [
    ".map-mk{display:inline-block;width:14px;height:14px;border:2px solid #fff;box-sizing:border-box;",
    "box-shadow:0 0 0 1px rgba(0,0,0,.5);vertical-align:middle}",
    ".map-mk-circle{border-radius:50%}.map-mk-square{border-radius:2px}",
    ".map-mk-diamond{transform:rotate(45deg) scale(.85)}.map-mk-plain{background:#495057}",
    ".map-mk-overdue{box-shadow:0 0 0 2px #e03131,0 0 0 5px rgba(224,49,49,.35)}",
    ".map-case{background:none;border:0}.map-case .map-mk{width:16px;height:16px;cursor:pointer}",
    ".map-cluster{background:none;border:0}.map-cluster div{width:100%;height:100%;border-radius:50%;",
    "display:flex;align-items:center;justify-content:center;color:#fff;font:600 12px/1 system-ui,sans-serif;",
    "border:3px solid rgba(255,255,255,.8);box-sizing:border-box;box-shadow:0 0 0 1px rgba(0,0,0,.35);cursor:pointer}",
    ".map-cluster-overdue div{box-shadow:0 0 0 3px #e03131}",
    ".map-label{background:none;border:0}.map-label span{position:absolute;transform:translate(-50%,-50%);",
    "white-space:nowrap;font:600 13px/1.2 system-ui,sans-serif;color:#1d2530;",
    "text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff}.map-label-link span{cursor:pointer;text-decoration:underline dotted}",
    ".map-label-top span{font-size:15px;font-weight:700}",
    ".map-legend,.map-box{background:#fff;padding:6px 8px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);",
    "font:13px/1.6 system-ui,sans-serif;max-width:16rem}",
    ".map-legend summary{cursor:pointer;list-style-position:inside}.map-legend-area{display:inline-block;width:14px;height:10px;border:2px solid;vertical-align:middle;",
    "background:rgba(217,72,15,.3)}.map-legend-outline{border-style:dashed;background:none}.map-box label{display:block;cursor:pointer}.map-box input{width:auto;min-height:0;margin:0 4px 0 0}",
    ".map-ramp i{display:inline-block;width:18px;height:10px}.map-error{background:#fff3bf}",
    ".map-popup{min-width:12rem;font-size:13px;line-height:1.5}.map-popup strong{font-size:14px}",
    ".map-badge{display:inline-block;color:#fff;border-radius:999px;padding:0 6px;font-size:12px}",
    ".map-badge-overdue{background:#e03131}.map-popup-link{display:inline-block;margin-top:4px}"
  ].join("");

  function injectCss() {
    if (document.getElementById("map-app-css")) return;
    var style = document.createElement("style");
    // The CSP admits a <style> only with this page's nonce, which the page's own tags carry.
    var tagged = document.querySelector("style[nonce], script[nonce]");
    if (tagged) style.nonce = tagged.nonce;
    style.id = "map-app-css";
    style.textContent = CSS;
    document.head.appendChild(style);
  }

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function setParam(url, name, value) {
    var u = new URL(url, global.location.href);
    if (value) u.searchParams.set(name, value);
    else u.searchParams.delete(name);
    return u.pathname + u.search + u.hash;
  }

  function state(map) {
    if (!map._mapApp) throw new Error("MapApp.setup(map, …) must run first");
    return map._mapApp;
  }

  function setStatus(map, status) {
    var st = state(map), el = map.getContainer(), n = stats(map);
    el.dataset.mapState = status;
    el.dataset.cases = n.cases;
    if (status === "ready") el.dispatchEvent(new CustomEvent("mapapp:ready", { detail: n }));
    if (st.error) st.error.getContainer().style.display = status === "error" ? "" : "none";
  }

  /** WGS-84 [lng, lat] -> the L.LatLng drawn on this map's basemap. */
  function fromWgs84(map, lng, lat) {
    var p = state(map).shift ? wgs84ToGcj02(lng, lat) : [lng, lat];
    return L.latLng(p[1], p[0]);
  }

  /** A L.LatLng picked on this map -> WGS-84 {lon, lat} degrees to store. */
  function toWgs84(map, latlng) {
    var p = state(map).shift ? gcj02ToWgs84(latlng.lng, latlng.lat) : [latlng.lng, latlng.lat];
    return { lon: p[0], lat: p[1] };
  }

  /** The map's L.LatLngBounds as WGS-84 [west, south, east, north]. */
  function wgsBox(map, bounds) {
    var a = toWgs84(map, bounds.getSouthWest()), b = toWgs84(map, bounds.getNorthEast());
    return [Math.min(a.lon, b.lon), Math.min(a.lat, b.lat), Math.max(a.lon, b.lon), Math.max(a.lat, b.lat)];
  }

  function contains(outer, inner) {
    return outer[0] <= inner[0] && outer[1] <= inner[1] && outer[2] >= inner[2] && outer[3] >= inner[3];
  }

  function control(position, className, html) {
    var c = L.control({ position: position });
    c.onAdd = function () {
      var div = L.DomUtil.create("div", className);
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    return c;
  }

  // ---- setup: basemaps, layer switch ---------------------------------------------------------
  /** Leaflet's own controls in the page's language: zoom titles, a metric-only scale, the credit. */
  function localizeControls(map, words) {
    if (map.zoomControl) map.removeControl(map.zoomControl);
    map.zoomControl = L.control.zoom({ zoomInTitle: words.zoom_in, zoomOutTitle: words.zoom_out }).addTo(map);
    L.control.scale({ imperial: false }).addTo(map);
    if (map.attributionControl) {
      map.attributionControl.setPrefix('<a href="https://leafletjs.com">' + esc(words.credit) + "</a>");
    }
  }

  function setup(map, o) {
    injectCss();
    var st = { o: o, shift: o.basemap.shift === "gcj02", caseLayers: [], text: o.text };
    map._mapApp = st;
    st.coordsToLatLng = function (c) { return fromWgs84(map, c[0], c[1]); };
    var bases = {};
    o.basemap.layers.forEach(function (base, i) {
      var tiles = base.sources.map(function (s, j) {
        return L.tileLayer(s.url, {
          subdomains: s.subdomains || "abc",
          maxZoom: o.basemap.maxZoom,
          maxNativeZoom: s.maxZoom,
          attribution: j === 0 ? o.basemap.attribution : ""
        });
      });
      bases[base.name] = L.layerGroup(tiles);
      if (i === 0) bases[base.name].addTo(map);
    });
    map.createPane("mapLabels").style.zIndex = 620;  // above markers and cluster bubbles (600), below popups
    localizeControls(map, o.text.words);
    st.control = L.control.layers(bases, {}, { collapsed: true }).addTo(map);
    var toggle = st.control.getContainer().querySelector(".leaflet-control-layers-toggle");
    if (toggle) { toggle.title = o.text.words.layers; toggle.setAttribute("aria-label", o.text.words.layers); }
    st.error = control("topright", "map-box map-error", esc(o.text.words.load_error)).addTo(map);
    st.error.getContainer().style.display = "none";
    map.getContainer().dataset.mapState = "setup";
    return st;
  }

  // ---- grid cells: boundaries, labels, click-through, shading --------------------------------
  var LABEL_DROP_PX = 14;  // a "top" label's middle lies this far below the top of its cell in view

  /** Where a cell's "top" label goes: LABEL_DROP_PX below the top of the cell's part in view,
   * in the middle of the widest stretch of the cell along that line (even-odd over its rings);
   * a container point, or null when the cell is not in view. */
  function topLabelPoint(map, layer) {
    var size = map.getSize(), rings = [], top = Infinity, bottom = -Infinity;
    (function walk(lls) {
      if (!lls.length) return;
      if (lls[0] instanceof L.LatLng) {
        var ring = lls.map(function (ll) { return map.latLngToContainerPoint(ll); });
        ring.forEach(function (p) { top = Math.min(top, p.y); bottom = Math.max(bottom, p.y); });
        rings.push(ring);
      } else lls.forEach(walk);
    })(layer.getLatLngs());
    var y = Math.max(top, 0) + LABEL_DROP_PX;
    if (y > Math.min(bottom, size.y)) return null;
    var xs = [];
    rings.forEach(function (ring) {
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], b = ring[j];
        if ((a.y > y) !== (b.y > y)) xs.push(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y));
      }
    });
    xs.sort(function (a, b) { return a - b; });
    var best = null;
    for (var k = 0; k + 1 < xs.length; k += 2) {
      var left = Math.max(xs[k], 0), right = Math.min(xs[k + 1], size.x);
      if (right > left && (!best || right - left > best[1] - best[0])) best = [left, right];
    }
    return best ? L.point((best[0] + best[1]) / 2, y) : null;
  }

  var RAMPS = { open: ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#8c2d04"],
                mu: ["#f7fcf5", "#c7e9c0", "#74c476", "#238b45", "#00441b"] };

  function cells(map, o) {
    var st = state(map), words = st.text.words, level = o.level;
    var shade = o.shade || null;
    var max = { open: 0, mu: 0 };
    o.data.features.forEach(function (f) {
      max.open = Math.max(max.open, f.properties.open || 0);
      max.mu = Math.max(max.mu, f.properties.mu || 0);
    });
    function fill(f) {
      if (!shade || !max[shade]) return null;
      var v = f.properties[shade] || 0, ramp = RAMPS[shade];
      return ramp[Math.min(ramp.length - 1, Math.floor((v / max[shade]) * (ramp.length - 1) + 0.0001))];
    }
    function style(f) {
      var color = fill(f);
      return {
        color: level === "town" ? "#1d2530" : "#495057",
        weight: level === "town" ? 3 : 1.5,
        fill: level !== "town",
        fillColor: color || "#1f6feb",
        fillOpacity: color ? 0.6 : 0.03,
        interactive: !!o.link && level !== "town"
      };
    }
    function go(code) {
      global.location.href = o.link.replace("{code}", encodeURIComponent(code)) + global.location.search;
    }
    var layer = L.geoJSON(o.data, {
      style: style,
      coordsToLatLng: st.coordsToLatLng,
      onEachFeature: function (f, l) {
        l.options.className = "map-cell map-cell-" + level + " map-cell-" + f.properties.code;
        if (o.link && level !== "town") l.on("click", function () { go(f.properties.code); });
      }
    }).addTo(map);
    var labels = L.layerGroup().addTo(map), top = o.labelAt === "top", placed = [];
    if (o.labels) {
      layer.eachLayer(function (l) {
        var p = l.feature.properties, linked = !!o.link && level !== "town";
        var label = L.marker(fromWgs84(map, p.lp[0], p.lp[1]), {
          pane: "mapLabels",
          interactive: linked,
          keyboard: false,
          icon: L.divIcon({
            className: "map-label map-label-" + level + (top ? " map-label-top" : "") + (linked ? " map-label-link" : ""),
            iconSize: null,
            html: '<span data-code="' + esc(p.code) + '">' + esc(p.name) + "</span>"
          })
        }).on("click", function () { if (linked) go(p.code); });
        if (top) placed.push([l, label]);
        else label.addTo(labels);
      });
    }
    if (placed.length) {
      var place = function () {
        placed.forEach(function (pair) {
          var at = topLabelPoint(map, pair[0]);
          if (at) labels.addLayer(pair[1].setLatLng(map.containerPointToLatLng(at)));
          else labels.removeLayer(pair[1]);
        });
      };
      map.on("moveend resize", place);
      place();
    }
    st.control.addOverlay(L.layerGroup([layer, labels]).addTo(map), esc(o.name || words.boundaries));
    if (o.shadeSwitch) {
      var name = "shade-" + L.Util.stamp(layer);
      // A folded panel on a phone (the map first), open on wider maps; the choice stays visible.
      var html = "<details" + (map.getSize().x < 600 ? "" : " open") + "><summary><strong>" +
        esc(words.shade) + "</strong></summary>" + ["", "open", "mu"].map(function (key) {
        var label = words[key ? "shade_" + key : "shade_none"];
        return '<label><input type="radio" name="' + name + '" value="' + key + '"' +
          ((shade || "") === key ? " checked" : "") + "> " + esc(label) + "</label>";
      }).join("") + '<div class="map-ramp"></div></details>';
      var box = control("bottomleft", "map-box map-shade", html).addTo(map);
      var ramp = box.getContainer().querySelector(".map-ramp");
      var drawRamp = function () {
        ramp.innerHTML = shade && max[shade] ? RAMPS[shade].map(function (c) {
          return '<i style="background:' + c + '"></i>';
        }).join("") + " 0–" + max[shade] : "";
      };
      drawRamp();
      box.getContainer().addEventListener("change", function (e) {
        shade = e.target.value || null;
        layer.setStyle(style);
        drawRamp();
        global.history.replaceState(null, "", setParam(global.location.href, "shade", shade));
        var input = document.querySelector('input[name="shade"]');
        if (input) {
          input.value = shade || "";
          input.disabled = !shade;
        }
      });
    }
    return layer;
  }

  /** A geometry as a dashed outline that takes no clicks (a parcel as first reported). */
  function outline(map, o) {
    var st = state(map);
    var layer = L.geoJSON(o.data, {
      coordsToLatLng: st.coordsToLatLng,
      style: { color: st.o.outlineColor || "#5b6573", weight: 2, dashArray: "6 4", fill: false,
               interactive: false, className: "map-outline" }
    }).addTo(map);
    if (o.name) st.control.addOverlay(layer, esc(o.name));
    return layer;
  }

  // ---- cases: clustered markers, polygons, server clusters -----------------------------------
  function groupOf(st, status) { return st.o.groups[status] || "open"; }

  function colorOf(st, status) { return st.o.colors[groupOf(st, status)]; }

  function popupHtml(st, lay, p) {
    var t = st.text, w = t.words, colon = w.colon || ": ";
    var status = (t.statuses[p.k] && t.statuses[p.k][p.s]) || t.groups[groupOf(st, p.s)] || p.s;
    var lang = document.documentElement.lang || "en";
    var fmt = function (x) {
      return Number(x).toLocaleString(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    };
    var html = '<div class="map-popup" data-case="' + p.i + '"><strong>' + esc(p.t || "#" + p.i) + "</strong>";
    html += "<div>" + esc(t.kinds[p.k] || p.k) + ' · <span class="map-badge" style="background:' +
      colorOf(st, p.s) + '">' + esc(status) + "</span>";
    if (p.o) html += ' <span class="map-badge map-badge-overdue">' + esc(w.overdue) + "</span>";
    html += "</div>";
    if (p.d) html += "<div>" + esc(w.deadline) + colon + esc(p.d) + "</div>";
    if (p.a) html += "<div>" + esc(w.area) + colon + fmt(p.a) + " m² (" + fmt(p.a * 0.0015) + " " + esc(w.mu) + ")</div>";
    if (p.w) html += "<div>" + esc(w.where) + colon + esc(p.w) + "</div>";
    if (lay.o.link) {
      html += '<a class="map-popup-link" href="' + esc(lay.o.link.replace("{id}", p.i)) + '">' + esc(w.open_case) + "</a>";
    }
    return html + "</div>";
  }

  function bubbleIcon(st, n, group, overdue) {
    var size = n < 10 ? 30 : n < 100 ? 36 : n < 1000 ? 42 : 50;
    return L.divIcon({
      className: "map-cluster" + (overdue ? " map-cluster-overdue" : ""),
      iconSize: [size, size],
      html: '<div style="background:' + st.o.colors[group] + '"><span>' + n + "</span></div>"
    });
  }

  function clusterIcon(st) {
    return function (cluster) {
      var tally = {}, overdue = 0, best = "open";
      cluster.getAllChildMarkers().forEach(function (m) {
        tally[m.options.group] = (tally[m.options.group] || 0) + 1;
        if (m.options.overdue) overdue++;
      });
      Object.keys(tally).forEach(function (g) { if (tally[g] > (tally[best] || 0)) best = g; });
      return bubbleIcon(st, cluster.getChildCount(), best, overdue);
    };
  }

  function kindLayer(map, st, lay, kind) {
    if (lay.kinds[kind]) return lay.kinds[kind];
    var k = {
      cluster: L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50, iconCreateFunction: clusterIcon(st) }),
      shapes: L.featureGroup()
    };
    k.group = L.layerGroup([k.shapes, k.cluster]).addTo(map);
    var shape = st.o.shapes[kind] || "circle";
    st.control.addOverlay(k.group, '<i class="map-mk map-mk-' + shape + ' map-mk-plain"></i> ' + esc(st.text.kinds[kind] || kind));
    lay.kinds[kind] = k;
    return k;
  }

  function marker(map, st, lay, coords, p) {
    var group = groupOf(st, p.s);
    var m = L.marker(fromWgs84(map, coords[0], coords[1]), {
      group: group,
      overdue: !!p.o,
      caseId: p.i,
      keyboard: false,
      icon: L.divIcon({
        className: "map-case",
        iconSize: [16, 16],
        html: '<i class="map-mk map-mk-' + (st.o.shapes[p.k] || "circle") + (p.o ? " map-mk-overdue" : "") +
          '" data-case="' + p.i + '" style="background:' + st.o.colors[group] + '"></i>'
      })
    });
    return m.bindPopup(function () { return popupHtml(st, lay, p); });
  }

  function area(map, st, lay, f) {
    var p = f.properties, color = colorOf(st, p.s);
    var l = L.GeoJSON.geometryToLayer(f, { coordsToLatLng: st.coordsToLatLng });
    l.options.className = "map-case-area map-case-" + p.i;
    l.options.caseId = p.i;
    l.setStyle({
      color: p.o ? st.o.overdueColor : color,
      weight: p.o ? 3 : 2,
      dashArray: p.o ? "6 4" : null,
      fillColor: color,
      fillOpacity: 0.35
    });
    return l.bindPopup(function () { return popupHtml(st, lay, p); });
  }

  /** Server clusters of the kinds switched on, merged per cell into one bubble each. */
  function bubbles(map, st, lay, fc, n) {
    var cells = {}, names = Object.keys(st.o.colors);
    fc.features.forEach(function (f) {
      var p = f.properties;
      if (!map.hasLayer(kindLayer(map, st, lay, p.k).group)) return;
      var c = cells[p.c] || (cells[p.c] = { n: 0, o: 0, lon: 0, lat: 0, gs: names.map(function () { return 0; }),
                                           b: [Infinity, Infinity, -Infinity, -Infinity] });
      c.n += p.n;
      c.o += p.o;
      c.lon += f.geometry.coordinates[0] * p.n;
      c.lat += f.geometry.coordinates[1] * p.n;
      p.gs.forEach(function (v, i) { c.gs[i] += v; });
      c.b = [Math.min(c.b[0], p.b[0]), Math.min(c.b[1], p.b[1]), Math.max(c.b[2], p.b[2]), Math.max(c.b[3], p.b[3])];
    });
    Object.keys(cells).forEach(function (key) {
      var c = cells[key], best = 0;
      c.gs.forEach(function (v, i) { if (v > c.gs[best]) best = i; });
      lay.bubbles.addLayer(L.marker(fromWgs84(map, c.lon / c.n, c.lat / c.n), {
        icon: bubbleIcon(st, c.n, names[best], c.o),
        keyboard: false
      }).on("click", function () {
        var sw = fromWgs84(map, c.b[0], c.b[1]), ne = fromWgs84(map, c.b[2], c.b[3]);
        if (sw.equals(ne)) map.setView(sw, map.getZoom() + 2);
        else map.fitBounds(L.latLngBounds(sw, ne), { padding: [20, 20] });
      }));
      n.bubbles++;
      n.cases += c.n;
    });
  }

  /** A polygon smaller than MIN_POLYGON_PX on screen at zoom: drawn as a marker, so it shows. */
  var MIN_POLYGON_PX = 8;

  function tooSmall(f, zoom) {
    if (!f._span) {
      var box = [Infinity, Infinity, -Infinity, -Infinity];
      (function walk(c) {
        if (typeof c[0] === "number") {
          box = [Math.min(box[0], c[0]), Math.min(box[1], c[1]), Math.max(box[2], c[0]), Math.max(box[3], c[1])];
        } else c.forEach(walk);
      })(f.geometry.coordinates);
      var cos = Math.cos((box[1] + box[3]) / 360 * Math.PI);
      f._span = Math.min(box[2] - box[0], (box[3] - box[1]) / cos);  // degrees of longitude
    }
    return f._span * 256 * Math.pow(2, zoom) / 360 < MIN_POLYGON_PX;
  }

  function render(map, lay) {
    var started = performance.now();
    var st = state(map), fc = lay.fc, zoom = map.getZoom(), polygons = zoom >= st.o.polygonZoom;
    var markers = {}, n = { cases: 0, markers: 0, polygons: 0, bubbles: 0 };
    lay.bubbles.clearLayers();
    Object.keys(lay.kinds).forEach(function (kind) {
      lay.kinds[kind].cluster.clearLayers();
      lay.kinds[kind].shapes.clearLayers();
    });
    if (fc.mode === "clusters") {
      bubbles(map, st, lay, fc, n);
    } else {
      fc.features.forEach(function (f) {
        var p = f.properties, g = f.geometry, k = kindLayer(map, st, lay, p.k);
        if (g.type === "Point" || !polygons || tooSmall(f, zoom)) {
          (markers[p.k] = markers[p.k] || []).push(marker(map, st, lay, g.type === "Point" ? g.coordinates : p.p, p));
          n.markers++;
        } else {
          k.shapes.addLayer(area(map, st, lay, f));
          n.polygons++;
        }
        n.cases++;
      });
    }
    Object.keys(markers).forEach(function (kind) { lay.kinds[kind].cluster.addLayers(markers[kind]); });
    lay.drawn = n;
    lay.zoomDrawn = zoom;
    lay.timing.renderMs = performance.now() - started;
    setStatus(map, "ready");
  }

  /** Whether data fetched for got.bbox at got.zoom still serves a view at zoom. */
  function serves(st, got, view, zoom) {
    return !!got && contains(got.bbox, view) &&
      (got.mode === "clusters" ? zoom === got.zoom : zoom < st.o.polygonZoom || got.polygons);
  }

  /** Fetch the cases for bounds at zoom (default: the current view) unless what we have serves. */
  function load(map, lay, bounds, zoom) {
    // The map fits a cell at quarter zoom steps; the server clusters by whole zoom levels.
    var st = state(map), z = Math.floor(zoom === undefined ? map.getZoom() : zoom);
    bounds = bounds || map.getBounds();
    var view = wgsBox(map, bounds);
    if (serves(st, lay.last, view, z)) {
      if (!map._animatingZoom && lay.zoomDrawn !== z) render(map, lay);
      return;
    }
    if (lay.pending && lay.pending.zoom === z && contains(lay.pending.bbox, view)) return;
    var box = wgsBox(map, bounds.pad(0.3));
    var url = lay.o.url + (lay.o.url.indexOf("?") < 0 ? "?" : "&") + "bbox=" +
      box.map(function (v) { return v.toFixed(5); }).join(",") + "&zoom=" + z;
    if (lay.request) lay.request.abort();
    var request = lay.request = new AbortController();
    var started = performance.now();
    lay.pending = { bbox: box, zoom: z };
    setStatus(map, "loading");
    fetch(url, { credentials: "same-origin", signal: request.signal, headers: { Accept: "application/geo+json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(function (fc) {
        if (request !== lay.request) return;
        lay.pending = null;
        lay.timing.fetchMs = performance.now() - started;
        lay.fc = fc;
        lay.last = { bbox: box, zoom: z, mode: fc.mode, polygons: !!fc.polygons };
        // Markers added halfway through a zoom animation land in the wrong place: wait for it.
        if (map._animatingZoom) map.once("zoomend", function () { render(map, lay); });
        else render(map, lay);
      })
      .catch(function (e) {
        if (e.name === "AbortError") return;
        lay.pending = null;
        setStatus(map, "error");
      });
  }

  function cases(map, o) {
    var st = state(map);
    var lay = { o: o, kinds: {}, drawn: { cases: 0, markers: 0, polygons: 0, bubbles: 0 }, timing: {} };
    Object.keys(st.o.shapes).forEach(function (kind) { kindLayer(map, st, lay, kind); });
    lay.bubbles = L.featureGroup().addTo(map);
    map.on("overlayadd overlayremove", function () {
      if (lay.fc && lay.fc.mode === "clusters") render(map, lay);
    });
    st.caseLayers.push(lay);
    if (o.url) {
      var timer = null;
      map.on("moveend", function () {
        clearTimeout(timer);
        timer = setTimeout(function () { load(map, lay); }, 100);
      });
      // A zoom's target view is known when its animation starts: fetch during the animation.
      map.on("zoomanim", function (e) {
        var pixels = map.getPixelBounds(e.center, e.zoom);
        var bounds = L.latLngBounds(map.unproject(pixels.getBottomLeft(), e.zoom),
                                    map.unproject(pixels.getTopRight(), e.zoom));
        load(map, lay, bounds, Math.round(e.zoom));
      });
      load(map, lay);
    } else {
      lay.fc = o.data;
      render(map, lay);
      if (o.fit && o.data.features.length) {
        var all = L.featureGroup(Object.keys(lay.kinds).map(function (k) {
          return L.featureGroup([lay.kinds[k].shapes].concat(lay.kinds[k].cluster.getLayers()));
        }));
        map.fitBounds(all.getBounds(), { maxZoom: 17, padding: [20, 20] });
      }
      map.on("zoomend", function () {
        if (lay.zoomDrawn !== map.getZoom()) render(map, lay);
      });
    }
    return lay;
  }

  function legend(map, o) {
    var c = control("bottomright", "map-legend-box", o.html).addTo(map);
    var details = c.getContainer().querySelector("details");
    if (details && map.getSize().x < 600) details.open = false;  // phones: the map first
    return c;
  }

  /** How many cases the map draws: single markers, polygons, and those inside server clusters. */
  function stats(map) {
    var total = { cases: 0, markers: 0, polygons: 0, bubbles: 0 };
    state(map).caseLayers.forEach(function (lay) {
      Object.keys(total).forEach(function (key) { total[key] += lay.drawn[key]; });
    });
    return total;
  }

  /** How long the last data fetch and drawing took, in ms, per case layer. */
  function timing(map) {
    return state(map).caseLayers.map(function (lay) { return lay.timing; });
  }

  /** The marker or polygon of a case id, if drawn. */
  function find(map, id) {
    var found = null;
    state(map).caseLayers.forEach(function (lay) {
      Object.keys(lay.kinds).forEach(function (kind) {
        var k = lay.kinds[kind];
        k.cluster.getLayers().concat(k.shapes.getLayers()).forEach(function (l) {
          if (l.options.caseId === id) found = { layer: l, cluster: k.cluster };
        });
      });
    });
    return found;
  }

  /** Show a case: zoom to it if it sits in a cluster, then open its popup. */
  function open(map, id) {
    var hit = find(map, id);
    if (!hit) return false;
    if (hit.layer instanceof L.Marker) hit.cluster.zoomToShowLayer(hit.layer, function () { hit.layer.openPopup(); });
    else hit.layer.openPopup();
    return true;
  }

  global.MapApp = {
    setup: setup,
    cells: cells,
    outline: outline,
    cases: cases,
    legend: legend,
    stats: stats,
    timing: timing,
    find: find,
    open: open,
    toWgs84: toWgs84,
    fromWgs84: fromWgs84,
    gcj02: { fromWgs84: wgs84ToGcj02, toWgs84: gcj02ToWgs84 }
  };
})(window);
