/* 网格巡查: the outbox. Reports are kept in IndexedDB (fields, geometry and photos as Blobs)
 * until the server has answered; they are sent again when the network returns. The server
 * finds a repeated report by its client_id, so a resend never makes a second case.
 * A phone may be shared: every report carries the username of who made it (#outbox's data-user),
 * and only that user's reports are listed and sent; the others wait until their owner logs in.
 * Reports kept from before owners were stored (no owner) go with whoever is logged in.
 * The field forms of field_outbox.js (举证, 回头看) are kept and sent the same way. */
(function (root) {
  'use strict';
  var DB_NAME = 'wangge-outbox', STORE = 'reports', RETRY_MS = 20000;
  var dbPromise = null, flushing = false, listeners = [];

  function openDb() {
    if (dbPromise) return dbPromise;
    dbPromise = new Promise(function (resolve, reject) {
      if (!root.indexedDB) { reject(new Error('no IndexedDB')); return; }
      var req = root.indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: 'id' }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
    return dbPromise;
  }

  function tx(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), store = t.objectStore(STORE), result;
        var req = work(store);
        if (req) req.onsuccess = function () { result = req.result; };
        t.oncomplete = function () { resolve(result); };
        t.onerror = t.onabort = function () { reject(t.error); };
      });
    });
  }

  function put(record) { return tx('readwrite', function (s) { return s.put(record); }); }
  function remove(id) { return tx('readwrite', function (s) { return s.delete(id); }); }
  function get(id) { return tx('readonly', function (s) { return s.get(id); }); }
  /* The logged-in user, as the page says ('' on a page without the outbox: then nothing is sent). */
  function currentUser() {
    var box = document.getElementById('outbox');
    return box ? box.dataset.user || '' : '';
  }

  function isMine(record, user) {
    user = user === undefined ? currentUser() : user;
    return !!user && (!record.owner || record.owner === user);
  }

  function all() {
    return tx('readonly', function (s) { return s.getAll(); })
      .then(function (list) { return (list || []).sort(function (a, b) { return a.created - b.created; }); })
      .catch(function () { return []; });
  }

  /* A storable copy of a form: its text fields and its files (as Blobs). */
  function fromForm(form) {
    var fields = [], files = [];
    new FormData(form).forEach(function (value, name) {
      if (value instanceof Blob) {
        if (value.size || value.name) files.push({ field: name, name: value.name, type: value.type, blob: value });
      } else {
        fields.push([name, value]);
      }
    });
    var get = function (n) { var f = fields.find(function (x) { return x[0] === n; }); return f ? f[1] : ''; };
    return {
      id: get('client_id'),
      url: form.action,
      kind: form.dataset.kind,
      kindLabel: form.dataset.kindLabel || '',
      owner: currentUser(),
      title: get('title') || form.dataset.kindLabel || '',
      created: Date.now(),
      status: 'waiting',
      message: '',
      fields: fields,
      files: files
    };
  }

  /* Put a record's files back into the form, each into its own input (photos, geofile). */
  function restoreFiles(form, record) {
    if (!root.DataTransfer || !record.files || !record.files.length) return [];
    var byField = {};
    record.files.forEach(function (f) { (byField[f.field] = byField[f.field] || []).push(f); });
    return Object.keys(byField).filter(function (field) {
      var input = form.elements[field];
      if (!input || input.type !== 'file') return false;
      var dt = new DataTransfer();
      byField[field].slice(0, input.multiple ? undefined : 1).forEach(function (f) {
        dt.items.add(new File([f.blob], f.name, { type: f.type }));
      });
      input.files = dt.files;
      return true;
    });
  }

  function toFormData(record, token) {
    var body = new FormData();
    record.fields.forEach(function (f) { body.append(f[0], f[0] === 'csrf_token' && token ? token : f[1]); });
    record.files.forEach(function (f) { body.append(f.field, f.blob, f.name); });
    return body;
  }

  function isLogin(url) { return /\/auth\/login/.test(url || ''); }

  /* A fresh CSRF token from the server (null when logged out or offline). */
  function freshToken() {
    return fetch('/cases/csrf', { credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) { return r.ok && !r.redirected ? r.json() : null; })
      .then(function (data) { return data ? data.csrf_token : null; })
      .catch(function () { return null; });
  }

  /* Post one report. Resolves to {type: created|offline|login|refused, url, code, message}. */
  function send(record, token, retried) {
    return fetch(record.url, {
      method: 'POST', body: toFormData(record, token), credentials: 'same-origin',
      headers: { 'X-Report-Client': 'outbox' }
    }).then(function (r) {
      var path = new URL(r.url).pathname;
      if (r.ok && r.redirected && /^\/(cases|tuban|rechecks)\/\d+$/.test(path)) return { type: 'created', url: r.url };
      if (isLogin(r.url)) return { type: 'login' };
      var code = r.headers.get('X-Report-Error') || '';
      if (r.status === 400 && code === 'csrf' && !retried) {
        return freshToken().then(function (t) { return t ? send(record, t, true) : { type: 'login' }; });
      }
      if (r.status >= 500 || r.status === 408 || r.status === 429) return { type: 'offline' };
      var message = r.headers.get('X-Report-Message');
      return {
        type: 'refused', status: r.status, code: code || (r.status === 413 ? 'too_large' : ''),
        message: message ? decodeURIComponent(message) : 'HTTP ' + r.status
      };
    }, function () { return { type: 'offline' }; });
  }

  function notify(event) { listeners.forEach(function (fn) { fn(event); }); }

  /* Send every waiting report of the logged-in user once, oldest first; stop at the first network failure. */
  function flush() {
    if (flushing || (root.navigator && navigator.onLine === false)) return Promise.resolve();
    flushing = true;
    var user = currentUser();
    return all().then(function (records) {
      var waiting = records.filter(function (r) { return r.status !== 'refused' && isMine(r, user); });
      if (!waiting.length) return null;
      return freshToken().then(function (token) {
        var chain = Promise.resolve(true);
        waiting.forEach(function (record) {
          chain = chain.then(function (goOn) {
            if (!goOn) return false;
            if (!token) return record.status === 'login' ? false : markLogin(record);
            return send(record, token).then(function (result) { return settle(record, result); });
          });
        });
        return chain;
      });
    }).catch(function () { /* keep everything for the next try */ })
      .then(function () { flushing = false; notify({ type: 'changed' }); });
  }

  function markLogin(record) {
    record.status = 'login';
    return put(record).then(function () { return false; });
  }

  function settle(record, result) {
    if (result.type === 'created') {
      return remove(record.id).then(function () { notify({ type: 'sent', record: record, url: result.url }); return true; });
    }
    if (result.type === 'offline') return false;
    if (result.type === 'login') return markLogin(record);
    record.status = 'refused';
    record.message = result.message;
    return put(record).then(function () { return true; });
  }

  function onChange(fn) { listeners.push(fn); }

  /* Show the user's reports still waiting in #outbox, with a way to open or drop a refused one
   * (not the refused one the form on this page is correcting), and how many other users' wait. */
  function render() {
    var box = document.getElementById('outbox');
    if (!box) return Promise.resolve();
    var i18n = JSON.parse((document.getElementById('report-i18n') || {}).textContent || '{}');
    var list = box.querySelector('ul'), others = document.getElementById('outbox-others');
    var form = document.getElementById('report-form');
    var editing = form && form.elements.client_id ? form.elements.client_id.value : null;
    return all().then(function (records) {
      var user = currentUser();
      var mine = records.filter(function (r) {
        return isMine(r, user) && !(r.status === 'refused' && r.id === editing);
      });
      var theirs = records.filter(function (r) { return !isMine(r, user); }).length;
      box.hidden = mine.length === 0 && theirs === 0;
      if (others) {
        others.hidden = theirs === 0;
        others.textContent = theirs ? (i18n.others || '{n}').replace('{n}', theirs) : '';
      }
      list.innerHTML = '';
      mine.forEach(function (r) {
        var li = document.createElement('li');
        li.dataset.id = r.id;
        var when = new Date(r.created).toLocaleString(document.documentElement.lang || 'zh-CN');
        var state = r.status === 'refused' ? i18n.refused + (r.message || '')
          : r.status === 'login' ? i18n.needLogin : i18n.waiting;
        li.innerHTML = '<strong></strong> <span class="muted"></span><br><small></small> ';
        li.querySelector('strong').textContent = (r.kindLabel ? r.kindLabel + ' · ' : '') + (r.title || '');
        li.querySelector('span').textContent = when + (r.files.length ? ' · ' + i18n.photos.replace('{n}', r.files.length) : '');
        li.querySelector('small').textContent = state;
        if (r.status === 'refused') {
          li.className = 'refused';
          var open = document.createElement('a');
          open.href = r.url + '#outbox=' + encodeURIComponent(r.id);
          open.textContent = i18n.open;
          var drop = document.createElement('button');
          drop.type = 'button';
          drop.className = 'link';
          drop.textContent = i18n.discard;
          drop.addEventListener('click', function () {
            if (root.confirm(i18n.confirmDiscard)) remove(r.id).then(render);
          });
          li.appendChild(open);
          li.appendChild(document.createTextNode(' '));
          li.appendChild(drop);
        }
        list.appendChild(li);
      });
    });
  }

  function start() {
    onChange(function (event) {
      render();
      if (event.type === 'sent') {
        var done = document.getElementById('outbox-sent');
        if (done) {
          var a = document.createElement('a');
          a.href = event.url;
          a.textContent = (event.record.title || '') + ' ✓';
          done.appendChild(a);
          done.hidden = false;
        }
      }
    });
    var button = document.getElementById('outbox-send');
    if (button) button.addEventListener('click', function () { flush(); });
    root.addEventListener('online', function () { flush(); });
    document.addEventListener('visibilitychange', function () { if (!document.hidden) flush(); });
    setInterval(function () { flush(); }, RETRY_MS);
    render().then(flush);
    if ('serviceWorker' in navigator && root.isSecureContext && document.body.dataset.sw !== 'off') {
      // Once it runs, ask it to keep the report forms of this (logged-in) user for a first offline visit.
      navigator.serviceWorker.register('/sw.js')
        .then(function () { return navigator.serviceWorker.ready; })
        .then(function (reg) { if (reg.active && currentUser()) reg.active.postMessage({ type: 'warm' }); })
        .catch(function () { /* offline pages unavailable */ });
    }
  }

  root.ReportOutbox = {
    put: put, get: get, remove: remove, all: all, fromForm: fromForm, send: send,
    flush: flush, render: render, onChange: onChange, freshToken: freshToken, start: start,
    currentUser: currentUser, isMine: isMine, restoreFiles: restoreFiles
  };
  document.addEventListener('DOMContentLoaded', start);
})(window);
