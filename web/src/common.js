// Shared by the three pages: configuration, language, API calls and the
// map style built from pinward's own tiles (no map service on the internet).
import * as maplibregl from "maplibre-gl";

export { maplibregl };

export const config = JSON.parse(document.getElementById("pinward-config")?.textContent || "{}");

// lang: ?locale= wins, then the resident's earlier choice, then the browser.
export function initialLang() {
  const q = new URLSearchParams(location.search).get("locale");
  if (q === "en" || q === "fr") return q;
  const saved = localStorage.getItem("pinward-lang");
  if (saved === "en" || saved === "fr") return saved;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return nav.toLowerCase().startsWith("fr") ? "fr" : "en";
}

// i18n applies a dictionary to elements marked data-i18n (text),
// data-i18n-placeholder and data-i18n-aria-label, and sets <html lang>.
export function applyLang(dict, lang) {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    const t = dict[el.dataset.i18n];
    if (t) el.textContent = t[lang];
  }
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    const t = dict[el.dataset.i18nPlaceholder];
    if (t) el.placeholder = t[lang];
  }
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) {
    const t = dict[el.dataset.i18nAriaLabel];
    if (t) el.setAttribute("aria-label", t[lang]);
  }
  for (const b of document.querySelectorAll("[data-lang-button]")) {
    b.setAttribute("aria-pressed", String(b.dataset.langButton === lang));
  }
}

// ApiError carries pinward's bilingual error body.
export class ApiError extends Error {
  constructor(status, body, lang) {
    const e = Array.isArray(body) ? body[0] : body;
    super((e && (lang === "fr" ? e.description_fr : e.description_en)) || (e && e.description) || "HTTP " + status);
    this.status = status;
    this.kind = e && e.kind;
    this.field = e && e.field;
  }
}

export async function api(path, { method = "GET", body, key, lang = "en", json } = {}) {
  const headers = { Accept: "application/json" };
  if (key) headers["X-Api-Key"] = key;
  let payload = body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(json);
  }
  const res = await fetch(path, { method, headers, body: payload });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) throw new ApiError(res.status, data, lang);
  return data;
}

// baseStyle is the map's style: a plain background with pinward's ward and
// asset tiles on it; the streets of pinward's own basemap (--basemap, a
// PMTiles file served under /basemap/) drawn with the Protomaps layers, which
// are fetched only when the map starts; or the deployment's basemap style
// URL when configured.
export async function baseStyle() {
  if (config.basemap_style) return config.basemap_style;
  const style = {
    version: 8,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#f2efe9" } }],
  };
  if (!config.basemap_layers) return style;
  try {
    const res = await fetch(config.basemap_layers);
    if (!res.ok) throw new Error("HTTP " + res.status);
    style.sources.protomaps = { type: "vector", url: "/basemap/tiles.json" };
    style.layers = await res.json();
  } catch (err) {
    console.warn("basemap unavailable", err);
  }
  return style;
}

// MAP_LOCALE is MapLibre's control labels in French (its defaults are
// English); setMapLang relabels controls already on the map.
const MAP_LOCALE = {
  fr: {
    "AttributionControl.ToggleAttribution": "Afficher ou masquer les sources",
    "AttributionControl.MapFeedback": "Commentaires sur la carte",
    "FullscreenControl.Enter": "Plein écran",
    "FullscreenControl.Exit": "Quitter le plein écran",
    "GeolocateControl.FindMyLocation": "Trouver ma position",
    "GeolocateControl.LocationNotAvailable": "Position non disponible",
    "LogoControl.Title": "Logo MapLibre",
    "Map.Title": "Carte",
    "Marker.Title": "Marqueur",
    "NavigationControl.ResetBearing": "Faites glisser pour tourner la carte, cliquez pour revenir au nord",
    "NavigationControl.ZoomIn": "Zoom avant",
    "NavigationControl.ZoomOut": "Zoom arrière",
    "Popup.Close": "Fermer",
    "ScaleControl.Feet": "pi",
    "ScaleControl.Meters": "m",
    "ScaleControl.Kilometers": "km",
    "ScaleControl.Miles": "mi",
    "ScaleControl.NauticalMiles": "mn",
    "GlobeControl.Enable": "Activer le globe",
    "GlobeControl.Disable": "Désactiver le globe",
    "TerrainControl.Enable": "Activer le relief",
    "TerrainControl.Disable": "Désactiver le relief",
    "CooperativeGesturesHandler.WindowsHelpText": "Utilisez Ctrl + molette pour zoomer",
    "CooperativeGesturesHandler.MacHelpText": "Utilisez ⌘ + molette pour zoomer",
    "CooperativeGesturesHandler.MobileHelpText": "Utilisez deux doigts pour déplacer la carte",
  },
  en: {
    "NavigationControl.ZoomIn": "Zoom in",
    "NavigationControl.ZoomOut": "Zoom out",
    "NavigationControl.ResetBearing": "Drag to rotate map, click to reset north",
    "Map.Title": "Map",
    "Marker.Title": "Map marker",
  },
};

