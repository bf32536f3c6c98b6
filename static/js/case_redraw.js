/* 网格巡查 case page: redraw a farmland parcel when its restoration is reported or accepted.
 * The form posts accepted_geometry as text in the system named by accepted_crs: shapes drawn or
 * edited here are GeoJSON in the basemap's system (GCJ02 on 高德, else EPSG:4326); pasted WKT or
 * GeoJSON is sent as typed. The server reads it with the report form's parser and measures it. */
(function (root) {
  'use strict';
  var G = root.ReportGeo;
  var STYLE = { color: '#d9480f', weight: 3 };
  var REFERENCE = { color: '#5b6573', weight: 2, dashArray: '6 4', fill: false, interactive: false };

  function Redraw(box, i18n) {
    this.box = box;
    this.i18n = i18n;
    this.form = box.closest('form');
    this.lang = document.documentElement.lang === 'en' ? 'en' : 'zh';
    this.basemap = JSON.parse(box.dataset.basemap || '{}');
    this.original = JSON.parse(box.dataset.geometry);
    this.gcj = this.basemap.shift === 'gcj02';
    this.crsName = this.gcj ? 'GCJ02' : 'EPSG:4326';
    this.text = this.form.elements.accepted_geometry;
    this.crs = this.form.elements.accepted_crs;
    this.areaBox = box.querySelector('.redraw-area');
    this.statusBox = box.querySelector('.redraw-status');
    this.seq = 0;
    this.layer = null;
    this.drawer = null;
    this.setupText();
    this.setupButtons();
    this.setupSubmit();
  }

  Redraw.prototype.latLng = function (c) {
    var d = this.gcj ? G.wgs84ToGcj02(c[0], c[1]) : c;
    return L.latLng(d[1], d[0]);
  };

  /* Build the map once its container can be measured (the action's <details> may start closed). */
  Redraw.prototype.ensureMap = function () {
    if (this.map) { this.map.invalidateSize(); return; }
    var self = this, el = this.box.querySelector('.redraw-map');
    var map = this.map = L.map(el, { maxZoom: this.basemap.maxZoom || 19 });
    G.addBasemap(map, this.basemap);
    L.control.scale({ imperial: false }).addTo(map);
    var toLatLng = function (c) { return self.latLng(c); };
    var reference = L.geoJSON(this.original, { coordsToLatLng: toLatLng, style: REFERENCE }).addTo(map);
    this.shapes = new L.FeatureGroup().addTo(map);
    map.fitBounds(reference.getBounds(), { maxZoom: 18, padding: [20, 20] });
    this.localiseDraw();
    map.on(L.Draw.Event.DRAWVERTEX, function (e) {
      self.drawing = e.layers.getLayers().map(function (m) { var p = m.getLatLng(); return [p.lng, p.lat]; });
      self.showArea(G.ringAreaM2(self.drawing), self.drawing.length < 3);
    });
    map.on('mousemove', function (e) {
      if (self.drawer && self.drawing && self.drawing.length >= 2) {
        self.showArea(G.ringAreaM2(self.drawing.concat([[e.latlng.lng, e.latlng.lat]])));
      }
    });
    map.on(L.Draw.Event.CREATED, function (e) {
      self.drawer = self.drawing = null;
      self.setLayer(e.layer);
      self.edit();
      self.useLayer();
    });
    map.on(L.Draw.Event.DRAWSTOP, function () { self.drawer = self.drawing = null; });
    var text = this.text.value.trim();
    if (text) this.preview(text, this.crs.value, true);
    else this.showGeometry(this.original);
  };

  Redraw.prototype.localiseDraw = function () {
    var t = this.i18n.draw || {}, d = L.drawLocal.draw;
    if (!t.cancel) return;
    d.toolbar.actions = { title: t.cancel, text: t.cancel };
    d.toolbar.finish = { title: t.finish, text: t.finish };
    d.toolbar.undo = { title: t.undo, text: t.undo };
    d.handlers.polygon.tooltip = { start: t.start, cont: t.cont, end: t.end };
    d.handlers.polygon.error = t.crossing;
  };

  /* Put a WGS-84 GeoJSON geometry on the map, in the display system, as the parcel to edit. */
  Redraw.prototype.showGeometry = function (geometry) {
    var self = this, layer = null;
    L.geoJSON(geometry, {
      coordsToLatLng: function (c) { return self.latLng(c); }, style: STYLE
    }).eachLayer(function (l) { if (!layer) layer = l; });
    if (layer) this.setLayer(layer);
  };

  Redraw.prototype.setLayer = function (layer) {
    var self = this;
    if (this.layer && this.layer.editing) this.layer.editing.disable();
    this.shapes.clearLayers();
    layer.setStyle(STYLE);
    layer.options.poly = { allowIntersection: false }; // leaflet-draw refuses a crossing drag
    // What leaflet-draw's edit toolbar would set: the styles while editing and after.
    layer.options.original = L.extend({}, STYLE);
    layer.options.editing = L.extend({}, STYLE, { dashArray: '8 6', fillOpacity: 0.15 });
    layer.on('editdrag', function () { self.showArea(G.geometryAreaM2(layer.toGeoJSON(8).geometry)); });
    layer.on('edit', function () { self.useLayer(); });
    this.shapes.addLayer(layer);
    this.layer = layer;
  };

  Redraw.prototype.edit = function () {
    if (!this.layer || !this.layer.editing) return;
    this.layer.editing.enable();
    this.say(this.i18n.editing, '');
  };

  Redraw.prototype.draw = function () {
    if (this.layer && this.layer.editing) this.layer.editing.disable();
    if (this.drawer) this.drawer.disable();
    this.drawer = new L.Draw.Polygon(this.map, {
      allowIntersection: false, showArea: false, shapeOptions: STYLE
    });
    this.drawer.enable();
    this.say(this.i18n.drawHint, '');
  };

  Redraw.prototype.reset = function () {
    if (this.drawer) this.drawer.disable();
    this.text.value = '';
    this.crs.value = 'EPSG:4326';
    this.showGeometry(this.original);
    this.setInvalid('');
    this.say('', '');
    this.areaBox.textContent = this.areaBox.dataset.recorded || this.areaBox.textContent;
  };

  /* Take the edited or drawn shape as the accepted parcel: text for the form, area, server check. */
  Redraw.prototype.useLayer = function () {
    var geometry = this.layer.toGeoJSON(8).geometry;
    this.text.value = JSON.stringify(geometry);
    this.crs.value = this.crsName;
    var rings = geometry.type === 'Polygon' ? [geometry.coordinates[0]]
      : geometry.coordinates.map(function (p) { return p[0]; });
    for (var i = 0; i < rings.length; i++) {
      var crossing = G.selfIntersection(rings[i]);
      if (crossing) {
        this.setInvalid(this.i18n.crossing + ' (' + crossing[0].toFixed(6) + ', ' + crossing[1].toFixed(6) + ')');
        return;
      }
    }
    this.showArea(G.geometryAreaM2(geometry));
    this.preview(this.text.value, this.crs.value, false);
  };

  Redraw.prototype.showArea = function (m2, hint) {
    this.areaBox.textContent = hint ? this.i18n.drawHint : this.i18n.area + G.formatArea(m2, this.lang);
  };

  Redraw.prototype.say = function (message, state) {
    this.statusBox.textContent = message;
    this.statusBox.className = 'preview redraw-status' + (state ? ' ' + state : '');
  };

  Redraw.prototype.setInvalid = function (message) {
    this.box.dataset.invalid = message ? '1' : '';
    if (message) this.say(message, 'error');
  };

  /* Ask the server (the report form's preview) to read the parcel: its area and 村/组, or why not. */
  Redraw.prototype.preview = function (text, crs, draw) {
    var self = this, seq = ++this.seq, body = new FormData();
    body.append('csrf_token', this.form.elements.csrf_token.value);
    body.append('kind', 'farmland');
    body.append('geometry', text);
    body.append('crs', crs);
    this.say(this.i18n.checking, 'busy');
    return fetch(this.box.dataset.previewUrl, { method: 'POST', body: body, credentials: 'same-origin' })
      .then(function (r) { return r.json().catch(function () { return { ok: false, message: 'HTTP ' + r.status }; }); })
      .then(function (data) {
        if (seq !== self.seq) return;
        if (!data.ok) { self.setInvalid(data.message); return; }
        self.setInvalid('');
        if (draw) {
          self.showGeometry(data.geometry);
          if (self.map) self.map.fitBounds(self.shapes.getBounds(), { maxZoom: 18, padding: [20, 20] });
        }
        self.showArea(data.area_m2 || 0);
        self.say(self.i18n.fallsIn + (data.village || '') + ' ' + (data.group || '') + ' · ' +
          self.i18n.area + G.formatArea(data.area_m2 || 0, self.lang), 'ok');
      })
      .catch(function () { if (seq === self.seq) self.say(self.i18n.offline, 'busy'); });
  };

  Redraw.prototype.setupText = function () {
    var self = this, timer = null;
    var again = function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = self.text.value.trim();
        if (!text) { self.ensureMap(); self.reset(); return; }
        self.ensureMap();
        self.preview(text, self.crs.value, true);
      }, 600);
    };
    this.text.addEventListener('input', again);
    this.crs.addEventListener('change', again);
  };

  Redraw.prototype.setupButtons = function () {
    var self = this;
    this.areaBox.dataset.recorded = this.areaBox.textContent;
    var on = function (cls, fn) {
      self.box.querySelector(cls).addEventListener('click', function () { self.ensureMap(); fn.call(self); });
    };
    on('.redraw-edit', this.edit);
    on('.redraw-draw', this.draw);
    on('.redraw-reset', this.reset);
    var details = this.box.closest('details');
    if (!details || details.open) this.ensureMap();
    else details.addEventListener('toggle', function () { if (details.open) self.ensureMap(); });
  };

  Redraw.prototype.setupSubmit = function () {
    var self = this;
    this.form.addEventListener('submit', function (e) {
      if (self.box.dataset.invalid) {
        e.preventDefault();
        self.say(self.i18n.fix, 'error');
      }
    });
  };

  document.addEventListener('DOMContentLoaded', function () {
    var data = document.getElementById('redraw-i18n');
    if (!root.L || !L.Draw || !data) return;
    var i18n = JSON.parse(data.textContent);
    root.caseRedraws = Array.prototype.map.call(document.querySelectorAll('fieldset.redraw'), function (box) {
      return new Redraw(box, i18n); // reachable from the console and tests
    });
  });
})(window);
