// pinward's service worker: the resident page opens offline. build.mjs
// writes SHELL (the page and the files it loads, named after their
// content) and VERSION (the build's stamp) in place of the markers below.
// Static files: from the cache first (their names change with their
// content). The page, the catalog, the privacy notice and the map tiles:
// from the network, the cache when it fails. Nothing else is kept, and
// nothing a resident sends (POST) passes through here.
const SHELL = ["/","/static/icon-3dc431b33f.svg","/static/maplibre-gl-a90798a195.css","/static/app-06f276ec38.css","/static/resident-bf0ab80243.js","/static/maplibre-gl-d86abd44a6.mjs","/static/maplibre-gl-worker-73d7a024a4.mjs","/static/basemap-layers-f9dbdb422c.json"];
const VERSION = "3b4f498e185466e2749789230499d21e";
const CACHE = "pinward-" + VERSION;
const FRESH = ["/open311/v2/services", "/api/v1/privacy-notice", "/tiles/", "/basemap/"];

// precache keeps the shell, and what the form needs to be filled in
// offline: the catalog and each category's questions in both languages,
// and the privacy notice (absent on some servers).
async function precache() {
  const c = await caches.open(CACHE);
  await c.addAll(SHELL);
  await c.add("/api/v1/privacy-notice").catch(() => {});
  for (const lang of ["en", "fr"]) {
    const url = `/open311/v2/services.json?locale=${lang}`;
    const res = await fetch(url);
    if (!res.ok) continue;
    await c.put(url, res.clone());
    const list = await res.json();
    await Promise.all(list.map((s) =>
      c.add(`/open311/v2/services/${encodeURIComponent(s.service_code)}.json?locale=${lang}`).catch(() => {})));
  }
}

self.addEventListener("install", (e) => {
  e.waitUntil(precache().then(() => self.skipWaiting()));
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
    // The page asks with Accept: application/json; the cache was filled
    // without: Vary must not hide the copy.
    const hit = await cache.match(key, { ignoreVary: true });
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
    e.respondWith(caches.match(req, { ignoreVary: true }).then((hit) => hit || fetch(req)));
    return;
  }
  if (FRESH.some((p) => url.pathname.startsWith(p))) e.respondWith(networkFirst(req, req));
});
