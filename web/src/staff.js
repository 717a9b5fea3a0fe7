// The staff cluster map: clusters over ward boundaries and assets, filters,
// a cluster's requests in the side panel, merge and close through the staff
// API. The staff key is asked once per tab (sessionStorage) and sent as
// X-Api-Key.
import { addContext, api, applyLang, el, fill, fmtDate, initialLang, newMap } from "./common.js";

const T = {
  title: { en: "Issues by cluster", fr: "Problèmes par regroupement" },
  key: { en: "Staff API key", fr: "Clé d'API du personnel" },
  keyHint: { en: "Kept in this browser tab only, until you close it.", fr: "Conservée dans cet onglet seulement, jusqu'à sa fermeture." },
  signIn: { en: "Open the map", fr: "Ouvrir la carte" },
  signOut: { en: "Forget the key", fr: "Oublier la clé" },
  filters: { en: "Filters", fr: "Filtres" },
  category: { en: "Category", fr: "Catégorie" },
  ward: { en: "Ward", fr: "Quartier" },
  status: { en: "Status", fr: "État" },
  age: { en: "Age", fr: "Âge" },
  all: { en: "All", fr: "Tous" },
  open: { en: "Open", fr: "Ouverts" },
  closed: { en: "Closed", fr: "Fermés" },
  d1: { en: "Last 24 hours", fr: "Dernières 24 heures" },
  d7: { en: "Last 7 days", fr: "7 derniers jours" },
  d30: { en: "Last 30 days", fr: "30 derniers jours" },
  d90: { en: "Last 90 days", fr: "90 derniers jours" },
  mapLabel: { en: "Map of clusters", fr: "Carte des regroupements" },
  clusters: { en: "clusters", fr: "regroupements" },
  requests: { en: "requests", fr: "demandes" },
  cluster: { en: "Cluster", fr: "Regroupement" },
  mergeInto: { en: "Merge into cluster", fr: "Fusionner dans le regroupement" },
  merge: { en: "Merge", fr: "Fusionner" },
  closeNote: { en: "Reason for closing (shown to residents)", fr: "Motif de fermeture (montré aux résidents)" },
  close: { en: "Close the cluster", fr: "Fermer le regroupement" },
  done: { en: "Done.", fr: "Fait." },
  badKey: { en: "This key is not a staff key.", fr: "Cette clé n'est pas une clé du personnel." },
  none: { en: "No cluster matches the filters.", fr: "Aucun regroupement ne correspond aux filtres." },
};
const KEY = "pinward-staff-key";
const $ = (id) => document.getElementById(id);
const st = { lang: initialLang(), key: sessionStorage.getItem(KEY) || "", services: [], clusters: [], selected: "" };
const tr = (k) => T[k][st.lang];
let map = null;
window.pinward = { state: st, get map() { return map; } };

$("login").addEventListener("submit", (e) => {
  e.preventDefault();
  const k = $("staff-key").value.trim();
  if (!k) return;
  st.key = k;
  sessionStorage.setItem(KEY, k);
  start();
});
$("sign-out").addEventListener("click", () => { sessionStorage.removeItem(KEY); location.reload(); });

function showLogin(msg) {
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").hidden = !msg;
  $("login-error").textContent = msg || "";
  $("staff-key").focus();
}

function options(sel, items, keep) {
  const cur = keep ? sel.value : "";
  sel.replaceChildren(...items.map(([v, label]) => el("option", { value: v }, label)));
  if (cur && items.some(([v]) => v === cur)) sel.value = cur;
}

async function start() {
  $("login").hidden = true;
  $("app").hidden = false;
  if (!map) {
    try {
      map = newMap("map");
      map.on("load", () => {
        addContext(map);
        // The clusters: pinward's vector tiles (aggregated per grid cell
        // below zoom 15, one feature per cluster from 15 on; see package
        // tiles), filtered like the list.
        map.addSource("cluster-tiles", { type: "vector", url: "/tiles/clusters.json" });
        map.addLayer({ id: "cluster-tiles", type: "circle", source: "cluster-tiles", "source-layer": "clusters",
          filter: tileFilter(),
          paint: {
            "circle-color": ["case", ["has", "aggregate"], "#6a4c93", ["==", ["get", "status"], "closed"], "#5f6b76", "#0b5394"],
            "circle-radius": ["interpolate", ["linear"], ["coalesce", ["get", "count"], 1], 1, 7, 10, 13, 100, 22],
            "circle-opacity": 0.85, "circle-stroke-color": "#fff", "circle-stroke-width": 2,
          } });
        // The selected cluster, ringed.
        map.addSource("listed", { type: "geojson", data: geojson() });
        map.addLayer({ id: "listed", type: "circle", source: "listed", filter: ["==", ["get", "selected"], true],
          paint: { "circle-color": "rgba(0,0,0,0)", "circle-radius": 16, "circle-stroke-color": "#b3261e", "circle-stroke-width": 4 } });
        map.on("click", "cluster-tiles", (e) => {
          const f = e.features[0];
          if (f.properties.aggregate) map.easeTo({ center: e.lngLat, zoom: Math.max(map.getZoom() + 2, 15) });
          else select(String(f.properties.cluster_id));
        });
        map.on("mouseenter", "cluster-tiles", () => { map.getCanvas().style.cursor = "pointer"; });
        map.on("mouseleave", "cluster-tiles", () => { map.getCanvas().style.cursor = ""; });
        map.on("mouseenter", "listed", () => { map.getCanvas().style.cursor = "pointer"; });
        map.on("mouseleave", "listed", () => { map.getCanvas().style.cursor = ""; });
      });
    } catch (err) { console.warn("map unavailable", err); }
  }
  await loadServices();
  await refresh();
}

