/* 网格巡查: the phone's patrol page. 开始巡查 makes the patrol's client id and watches the position
 * (Geolocation watchPosition, with accuracy); every fix goes into IndexedDB at once, so a lost
 * network or a reload loses nothing. Fixes are cut into batches with client ids
 * (<patrol id>:<number>), each batch written to IndexedDB before it is sent and deleted only
 * when the server has answered: a batch sent again after a timeout carries the same id and the
 * server stores it once. 结束巡查 sends what waits, then ends the patrol on the server.
 * The screen is kept on with the Screen Wake Lock API where the browser has it. A phone may be
 * shared: the patrol under way belongs to the user who started it (data-user). */
(function (root) {
  'use strict';
  var DB_NAME = 'wangge-patrol', BATCH_MAX = 500, SEND_MS = 4000;
  var CURRENT_KEY = 'wangge-patrol-current'; // read by the report form (patrol_link.js)
  var panel = document.getElementById('patrol-recorder');
  if (!panel) return;
  var words = JSON.parse(document.getElementById('patrol-words').textContent);
  var user = panel.dataset.user, csrf = panel.dataset.csrf;
  var maxAccuracy = parseFloat(panel.dataset.maxAccuracy), maxSpeed = parseFloat(panel.dataset.maxSpeed) / 3.6;
  var state = null, watchId = null, wakeLock = null, sending = false, lastError = '';
  var $ = function (id) { return document.getElementById(id); };
  var dbPromise = null;

  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      var req = root.indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        db.createObjectStore('state', { keyPath: 'owner' });
        db.createObjectStore('fixes', { autoIncrement: true }).createIndex('patrol', 'patrol');
        db.createObjectStore('batches', { keyPath: 'id' }).createIndex('patrol', 'patrol');
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
    return dbPromise;
  }

  /* Run work(stores) in one transaction over the named stores; resolve when it has committed. */
  function tx(names, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(names, mode), out = {};
        var stores = {};
        names.forEach(function (n) { stores[n] = t.objectStore(n); });
        work(stores, out);
        t.oncomplete = function () { resolve(out.value); };
        t.onerror = t.onabort = function () { reject(t.error); };
      });
    });
  }

  function request(req, out, map) { req.onsuccess = function () { out.value = map ? map(req.result) : req.result; }; }

  function saveState() { return tx(['state'], 'readwrite', function (s) { s.state.put(state); }); }
  function loadState() { return tx(['state'], 'readonly', function (s, out) { request(s.state.get(user), out); }); }

  function uuid() {
    if (root.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 'p' + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }

  /* Metres between two lon/lat points (a sphere: the page's running figure; the server measures on GRS80). */
  function metres(a, b) {
    var r = 6371008.8, rad = Math.PI / 180;
    var dLat = (b[1] - a[1]) * rad, dLon = (b[0] - a[0]) * rad;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * r * Math.asin(Math.min(1, Math.sqrt(h)));
  }

  function pendingCount() {
    if (!state) return Promise.resolve(0);
    return tx(['fixes', 'batches'], 'readonly', function (s, out) {
      var n = 0;
      s.fixes.index('patrol').count(state.clientId).onsuccess = function (e) { n += e.target.result; out.value = n; };
      s.batches.index('patrol').getAll(state.clientId).onsuccess = function (e) {
        e.target.result.forEach(function (b) { n += b.fixes.length; });
        out.value = n;
      };
    });
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function render() {
    var running = !!state && state.status === 'running';
    $('patrol-start').hidden = !!state;
    $('patrol-stop').hidden = !running;
    $('patrol-report').hidden = !running;
    var seconds = state ? Math.max(0, Math.floor(((state.endedAt || Date.now()) - state.startedAt) / 1000)) : 0;
    $('elapsed').textContent = Math.floor(seconds / 3600) + ':' + pad(Math.floor(seconds / 60) % 60) + ':' + pad(seconds % 60);
    $('distance').textContent = ((state ? state.distanceM : 0) / 1000).toFixed(2) + ' km';
    return pendingCount().then(function (n) { $('pending').textContent = String(n || 0); });
  }

  function say(text) { $('record-status').textContent = text || ''; }

  function onFix(position) {
    if (!state || state.status !== 'running') return;
    var c = position.coords;
    var fix = [c.longitude, c.latitude, Math.round(position.timestamp), c.accuracy == null ? null : c.accuracy];
    $('accuracy').textContent = words.accuracy.replace('{m}', Math.round(c.accuracy)) +
      (c.accuracy > maxAccuracy ? ' ' + words.poor : '');
    // The running distance follows the server's rules closely enough to show: good fixes, sane speeds.
    var last = state.lastFix;
    if (c.accuracy <= maxAccuracy && (!last || fix[2] > last[2])) {
      if (last) {
        var d = metres(last, fix);
        if (d <= maxSpeed * (fix[2] - last[2]) / 1000) { state.distanceM += d; state.lastFix = fix; }
      } else {
        state.lastFix = fix;
      }
    }
    tx(['fixes', 'state'], 'readwrite', function (s) {
      s.fixes.add({ patrol: state.clientId, fix: fix });
      s.state.put(state);
    }).then(render);
  }

  function onError(error) {
    if (error && error.code === 1) say(words.denied);
  }

  function watch() {
    if (!navigator.geolocation) { say(words.no_geolocation); return; }
    if (watchId !== null) return;
    say(words.waiting_fix);
    watchId = navigator.geolocation.watchPosition(onFix, onError, { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 });
  }

  function unwatch() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
  }

  function keepScreenOn() {
    if (!('wakeLock' in navigator)) { $('wake-lock').textContent = words.wake_off; return; }
    if (wakeLock || document.visibilityState !== 'visible') return;
    navigator.wakeLock.request('screen').then(function (lock) {
      wakeLock = lock;
      $('wake-lock').textContent = words.wake_on;
      lock.addEventListener('release', function () { wakeLock = null; });
    }).catch(function () { $('wake-lock').textContent = words.wake_off; });
  }

  function letScreenOff() { if (wakeLock) wakeLock.release(); wakeLock = null; $('wake-lock').textContent = ''; }

  /* Move up to BATCH_MAX waiting fixes into a new batch, in one transaction (unless a batch waits already). */
  function makeBatch() {
    return tx(['fixes', 'batches', 'state'], 'readwrite', function (s, out) {
      s.batches.index('patrol').count(state.clientId).onsuccess = function (e) {
        if (e.target.result) { out.value = true; return; }
        var fixes = [], keys = [];
        s.fixes.index('patrol').openCursor(state.clientId).onsuccess = function (ev) {
          var cursor = ev.target.result;
          if (cursor && fixes.length < BATCH_MAX) {
            fixes.push(cursor.value.fix); keys.push(cursor.primaryKey); cursor.continue(); return;
          }
          if (!fixes.length) { out.value = false; return; }
          state.seq = (state.seq || 0) + 1;
          s.batches.put({ id: state.clientId + ':' + state.seq, patrol: state.clientId, fixes: fixes });
          keys.forEach(function (k) { s.fixes.delete(k); });
          s.state.put(state);
          out.value = true;
        };
      };
    });
  }

  function oldestBatch() {
    return tx(['batches'], 'readonly', function (s, out) {
      request(s.batches.index('patrol').getAll(state.clientId), out, function (list) {
        list.sort(function (a, b) { return parseInt(a.id.split(':').pop(), 10) - parseInt(b.id.split(':').pop(), 10); });
        return list[0] || null;
      });
    });
  }

  function freshToken() {
    return fetch(panel.dataset.csrfUrl, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok && !r.redirected ? r.json() : null; })
      .then(function (d) { if (d) csrf = d.csrf_token; return !!d; })
      .catch(function () { return false; });
  }

  /* POST JSON; resolves to {type: ok|offline|login|csrf|refused, data}. */
  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (r.redirected && /\/auth\/login/.test(r.url)) return { type: 'login' };
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (r.ok) return { type: 'ok', data: data };
        if (r.status === 400 && data.code === 'csrf') return { type: 'csrf' };
        if (r.status === 401) return { type: 'login' };
        if (r.status >= 500 || r.status === 409 || r.status === 429 || r.status === 408) return { type: 'offline' };
        return { type: 'refused', status: r.status, data: data };
      });
    }, function () { return { type: 'offline' }; });
  }

  function sendWithToken(url, body, retried) {
    return post(url, body).then(function (result) {
      if (result.type === 'csrf' && !retried) {
        return freshToken().then(function (ok) { return ok ? sendWithToken(url, body, true) : { type: 'login' }; });
      }
      return result;
    });
  }

  function url(template) { return template.replace('__id__', encodeURIComponent(state.clientId)); }

  /* Send every waiting batch, oldest first; then, if the patrol is ending, end it on the server. */
  function flush() {
    if (sending || !state) return Promise.resolve();
    if (navigator.onLine === false) { say(words.offline); return render(); }
    sending = true;
    var step = function () {
      return makeBatch().then(function (has) {
        if (!has) return finish();
        return oldestBatch().then(function (batch) {
          if (!batch) return finish();
          return sendWithToken(url(panel.dataset.batchUrl), { batch_id: batch.id, fixes: batch.fixes }).then(function (result) {
            if (result.type === 'ok' || result.type === 'refused') {
              if (result.type === 'refused') lastError = words.refused + ' ' + ((result.data && result.data.message) || ('HTTP ' + result.status));
              else state.patrolUrl = result.data.url;
              return tx(['batches', 'state'], 'readwrite', function (s) { s.batches.delete(batch.id); s.state.put(state); }).then(render).then(step);
            }
            say(result.type === 'login' ? words.login : words.offline);
            return null;
          });
        });
      });
    };
    return step().then(function () { sending = false; return render(); }, function () { sending = false; });
  }

  function finish() {
    if (state.status !== 'ending') { say(lastError || words.sent); return null; }
    say(words.ending);
    return sendWithToken(url(panel.dataset.endUrl), {}).then(function (result) {
      if (result.type === 'ok' || (result.type === 'refused' && result.status === 404)) {
        var done = result.type === 'ok' ? result.data.url : null;
        return clearPatrol().then(function () {
          say(lastError || (done ? words.ended : words.empty));
          var link = $('patrol-done');
          if (done) { link.querySelector('a').href = done; link.hidden = false; }
        });
      }
      say(result.type === 'login' ? words.login : words.offline);
      return null;
    });
  }

  function clearPatrol() {
    var finished = state;
    state = null;
    try { root.localStorage.removeItem(CURRENT_KEY); } catch (e) { /* private mode */ }
    return tx(['state', 'fixes', 'batches'], 'readwrite', function (s) {
      s.state.delete(finished.owner);
    }).then(render);
  }

  function remember() {
    try { root.localStorage.setItem(CURRENT_KEY, JSON.stringify({ owner: user, clientId: state.clientId })); } catch (e) { /* private mode */ }
  }

  function start() {
    if (!navigator.geolocation) { say(words.no_geolocation); return; }
    state = { owner: user, clientId: uuid(), startedAt: Date.now(), status: 'running', distanceM: 0, lastFix: null, seq: 0 };
    lastError = '';
    $('patrol-done').hidden = true;
    saveState().then(function () { remember(); watch(); keepScreenOn(); render(); });
  }

  function stop() {
    if (!state || !root.confirm(words.confirm_end)) return;
    state.status = 'ending';
    state.endedAt = Date.now();
    unwatch();
    letScreenOff();
    saveState().then(render).then(flush);
  }

  $('patrol-start').addEventListener('click', start);
  $('patrol-stop').addEventListener('click', stop);
  document.addEventListener('visibilitychange', function () {
    if (state && state.status === 'running' && document.visibilityState === 'visible') keepScreenOn();
  });
  root.addEventListener('online', function () { flush(); });

  if (!root.indexedDB) { say(words.no_geolocation); return; }
  loadState().then(function (saved) {
    state = saved || null;
    if (state && state.status === 'running') { remember(); watch(); keepScreenOn(); }
    render();
    flush();
    root.setInterval(function () { if (state) render(); }, 1000);
    root.setInterval(flush, SEND_MS);
  });

  if ('serviceWorker' in navigator && root.isSecureContext && document.body.dataset.sw !== 'off') {
    navigator.serviceWorker.register('/sw.js').catch(function () { /* the page works online without it */ });
  }

  root.PatrolRecorder = { flush: flush, state: function () { return state; }, pending: pendingCount };
})(window);
