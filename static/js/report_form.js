/* 网格巡查 report form: a fresh client id, the photo's GPS as a suggestion, and a submit that
 * never loses the report: it is put in the outbox first, sent, and kept there while offline.
 * A refused report stays in the outbox (marked refused) while the server's page shows why; that
 * page, with the same client id, takes its photos and file back from the outbox. */
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
    restoreRefused(form);
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
      // Too large: the form still holds everything; fewer or smaller photos are needed.
      if (result.code === 'too_large') {
        return Outbox.remove(record.id).then(function () { say(result.message || i18n.tooLarge, true); release(); });
      }
      // Refused (422, 400): keep the record (files too) and show the server's own page with the reason
      // and the text values kept; that page puts the files back (restoreRefused). The client id stays.
      record.status = 'refused';
      record.message = result.message;
      return Outbox.put(record).then(function () {
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
    map.clearPreview(); // the photo list empties itself on the reset (photo_picker.js)
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

  /* Offer the first chosen JPEG's GPS position as the location (photo_picker.js lists the photos, and
   * puts the camera's into this input). */
  function setupPhotos(form, map, i18n) {
    var input = form.elements.photos;
    var offer = document.getElementById('photo-gps');
    if (!input || input instanceof RadioNodeList) return;
    input.addEventListener('change', function () {
      var files = Array.prototype.slice.call(input.files);
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

  /* Files put back from the outbox: list the photos as if just chosen. */
  function filesBack(form, restored) {
    if (restored.indexOf('photos') >= 0) form.elements.photos.dispatchEvent(new Event('change'));
  }

  /* Opened from the outbox list (#outbox=<id>): put a refused report back in the form to fix it. */
  function restoreFromOutbox(form, map, i18n) {
    var match = /#outbox=([^&]+)/.exec(root.location.hash);
    if (!match) return;
    Outbox.get(decodeURIComponent(match[1])).then(function (record) {
      if (!record || !Outbox.isMine(record)) return;
      record.fields.forEach(function (f) {
        var el = form.elements[f[0]];
        if (el && f[0] !== 'csrf_token' && !(el instanceof RadioNodeList)) el.value = f[1];
      });
      filesBack(form, Outbox.restoreFiles(form, record));
      form.dataset.fresh = '0';
      var status = document.getElementById('submit-status');
      status.textContent = i18n.refused + (record.message || '');
      status.className = 'submit-status error';
      map.preview(true);
      return Outbox.render();
    }).catch(function () { /* no outbox here */ });
  }

  /* The server's page of a refused report (same client id): the text values are the server's,
   * the photos and the file come back from the outbox record into their own (empty) inputs. */
  function restoreRefused(form) {
    if (form.dataset.fresh !== '0' || /#outbox=/.test(root.location.hash)) return;
    Outbox.get(form.elements.client_id.value).then(function (record) {
      if (!record || record.status !== 'refused' || !Outbox.isMine(record)) return;
      var empty = Array.prototype.every.call(form.querySelectorAll('input[type=file]'), function (input) {
        return !input.files.length;
      });
      if (empty) filesBack(form, Outbox.restoreFiles(form, record));
    }).catch(function () { /* no outbox here */ });
  }

  document.addEventListener('DOMContentLoaded', init);
})(window);
