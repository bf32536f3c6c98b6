/* 网格巡查 report form: the map (Leaflet + leaflet-draw), my location, and the location preview.
 * The geometry field holds text in the system named by the crs field: drawn shapes are in the
 * basemap's system (GCJ02 on 高德), "my location" and photo GPS are WGS-84 (EPSG:4326). Text typed or
 * pasted by hand after a drawing is read as WGS-84 again (with a notice), unless the user chose the crs. */
(function (root) {
  'use strict';
  var G = root.ReportGeo;

  function ReportMap(form, i18n) {
    this.form = form;
    this.i18n = i18n;
    this.kind = form.dataset.kind;
    this.lang = form.dataset.lang;
    this.basemap = JSON.parse(form.dataset.basemap || '{}');
    this.gcj = this.basemap.shift === 'gcj02';
    this.crsName = this.gcj ? 'GCJ02' : 'EPSG:4326'; // the system drawn points are in
    this.text = form.elements.geometry;
    this.crs = form.elements.crs;
    this.crsNote = document.getElementById('crs-note');
    this.crsByDrawing = false; // the crs select holds the drawing's system, not the user's choice
    this.areaBox = document.getElementById('draw-area');
    this.previewBox = document.getElementById('preview');
    this.locateBox = document.getElementById('locate-status');
    this.pickBox = document.getElementById('feature-pick');
    this.invalid = false;
    this.previewSeq = 0;
    this.drawing = null;
    this.setupMap();
    this.setupText();
    this.setupFile();
    this.setupLocate();
    if (this.text.value.trim()) this.preview(true);
  }

  /* [lon, lat] WGS-84 → the map's display system (GCJ-02 on 高德 tiles). */
  ReportMap.prototype.toDisplay = function (c) {
    return this.gcj ? G.wgs84ToGcj02(c[0], c[1]) : [c[0], c[1]];
  };

  ReportMap.prototype.latLng = function (c) {
    var d = this.toDisplay(c);
    return L.latLng(d[1], d[0]);
  };

  ReportMap.prototype.setupMap = function () {
    var self = this, el = document.getElementById('report-map');
    if (!el || !root.L) return;
    var map = this.map = L.map(el, { zoomControl: true, maxZoom: this.basemap.maxZoom || 19 });
    root.ReportGeo.addBasemap(map, this.basemap);
    L.control.scale({ imperial: false }).addTo(map);
    var b = JSON.parse(el.dataset.bounds || 'null');
    if (b) map.fitBounds(L.latLngBounds(this.latLng([b[0], b[1]]), this.latLng([b[2], b[3]])));
    else map.setView([30, 113], 12);
    this.gridLayer = L.geoJSON(null, {
      coordsToLatLng: function (c) { return self.latLng(c); },
      style: function (f) {
        return f.properties.level === 'village'
          ? { color: '#1f6feb', weight: 2.5, fill: false }
          : { color: '#5b6573', weight: 1, dashArray: '4 3', fill: false };
      },
      interactive: false
    }).addTo(map);
    fetch(el.dataset.gridUrl, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) self.gridLayer.addData(data); })
      .catch(function () { /* offline: no grid outlines */ });
    this.shapes = new L.FeatureGroup().addTo(map);
    this.setupDraw();
  };

  ReportMap.prototype.setupDraw = function () {
    var self = this, map = this.map, t = this.i18n.draw || {};
    if (!L.Control.Draw) return;
    if (t.polygon) { // leaflet-draw's own words, in the UI language
      var d = L.drawLocal.draw;
      d.toolbar.buttons.polygon = t.polygon;
      d.toolbar.buttons.marker = t.marker;
      d.toolbar.actions = { title: t.cancel, text: t.cancel };
      d.toolbar.finish = { title: t.finish, text: t.finish };
      d.toolbar.undo = { title: t.undo, text: t.undo };
      d.handlers.polygon.tooltip = { start: t.start, cont: t.cont, end: t.end };
      d.handlers.polygon.error = t.crossing;
      d.handlers.marker.tooltip.start = t.markerStart;
      var e = L.drawLocal.edit;
      e.toolbar.buttons = { edit: t.edit, editDisabled: t.edit, remove: t.remove, removeDisabled: t.remove };
      e.toolbar.actions.save = { title: t.save, text: t.save };
      e.toolbar.actions.cancel = { title: t.cancel, text: t.cancel };
      e.toolbar.actions.clearAll = { title: t.clear, text: t.clear };
    }
    map.addControl(new L.Control.Draw({
      position: 'topleft',
      draw: {
        polygon: { allowIntersection: false, showArea: false, shapeOptions: { color: '#d9480f', weight: 3 } },
        marker: this.kind === 'farmland' ? false : {},
        polyline: false, rectangle: false, circle: false, circlemarker: false
      },
      edit: { featureGroup: this.shapes, remove: true }
    }));
    map.on(L.Draw.Event.DRAWSTART, function () { self.drawing = []; self.showLiveArea([]); });
    map.on(L.Draw.Event.DRAWSTOP, function () { self.drawing = null; });
    map.on(L.Draw.Event.DRAWVERTEX, function (e) {
      self.drawing = e.layers.getLayers().map(function (m) { var p = m.getLatLng(); return [p.lng, p.lat]; });
      self.showLiveArea(self.drawing);
    });
    map.on('mousemove', function (e) {
      if (self.drawing && self.drawing.length >= 2) self.showLiveArea(self.drawing.concat([[e.latlng.lng, e.latlng.lat]]));
    });
    map.on(L.Draw.Event.CREATED, function (e) {
      self.shapes.clearLayers();
      self.shapes.addLayer(e.layer);
      self.useDrawn();
    });
    map.on(L.Draw.Event.EDITED, function () { self.useDrawn(); });
    map.on(L.Draw.Event.DELETED, function () {
      if (!self.shapes.getLayers().length) { self.setText('', 'EPSG:4326'); self.clearPreview(); }
    });
  };

  ReportMap.prototype.showLiveArea = function (ring) {
    if (!this.areaBox) return;
    this.areaBox.textContent = ring.length >= 3
      ? this.i18n.area + G.formatArea(G.ringAreaM2(ring), this.lang)
      : this.i18n.drawHint;
  };

  /* Take the drawn layer as the location: check it does not cross itself, then preview it. */
  ReportMap.prototype.useDrawn = function () {
    var layer = this.shapes.getLayers()[0];
    if (!layer) return;
    var geometry = layer.toGeoJSON(8).geometry;
    this.setText(JSON.stringify(geometry), this.crsName);
    if (geometry.type === 'Polygon') {
      var crossing = G.selfIntersection(geometry.coordinates[0]);
      if (crossing) {
        this.setInvalid(this.i18n.crossing + ' (' + crossing[0].toFixed(6) + ', ' + crossing[1].toFixed(6) + ')');
        return;
      }
      this.areaBox.textContent = this.i18n.area + G.formatArea(G.geometryAreaM2(geometry), this.lang);
    } else if (this.areaBox) {
      this.areaBox.textContent = '';
    }
    this.preview(false);
  };

  ReportMap.prototype.setText = function (text, crs) {
    this.text.value = text;
    if (this.crs) this.crs.value = crs;
    this.crsByDrawing = crs !== 'EPSG:4326';
    this.showCrsNote(false);
  };

  ReportMap.prototype.showCrsNote = function (show) {
    if (!this.crsNote) return;
    this.crsNote.hidden = !show;
    this.crsNote.textContent = show ? this.i18n.crsReset || '' : '';
  };

  ReportMap.prototype.setInvalid = function (message) {
    this.invalid = !!message;
    this.form.dataset.geometryInvalid = message ? '1' : '';
    this.showPreview(message, 'error');
    this.showSimilar([]);
  };

  ReportMap.prototype.clearPreview = function () {
    this.invalid = false;
    this.form.dataset.geometryInvalid = '';
    this.showPreview('', '');
    this.showSimilar([]);
    if (this.areaBox) this.areaBox.textContent = '';
  };

  /* state: '' (nothing to say), 'busy', 'ok' (placed) or 'error' (refused). */
  ReportMap.prototype.showPreview = function (message, state) {
    if (!this.previewBox) return;
    this.previewBox.textContent = message;
    this.previewBox.className = 'preview' + (state ? ' ' + state : '');
  };

  /* List the cases on the same ground (possible duplicates), each a link to its page; none: hidden. */
  ReportMap.prototype.showSimilar = function (cases) {
    var box = document.getElementById('similar');
    if (!box) return;
    var list = box.querySelector('ul');
    list.textContent = '';
    box.querySelector('p').textContent = this.i18n.similar;
    var i18n = this.i18n;
    cases.forEach(function (c) {
      var item = document.createElement('li'), link = document.createElement('a');
      link.href = c.url;
      link.textContent = '#' + c.id + ' ' + c.title;
      item.appendChild(link);
      item.appendChild(document.createTextNode(' · ' + c.status + ' · ' + c.found_on));
      if (c.closed) {  // closed: the reporter may say the problem is back (复发) instead of a new case
        var label = document.createElement('label'), box = document.createElement('input');
        box.type = 'checkbox';
        box.name = 'recurrence_of';
        box.value = c.id;
        box.className = 'recurrence-of';
        box.addEventListener('change', function () {
          list.querySelectorAll('input.recurrence-of').forEach(function (other) {
            if (other !== box) other.checked = false;
          });
        });
        label.appendChild(box);
        label.appendChild(document.createTextNode(' ' + i18n.recurrence));
        item.appendChild(document.createElement('br'));
        item.appendChild(label);
      }
      list.appendChild(item);
    });
    box.hidden = !cases.length;
  };

  /* Draw a WGS-84 GeoJSON geometry (from the server) on the map in the display system. */
  ReportMap.prototype.showGeometry = function (geometry, accuracyM) {
    if (!this.map) return;
    var self = this;
    this.shapes.clearLayers();
    L.geoJSON(geometry, {
      coordsToLatLng: function (c) { return self.latLng(c); },
      style: { color: '#d9480f', weight: 3 }
    }).eachLayer(function (layer) { self.shapes.addLayer(layer); });
    if (accuracyM && geometry.type === 'Point') {
      L.circle(this.latLng(geometry.coordinates), { radius: accuracyM, weight: 1, interactive: false }).addTo(this.shapes);
    }
    var bounds = this.shapes.getBounds();
    if (bounds.isValid()) this.map.fitBounds(bounds, { maxZoom: 18, padding: [20, 20] });
  };

  /* Ask the server where the location falls; show 村/组, 网格员 and area, or the reason it is refused. */
  ReportMap.prototype.preview = function (draw, extra) {
    var self = this, seq = ++this.previewSeq;
    var body = new FormData();
    body.append('csrf_token', this.form.elements.csrf_token.value);
    body.append('kind', this.kind);
    if (extra) Object.keys(extra).forEach(function (k) { body.append(k, extra[k]); });
    else {
      if (!this.text.value.trim()) { this.clearPreview(); return Promise.resolve(null); }
      body.append('geometry', this.text.value);
      body.append('crs', this.crs ? this.crs.value : 'EPSG:4326');
    }
    this.showPreview(this.i18n.checking, 'busy');
    var ask = function (retried) {
      return fetch(self.form.dataset.previewUrl, { method: 'POST', body: body, credentials: 'same-origin' })
        .then(function (r) { return r.json().catch(function () { return { ok: false, message: 'HTTP ' + r.status }; }); })
        .then(function (data) {
          // A page kept offline carries an old token: take a fresh one and ask once more.
          if (data.ok || data.code !== 'csrf' || retried || !root.ReportOutbox) return data;
          return root.ReportOutbox.freshToken().then(function (token) {
            if (!token) return data;
            self.form.elements.csrf_token.value = token;
            body.set('csrf_token', token);
            return ask(true);
          });
        });
    };
    return ask(false)
      .then(function (data) {
        if (seq !== self.previewSeq) return null;
        if (data.choose) { self.offerFeatures(data.features); return data; }
        if (!data.ok) { self.setInvalid(data.message); return data; }
        self.invalid = false;
        self.form.dataset.geometryInvalid = '';
        if (extra) self.setText(data.text, data.crs);
        if (draw || extra) self.showGeometry(data.geometry);
        var parts = [self.i18n.fallsIn + (data.village || '') + ' ' + (data.group || '')];
        parts.push(data.responsible
          ? self.i18n.responsible + data.responsible.name + (data.responsible.phone ? ' ' + data.responsible.phone : '')
          : self.i18n.noResponsible);
        if (data.area_m2 != null) parts.push(self.i18n.area + G.formatArea(data.area_m2, self.lang));
        self.showPreview(parts.join(' · '), 'ok');
        self.showSimilar(data.similar || []);
        return data;
      })
      .catch(function () {
        if (seq === self.previewSeq) self.showPreview(self.i18n.previewOffline, 'busy');
        return null;
      });
  };

  ReportMap.prototype.setupText = function () {
    var self = this, timer = null;
    var again = function () { clearTimeout(timer); timer = setTimeout(function () { self.preview(true); }, 600); };
    this.text.addEventListener('input', function () {
      // Typed or pasted by hand: no longer the drawing's GCJ-02 points but (by default) WGS-84 ones.
      if (self.crsByDrawing && self.crs && self.crs.value !== 'EPSG:4326') {
        self.crs.value = 'EPSG:4326';
        self.showCrsNote(true);
      }
      self.crsByDrawing = false;
      again();
    });
    if (this.crs) {
      this.crs.addEventListener('change', function () { self.crsByDrawing = false; self.showCrsNote(false); again(); });
    }
  };

  /* A vector file: the server reads it; one feature is taken, several are offered to pick from. */
  ReportMap.prototype.setupFile = function () {
    var self = this, input = this.form.elements.geofile;
    if (!input) return;
    input.addEventListener('change', function () {
      if (!input.files.length) return;
      self.preview(true, { geofile: input.files[0] }).then(function (data) {
        if (data && data.ok && !data.choose) input.value = ''; // its geometry is in the text now
      });
    });
  };

  ReportMap.prototype.offerFeatures = function (features) {
    var self = this, box = this.pickBox;
    if (!box) return;
    box.innerHTML = '';
    box.hidden = false;
    var p = document.createElement('p');
    p.textContent = this.i18n.pickFeature;
    box.appendChild(p);
    features.forEach(function (f) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'pick';
      b.textContent = f.label + ' (' + f.geom_type + ')';
      b.addEventListener('click', function () {
        box.hidden = true;
        if (self.form.elements.geofile) self.form.elements.geofile.value = '';
        self.preview(true, { geometry_pick: f.geojson });
      });
      box.appendChild(b);
    });
    this.showPreview(this.i18n.pickFeature, 'busy');
  };

  ReportMap.prototype.setupLocate = function () {
    var self = this, button = document.getElementById('locate');
    if (!button) return;
    button.addEventListener('click', function () {
      if (!navigator.geolocation) { self.locateBox.textContent = self.i18n.noGeolocation; return; }
      self.locateBox.textContent = self.i18n.locating;
      navigator.geolocation.getCurrentPosition(function (pos) {
        var c = pos.coords;
        self.usePoint(c.longitude, c.latitude, c.accuracy);
      }, function (err) {
        self.locateBox.textContent = err.code === 1 ? self.i18n.locateDenied : self.i18n.locateFailed;
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
    });
  };

  /* A WGS-84 point (my location or a photo's GPS): the location itself, or for a parcel the map centre. */
  ReportMap.prototype.usePoint = function (lon, lat, accuracyM) {
    if (accuracyM != null && this.locateBox) {
      this.locateBox.textContent = this.i18n.accuracy.replace('{n}', Math.round(accuracyM)) +
        (accuracyM > 100 ? ' ' + this.i18n.poorAccuracy : '');
    }
    if (this.kind === 'farmland') {
      if (this.map) this.map.setView(this.latLng([lon, lat]), 18);
      if (this.locateBox) this.locateBox.textContent += ' ' + this.i18n.drawParcel;
      return;
    }
    this.setText(lon.toFixed(7) + ',' + lat.toFixed(7), 'EPSG:4326');
    this.showGeometry({ type: 'Point', coordinates: [lon, lat] }, accuracyM);
    this.preview(false);
  };

  root.ReportMap = ReportMap;
})(window);
