// pinward's service worker: the resident page opens offline. build.mjs
// writes SHELL (the page and the files it loads, named after their
// content) and VERSION (the build's stamp) in place of the markers below.
// Static files: from the cache first (their names change with their
// content). The page, the catalog, the privacy notice and the map tiles:
// from the network, the cache when it fails. Nothing else is kept, and
// nothing a resident sends (POST) passes through here.
const SHELL = self.__PINWARD_SHELL__;
const VERSION = self.__PINWARD_VERSION__;
const CACHE = "pinward-" + VERSION;
const FRESH = ["/open311/v2/services", "/api/v1/privacy-notice", "/tiles/", "/basemap/"];

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("pinward-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

async function networkFirst(req, key) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(req);
    if (res.ok) await cache.put(key, res.clone());
    return res;
  } catch (err) {
    const hit = await cache.match(key);
    if (hit) return hit;
    throw err;
  }
}

self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate") {
    if (url.pathname === "/") e.respondWith(networkFirst(req, "/"));
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    e.respondWith(caches.match(req).then((hit) => hit || fetch(req)));
    return;
  }
  if (FRESH.some((p) => url.pathname.startsWith(p))) e.respondWith(networkFirst(req, req));
});
