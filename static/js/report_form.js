/* 网格巡查 report form: a fresh client id, the photo's GPS as a suggestion, and a submit that
 * never loses the report: it is put in the outbox first, sent, and kept there while offline. */
(function (root) {
  'use strict';
  var G = root.ReportGeo, Outbox = root.ReportOutbox;

  function init() {
    var form = document.getElementById('report-form');
    if (!form) return;
    var i18n = JSON.parse(document.getElementById('report-i18n').textContent);
    var map = root.reportMap = new root.ReportMap(form, i18n); // reachable from the console and tests
    var status = document.getElementById('submit-status');
    var button = form.querySelector('button[type=submit]');
    var busy = false;

    // A page served again from the cache carries an old id: every fresh form gets its own.
    if (form.dataset.fresh === '1') form.elements.client_id.value = G.uuid4();

    function say(message, isError) {
      status.textContent = message;
      status.className = 'submit-status' + (isError ? ' error' : '');
    }

    function release() { busy = false; button.disabled = false; }

    setupSource(form);
    setupPhotos(form, map, i18n);
    restoreFromOutbox(form, map, i18n);
    root.addEventListener('pageshow', function (e) { if (e.persisted) { release(); say(''); } });

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (busy) return; // a double tap sends once
      if (form.dataset.geometryInvalid) { say(i18n.fixLocation, true); return; }
      var max = +form.dataset.maxBytes || 0, size = photoBytes(form);
      if (max && size > max * 0.95) { say(i18n.tooLarge, true); return; }
      busy = true;
      button.disabled = true;
      say(i18n.sending);
      var record = Outbox.fromForm(form);
      Outbox.put(record).then(function () {
        return Outbox.send(record).then(function (result) { return handle(record, result); });
      }, function () {
        form.submit(); // no IndexedDB (private mode): plain post, the server is still idempotent
      });
    });

    function handle(record, result) {
      if (result.type === 'created') {
        return Outbox.remove(record.id).then(function () { root.location.assign(result.url); });
      }
      if (result.type === 'offline') {
        say(i18n.queued);
        resetForNext(form, map);
        release();
        return Outbox.render();
      }
      if (result.type === 'login') {
        say(i18n.needLogin, true);
        release();
        return Outbox.render();
      }
      // Refused (422, 400, 413): show the server's own page with the reason and the values kept.
      return Outbox.remove(record.id).then(function () {
        if (result.code === 'too_large') { say(result.message || i18n.tooLarge, true); release(); return; }
        say(result.message, true);
        return Outbox.freshToken().then(function (token) {
          if (token) form.elements.csrf_token.value = token;
          form.submit();
        });
      });
    }
  }

  function photoBytes(form) {
    var total = 0;
    Array.prototype.forEach.call(form.querySelectorAll('input[type=file]'), function (input) {
      Array.prototype.forEach.call(input.files || [], function (f) { total += f.size; });
    });
    return total;
  }

  /* After a report is queued offline, clear the form for the next one with a new client id. */
  function resetForNext(form, map) {
    var keep = { csrf_token: form.elements.csrf_token.value, source: form.elements.source.value };
    form.reset();
    form.elements.csrf_token.value = keep.csrf_token;
    form.elements.source.value = keep.source;
    form.elements.client_id.value = G.uuid4();
    map.setText('', 'EPSG:4326');
    if (map.shapes) map.shapes.clearLayers();
    map.clearPreview();
    var list = document.getElementById('photo-list');
    if (list) list.textContent = '';
    document.getElementById('photo-gps').hidden = true;
  }

  /* 文号 and 批次 matter for cases assigned by superiors; hide them otherwise (shown without JS). */
  function setupSource(form) {
    var source = form.elements.source;
    var rows = form.querySelectorAll('[data-when-source]');
    function toggle() {
      Array.prototype.forEach.call(rows, function (row) {
        var hasValue = Array.prototype.some.call(row.querySelectorAll('input'), function (i) { return i.value; });
        row.hidden = row.dataset.whenSource !== source.value && !hasValue;
      });
    }
    source.addEventListener('change', toggle);
    toggle();
  }

  /* List the chosen photos; offer the first JPEG's GPS position as the location. */
  function setupPhotos(form, map, i18n) {
    var input = form.elements.photos, list = document.getElementById('photo-list');
    var offer = document.getElementById('photo-gps');
    if (!input) return;
    input.addEventListener('change', function () {
      var files = Array.prototype.slice.call(input.files);
      list.textContent = files.map(function (f) { return f.name + ' (' + (f.size / 1048576).toFixed(1) + ' MB)'; }).join('、');
      offer.hidden = true;
      if (!files.length || !files[0].slice) return;
      files[0].slice(0, 262144).arrayBuffer().then(function (buffer) {
        var gps = G.exifGps(buffer);
        if (!gps) return;
        offer.hidden = false;
        offer.textContent = i18n.usePhotoGps.replace('{s}', gps.lon.toFixed(6) + ', ' + gps.lat.toFixed(6));
        offer.onclick = function () { map.usePoint(gps.lon, gps.lat, null); offer.hidden = true; };
      });
    });
  }

  /* Opened from the outbox list (#outbox=<id>): put a refused report back in the form to fix it. */
  function restoreFromOutbox(form, map, i18n) {
    var match = /#outbox=([^&]+)/.exec(root.location.hash);
    if (!match) return;
    Outbox.get(decodeURIComponent(match[1])).then(function (record) {
      if (!record) return;
      record.fields.forEach(function (f) {
        var el = form.elements[f[0]];
        if (el && f[0] !== 'csrf_token' && !(el instanceof RadioNodeList)) el.value = f[1];
      });
      if (root.DataTransfer && record.files.length) {
        var dt = new DataTransfer();
        record.files.forEach(function (f) { dt.items.add(new File([f.blob], f.name, { type: f.type })); });
        form.elements.photos.files = dt.files;
      }
      form.dataset.fresh = '0';
      var status = document.getElementById('submit-status');
      status.textContent = i18n.refused + (record.message || '');
      status.className = 'submit-status error';
      map.preview(true);
    });
  }

  document.addEventListener('DOMContentLoaded', init);
})(window);