async function loadServices() {
  st.services = await api(`/open311/v2/services.json?locale=${st.lang}`, { lang: st.lang });
  options($("f-category"), [["", tr("all")], ...st.services.map((s) => [s.service_code, s.service_name])], true);
  options($("f-status"), [["open", tr("open")], ["closed", tr("closed")], ["", tr("all")]], true);
  options($("f-age"), [["90", tr("d90")], ["30", tr("d30")], ["7", tr("d7")], ["1", tr("d1")]], true);
}
for (const id of ["f-category", "f-ward", "f-status", "f-age"]) $(id).addEventListener("change", () => refresh());

const statusLabel = (s) => (s === "open" ? { en: "open", fr: "ouverte" } : s === "closed" ? { en: "closed", fr: "fermée" } : { en: s, fr: s })[st.lang];
const serviceName = (code) => (st.services.find((s) => s.service_code === code) || {}).service_name || code;

// refresh lists the requests the filters select (Open311 GET, the staff
// key attached) and groups them by cluster.
async function refresh() {
  const q = new URLSearchParams({ locale: st.lang, page_size: "1000" });
  const cat = $("f-category").value, status = $("f-status").value, ward = $("f-ward").value;
  if (cat) q.set("service_code", cat);
  if (status) q.set("status", status);
  q.set("start_date", new Date(Date.now() - Number($("f-age").value || 90) * 86400e3).toISOString());
  let reqs;
  try {
    reqs = await api(`/open311/v2/requests.json?${q}`, { key: st.key, lang: st.lang });
  } catch (err) {
    if (err.status === 401 || err.status === 403) { showLogin(tr("badKey")); return; }
    $("summary").textContent = err.message;
    return;
  }
  const wards = new Set(reqs.map((r) => r.ward_id).filter(Boolean));
  options($("f-ward"), [["", tr("all")], ...[...wards].sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).map((w) => [w, w])], true);
  const by = new Map();
  for (const r of reqs) {
    if (ward && r.ward_id !== ward) continue;
    const id = r.cluster_id || r.service_request_id;
    if (!by.has(id)) by.set(id, { cluster_id: id, requests: [] });
    by.get(id).requests.push(r);
  }
  st.clusters = [...by.values()].map((c) => {
    c.requests.sort((a, b) => a.requested_datetime.localeCompare(b.requested_datetime));
    const first = c.requests.find((r) => r.service_request_id === c.cluster_id) || c.requests[0];
    return { ...c, first, count: c.requests.length, service_code: first.service_code, ward_id: first.ward_id,
      status: c.requests.some((r) => r.status === "open") ? "open" : "closed" };
  }).sort((a, b) => b.count - a.count || b.first.requested_datetime.localeCompare(a.first.requested_datetime));
  renderList();
}

// tileFilter is the filters as a MapLibre expression over the tile
// properties. Aggregated cells match when they count any cluster of the
// category or status (service_<code>, status_<status>); their ward is the
// cell's most common one.
function tileFilter() {
  const cat = $("f-category").value, status = $("f-status").value, ward = $("f-ward").value;
  const since = Math.floor(Date.now() / 1000) - Number($("f-age").value || 90) * 86400;
  const agg = ["has", "aggregate"];
  const n = (k) => ["coalesce", ["get", k], 0];
  const f = ["all", [">=", ["coalesce", ["get", "requested_at"], since], since]];
  if (cat) f.push(["any", ["==", ["get", "service_code"], cat], [">", n("service_" + cat), 0]]);
  if (status === "open") f.push(["case", agg, [">", ["+", n("status_open"), n("status_acknowledged"), n("status_in_progress")], 0], ["!=", ["get", "status"], "closed"]]);
  if (status === "closed") f.push(["case", agg, [">", n("status_closed"), 0], ["==", ["get", "status"], "closed"]]);
  if (ward) f.push(["==", ["get", "ward_id"], ward]);
  return f;
}

