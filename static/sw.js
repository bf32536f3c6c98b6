/* 网格巡查 service worker: the report pages and their scripts stay usable without a network.
 * Pages: network first, the last copy when offline. Static files: the cached copy, refreshed behind. Posts are never
 * touched here (the page's outbox keeps unsent reports). Logging out empties the cache. */
'use strict';
var CACHE = 'wangge-report-v1';
var PRECACHE = [
  '/static/css/app.css',
  '/static/vendor/leaflet/leaflet.js',
  '/static/vendor/leaflet/leaflet.css',
  '/static/vendor/leaflet-draw/leaflet.draw.js',
  '/static/vendor/leaflet-draw/leaflet.draw.css',
  '/static/js/report_geo.js',
  '/static/js/report_map.js',
  '/static/js/report_form.js',
  '/static/js/offline.js'
];
var PAGES = /^\/cases(\/new\/[a-z_]+|\/grid\.json)?$/;

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(PRECACHE); }));
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (event) {
  var request = event.request, url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === 'POST' && url.pathname === '/auth/logout') {
    event.waitUntil(caches.delete(CACHE)); // a shared phone keeps no one's pages
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
