/* 网格巡查 service worker: the report pages and their scripts stay usable without a network.
 * Pages: network first, the last copy when offline. Static files: the cached copy, refreshed behind. Posts are never
 * touched here (the page's outbox keeps unsent reports). Logging in or out empties the cache, so the pages
 * kept are always those of the user logged in (a shared phone).
 * The three report forms are fetched ahead ("warmed") so that the first visit may already be offline: on
 * install (the worker is registered from a logged-in page), and again whenever a logged-in page asks
 * (offline.js, after a login emptied the cache); only a form page really served (no redirect to the
 * login page) is kept. A kept page carries an old CSRF token and client id: the page makes a new
 * client id, and the outbox and the preview fetch a fresh token (/cases/csrf) when the old one is refused. */
'use strict';
var CACHE = 'wangge-report-v1';
var PRECACHE = [
  '/static/css/app.css',
  '/static/vendor/leaflet/leaflet.js',
  '/static/vendor/leaflet/leaflet.css',
  '/static/vendor/leaflet-draw/leaflet.draw.js',
  '/static/vendor/leaflet-draw/leaflet.draw.css',
  '/static/vendor/geographiclib-geodesic/geographiclib-geodesic.min.js',
  '/static/js/report_geo.js',
  '/static/js/report_map.js',
  '/static/js/photo_picker.js',
  '/static/js/report_form.js',
  '/static/js/offline.js',
  '/static/js/nav.js',
  '/static/js/patrol.js',
  '/static/js/patrol_link.js'
];
var PAGES = /^\/cases(\/new\/[a-z_]+|\/grid\.json)?$|^\/patrols\/record$/;
var FORMS = ['/cases/new/issue', '/cases/new/illegal_building', '/cases/new/farmland', '/patrols/record'];

/* Fetch and keep the report forms not kept yet; a redirect (logged out) or an error keeps nothing. */
function warm() {
  return caches.open(CACHE).then(function (cache) {
    return Promise.all(FORMS.map(function (path) {
      return cache.match(path).then(function (hit) {
        if (hit) return null;
        return fetch(path, { credentials: 'same-origin', cache: 'no-store' }).then(function (response) {
          return response.ok && !response.redirected ? cache.put(path, response) : null;
        });
      }).catch(function () { return null; });
    }));
  });
}

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(PRECACHE); }).then(warm));
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('message', function (event) {
  if (event.data && event.data.type === 'warm') event.waitUntil(warm());
});

self.addEventListener('fetch', function (event) {
  var request = event.request, url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === 'POST' && (url.pathname === '/auth/logout' || url.pathname === '/auth/login')) {
    event.waitUntil(caches.delete(CACHE)); // a shared phone keeps no one else's pages
    return;
  }
  if (request.method !== 'GET') return;
  if (url.pathname.indexOf('/static/') === 0) {
    // Stale while revalidate: the cached copy now, a fresh one for next time.
    var fresh = fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    });
    event.respondWith(caches.match(request).then(function (hit) { return hit || fresh; }));
    event.waitUntil(fresh.catch(function () { return null; }));
    return;
  }
  if (PAGES.test(url.pathname)) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }, function () {
      return caches.match(request, { ignoreSearch: false }).then(function (hit) {
        return hit || Response.error();
      });
    }));
  }
});