function geojson() {
  return { type: "FeatureCollection", features: st.clusters.map((c) => ({
    type: "Feature", geometry: { type: "Point", coordinates: [c.first.long, c.first.lat] },
    properties: { cluster_id: c.cluster_id, count: c.count, status: c.status, service_code: c.service_code, selected: c.cluster_id === st.selected },
  })) };
}

function renderList() {
  const nreq = st.clusters.reduce((n, c) => n + c.count, 0);
  $("summary").textContent = `${st.clusters.length} ${tr("clusters")}, ${nreq} ${tr("requests")}`;
  $("clusters").replaceChildren(...(st.clusters.length ? st.clusters.slice(0, 200).map((c) => el("li", {},
    el("button", { type: "button", "data-cluster": c.cluster_id, "aria-current": String(c.cluster_id === st.selected), onclick: () => select(c.cluster_id) },
      `#${c.cluster_id} · ${serviceName(c.service_code)} · ${c.count} · ${tr("ward")} ${c.ward_id || "?"}`)))
    : [el("li", { class: "hint" }, tr("none"))]));
  if (map && map.getSource("listed")) {
    map.getSource("listed").setData(geojson());
    map.setFilter("cluster-tiles", tileFilter());
    // The tiles changed with any merge or close: fetch them again.
    map.getSource("cluster-tiles").reload?.();
  }
  if (st.selected) renderDetail();
}

function select(id) {
  st.selected = id;
  renderList();
  const c = st.clusters.find((x) => x.cluster_id === id);
  if (c && map) map.easeTo({ center: [c.first.long, c.first.lat], zoom: Math.max(map.getZoom(), 15) });
  $("detail").focus();
}

function renderDetail() {
  const c = st.clusters.find((x) => x.cluster_id === st.selected);
  const box = $("detail");
  if (!c) { box.replaceChildren(); return; }
  const others = st.clusters.filter((x) => x.cluster_id !== c.cluster_id && x.status === "open");
  const msg = el("p", { role: "status", id: "action-result" });
  const act = async (fn) => {
    msg.textContent = "";
    try { await fn(); msg.textContent = tr("done"); await refresh(); }
    catch (err) {
      if (err.status === 401 || err.status === 403) { showLogin(tr("badKey")); return; }
      msg.textContent = err.message;
    }
  };
  fill(box,
    el("h2", {}, `${tr("cluster")} #${c.cluster_id} — ${serviceName(c.service_code)}`),
    el("ul", {}, c.requests.map((r) => el("li", {},
      el("a", { href: `/r/${r.service_request_id}?locale=${st.lang}` }, `#${r.service_request_id}`),
      ` · ${statusLabel(r.status)} · ${fmtDate(r.requested_datetime, st.lang)}`, r.description ? ` — ${r.description}` : ""))),
    c.status === "open" && others.length ? el("form", { onsubmit: (e) => { e.preventDefault();
      act(() => api(`/api/v1/clusters/${encodeURIComponent(c.cluster_id)}/merge`, { method: "POST", key: st.key, lang: st.lang,
        json: { into: e.target.elements.into.value } })); } },
      el("label", { for: "merge-into" }, tr("mergeInto")),
      el("select", { id: "merge-into", name: "into" }, others.map((o) => el("option", { value: o.cluster_id }, `#${o.cluster_id} · ${serviceName(o.service_code)} · ${o.count}`))),
      el("div", { class: "row" }, el("button", { type: "submit" }, tr("merge")))) : null,
    c.status === "open" ? el("form", { onsubmit: (e) => { e.preventDefault();
      act(() => api(`/api/v1/clusters/${encodeURIComponent(c.cluster_id)}/close`, { method: "POST", key: st.key, lang: st.lang,
        json: { note: e.target.elements.note.value } })); } },
      el("label", { for: "close-note" }, tr("closeNote")),
      el("textarea", { id: "close-note", name: "note", required: true }),
      el("div", { class: "row" }, el("button", { type: "submit" }, tr("close")))) : null,
    msg);
}

function setLang(l) {
  st.lang = l;
  localStorage.setItem("pinward-lang", l);
  applyLang(T, l);
  if (st.key && !$("app").hidden) loadServices().then(refresh);
}
for (const b of document.querySelectorAll("[data-lang-button]")) b.addEventListener("click", () => setLang(b.dataset.langButton));
applyLang(T, st.lang);
if (st.key) start(); else showLogin();