export function mapLocale(lang) { return MAP_LOCALE[lang] || {}; }

// setMapLang relabels the navigation buttons when the resident switches
// language after the map was made (MapLibre reads its locale only then).
export function setMapLang(map, lang) {
  if (!map) return;
  const t = { ...MAP_LOCALE.en, ...mapLocale(lang) };
  const label = (sel, key) => {
    for (const b of map.getContainer().querySelectorAll(sel)) {
      b.title = t[key];
      b.setAttribute("aria-label", t[key]);
    }
  };
  label(".maplibregl-ctrl-zoom-in", "NavigationControl.ZoomIn");
  label(".maplibregl-ctrl-zoom-out", "NavigationControl.ZoomOut");
  label(".maplibregl-ctrl-compass", "NavigationControl.ResetBearing");
}

// addContext adds the ward boundaries and assets from pinward's tiles.
export function addContext(map) {
  map.addSource("wards", { type: "vector", url: "/tiles/wards.json" });
  map.addSource("assets", { type: "vector", url: "/tiles/assets.json" });
  map.addLayer({ id: "wards-fill", type: "fill", source: "wards", "source-layer": "wards",
    // Faint over a street basemap, so the streets show through.
    paint: { "fill-color": "#dfe8dc", "fill-opacity": map.getSource("protomaps") ? 0.2 : 0.6 } });
  map.addLayer({ id: "wards-line", type: "line", source: "wards", "source-layer": "wards",
    paint: { "line-color": "#4a6b52", "line-width": ["interpolate", ["linear"], ["zoom"], 10, 1, 16, 3] } });
  map.addLayer({ id: "assets", type: "circle", source: "assets", "source-layer": "assets", minzoom: 14,
    paint: {
      "circle-radius": ["interpolate", ["linear"], ["zoom"], 14, 1.5, 18, 5],
      "circle-color": ["match", ["get", "layer"],
        "streetlight", "#b8860b", "hydrant", "#c0392b", "tree", "#2e7d32", "catch_basin", "#1f5f8b", "sign", "#6a1b9a", "#555"],
    } });
}

// newMap makes a map labelled in lang, with pinward's context added once
// its style (fetched first when pinward serves a basemap) has loaded.
export function newMap(container, extra = {}, lang = initialLang()) {
  const b = config.bounds;
  const hasBounds = b && (b[0] !== 0 || b[2] !== 0);
  const map = new maplibregl.Map({
    container,
    bounds: hasBounds ? [[b[0], b[1]], [b[2], b[3]]] : undefined,
    center: hasBounds ? undefined : [0, 0],
    zoom: hasBounds ? undefined : 1,
    attributionControl: false,
    locale: mapLocale(lang),
    ...extra,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  // Sources that fail (no tiles layer on this server) must not break the page.
  map.on("error", (e) => console.warn("map:", e && e.error && e.error.message));
  // The style comes after the map: "load" (and the context layers the
  // pages add on it) waits for it.
  baseStyle().then((style) => map.setStyle(style));
  return map;
}

export function fmtDate(s, lang) {
  if (!s) return "";
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString(lang === "fr" ? "fr-CA" : "en-CA", { dateStyle: "medium", timeStyle: "short" });
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// fill replaces a node's children, leaving out the null, undefined and
// false that conditional children produce (replaceChildren would print them).
export function fill(node, ...kids) {
  node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}
