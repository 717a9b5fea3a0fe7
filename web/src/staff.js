// The staff cluster map: clusters over ward boundaries and assets, filters,
// a cluster's requests in the side panel, merge, split and close through the
// staff cluster API (/api/v1/clusters). The list is the clusters whose anchor
// lies in the map's view, fetched again (debounced) when the map moves. The
// staff key is asked once per tab (sessionStorage) and sent as X-Api-Key.
import { addContext, api as fetchAPI, applyLang, el, fill, fmtDate, initialLang, newMap } from "./common.js";
import { staffSession, staffTexts } from "./staffkey.js";

const T = {
  title: { en: "Issues by cluster", fr: "Problèmes par regroupement" },
  toQueue: { en: "Queue", fr: "File" },
  toReports: { en: "Council reports", fr: "Rapports au conseil" },
  ...staffTexts,
  signIn: { en: "Open the map", fr: "Ouvrir la carte" },
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
  listLabel: { en: "Clusters in the map's view", fr: "Regroupements dans la vue de la carte" },
  clusters: { en: "clusters in view", fr: "regroupements dans la vue" },
  requests: { en: "requests", fr: "demandes" },
  more: { en: "more not listed: zoom in or narrow the filters", fr: "autres non listés : zoomez ou resserrez les filtres" },
  nOpen: { en: "open", fr: "ouvertes" },
  reporters: { en: "reporters", fr: "signaleurs" },
  cluster: { en: "Cluster", fr: "Regroupement" },
  department: { en: "Department", fr: "Service" },
  created: { en: "Created", fr: "Créé" },
  updated: { en: "Updated", fr: "Mis à jour" },
  asset: { en: "Asset", fr: "Actif" },
  workOrder: { en: "Work order", fr: "Bon de travail" },
  counts: { en: "Requests", fr: "Demandes" },
  retired: { en: "Asset retired", fr: "Actif retiré" },
  retiredAlert: { en: "The asset of an open request in this cluster has been retired: check the place before dispatching.",
    fr: "L'actif d'une demande ouverte de ce regroupement a été retiré : vérifiez le lieu avant d'envoyer une équipe." },
  requestsLegend: { en: "Requests (select some to split them off)", fr: "Demandes (cochez-en pour les détacher)" },
  split: { en: "Split the selected into a new cluster", fr: "Détacher les demandes cochées dans un nouveau regroupement" },
  pick: { en: "Select", fr: "Cocher" },
  mergeHint: { en: "Its number; suggested: open clusters of the category nearby and those in view.",
    fr: "Son numéro; suggestions : regroupements ouverts de la catégorie à proximité et ceux de la vue." },
  splitNone: { en: "Select at least one request to split off.", fr: "Cochez au moins une demande à détacher." },
  splitDone: { en: "New cluster", fr: "Nouveau regroupement" },
  openNew: { en: "Show it", fr: "L'afficher" },
  mergeInto: { en: "Merge into cluster", fr: "Fusionner dans le regroupement" },
  merge: { en: "Merge", fr: "Fusionner" },
  reason: { en: "Reason", fr: "Raison" },
  resolved: { en: "Resolved", fr: "Résolu" },
  duplicate: { en: "Duplicate", fr: "Doublon" },
  no_action: { en: "No action needed", fr: "Aucune intervention requise" },
  referred: { en: "Referred elsewhere", fr: "Transmis ailleurs" },
  closeNote: { en: "Reason for closing (shown to residents)", fr: "Motif de fermeture (montré aux résidents)" },
  close: { en: "Close the cluster", fr: "Fermer le regroupement" },
  loading: { en: "Loading…", fr: "Chargement…" },
  done: { en: "Done.", fr: "Fait." },
  none: { en: "No cluster in this view matches the filters.", fr: "Aucun regroupement de cette vue ne correspond aux filtres." },
};
const PAGE = 1000; // the API's largest page
const MAX_PAGES = 3; // past this, the list says "zoom in"
const $ = (id) => document.getElementById(id);
const st = {
  lang: initialLang(), key: "", services: [], clusters: [], more: false,
  selected: "", detail: null, nearby: [], retired: new Map(), wards: new Set(),
  // note is the last action's result for a cluster, kept across the
  // panel's re-renders (a late loadRetired must not wipe it).
  note: null,
};
const tr = (k) => T[k][st.lang];
let map = null;
// api is common.js's, counting the calls in flight: the page is idle (its
// list and panel drawn from the latest answers) when none is.
let inFlight = 0;
async function api(...args) {
  inFlight++;
  try { return await fetchAPI(...args); } finally { inFlight--; }
}
window.pinward = { state: st, get map() { return map; }, idle: () => inFlight === 0 };

// session is the staff key's sign-in (set at the end, once the page is
// wired); authFailed sends the user back to the key form on 401/403.
let session = null;
const authFailed = (err) => session.authFailed(err);

function options(sel, items, keep) {
  const cur = keep ? sel.value : "";
  sel.replaceChildren(...items.map(([v, label]) => el("option", { value: v }, label)));
  if (cur && items.some(([v]) => v === cur)) sel.value = cur;
}

// The list follows the map's view: a move fetches it again once the map
// has been still for a moment.
let moveTimer = 0;
function onMoved() {
  clearTimeout(moveTimer);
  moveTimer = setTimeout(() => refresh(), 350);
}

async function start() {
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
            // Overdue clusters in their own colour (the tiles say which).
            "circle-color": ["case", ["has", "aggregate"], "#6a4c93", ["==", ["get", "overdue"], true], "#c2410c",
              ["==", ["get", "status"], "closed"], "#5f6b76", "#0b5394"],
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
          else select(String(f.properties.cluster_id), false);
        });
        map.on("mouseenter", "cluster-tiles", () => { map.getCanvas().style.cursor = "pointer"; });
        map.on("mouseleave", "cluster-tiles", () => { map.getCanvas().style.cursor = ""; });
      });
      map.on("moveend", onMoved);
    } catch (err) { console.warn("map unavailable", err); }
  }
  await loadServices();
  await Promise.all([refresh(), loadRetired()]);
}

async function loadServices() {
  st.services = await api(`/open311/v2/services.json?locale=${st.lang}`, { lang: st.lang });
  options($("f-category"), [["", tr("all")], ...st.services.map((s) => [s.service_code, s.service_name])], true);
  options($("f-status"), [["open", tr("open")], ["closed", tr("closed")], ["", tr("all")]], true);
  options($("f-age"), [["90", tr("d90")], ["30", tr("d30")], ["7", tr("d7")], ["1", tr("d1")]], true);
  wardOptions();
}
for (const id of ["f-category", "f-ward", "f-status", "f-age"]) $(id).addEventListener("change", () => refresh());

// wardOptions lists every ward seen in an answer so far, so choosing one
// does not empty the others from the menu.
function wardOptions() {
  const ws = [...st.wards].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  options($("f-ward"), [["", tr("all")], ...ws.map((w) => [w, w])], true);
}

// loadRetired reads the open requests whose asset was retired (staff key).
// A server without the asset API answers 404: then nothing is flagged.
async function loadRetired() {
  try {
    const out = await api("/api/v1/assets/retired-open", { key: st.key, lang: st.lang });
    st.retired = new Map((out.requests || []).map((r) => [r.service_request_id, r]));
  } catch (err) {
    if (authFailed(err)) return;
    st.retired = new Map();
  }
  renderList();
  if (st.detail) renderDetail();
}

const statusLabel = (s) => ({ open: { en: "open", fr: "ouverte" }, closed: { en: "closed", fr: "fermée" },
  new: { en: "new", fr: "nouvelle" }, acknowledged: { en: "acknowledged", fr: "prise en charge" },
  in_progress: { en: "in progress", fr: "en cours" }, waiting_on_resident: { en: "waiting on the resident", fr: "en attente du résident" },
  reopened: { en: "reopened", fr: "rouverte" } }[s] || { en: s, fr: s })[st.lang];
const serviceName = (code) => (st.services.find((s) => s.service_code === code) || {}).service_name || code;

// bbox is the map's view as minLon,minLat,maxLon,maxLat, clamped to the
// ranges the API accepts; "" without a map.
function bbox() {
  if (!map) return "";
  const b = map.getBounds();
  const c = (v, m) => Math.max(-m, Math.min(m, v)).toFixed(6);
  return [c(b.getWest(), 180), c(b.getSouth(), 90), c(b.getEast(), 180), c(b.getNorth(), 90)].join(",");
}

// refresh lists the clusters the filters and the map's view select. Pages
// come newest first, so the age filter stops paging at the first cluster
// older than it. A newer refresh makes an older one's answer moot.
let seq = 0;
async function refresh() {
  const mine = ++seq;
  const q = new URLSearchParams({ page_size: String(PAGE) });
  const cat = $("f-category").value, status = $("f-status").value, ward = $("f-ward").value;
  if (cat) q.set("category", cat);
  if (ward) q.set("ward", ward);
  if (status) q.set("status", status);
  const box = bbox();
  if (box) q.set("bbox", box);
  const since = Date.now() - Number($("f-age").value || 90) * 86400e3;
  const got = [];
  let more = false;
  try {
    for (let page = 1; ; page++) {
      q.set("page", String(page));
      const cs = await api(`/api/v1/clusters?${q}`, { key: st.key, lang: st.lang });
      if (mine !== seq) return;
      const young = cs.filter((c) => Date.parse(c.created_at) >= since);
      got.push(...young);
      if (cs.length < PAGE || young.length < cs.length) break;
      if (page >= MAX_PAGES) { more = true; break; }
    }
  } catch (err) {
    if (mine !== seq || authFailed(err)) return;
    $("summary").textContent = err.message;
    return;
  }
  for (const c of got) if (c.ward) st.wards.add(c.ward);
  wardOptions();
  st.clusters = got;
  st.more = more;
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
  if (status === "open") f.push(["case", agg, [">", ["+", n("status_new"), n("status_acknowledged"), n("status_in_progress"), n("status_waiting_on_resident"), n("status_reopened")], 0], ["!=", ["get", "status"], "closed"]]);
  if (status === "closed") f.push(["case", agg, [">", n("status_closed"), 0], ["==", ["get", "status"], "closed"]]);
  if (ward) f.push(["==", ["get", "ward_id"], ward]);
  return f;
}

function geojson() {
  const d = st.detail;
  return { type: "FeatureCollection", features: d ? [{
    type: "Feature", geometry: { type: "Point", coordinates: [d.lon, d.lat] }, properties: { cluster_id: d.cluster_id, selected: true },
  }] : [] };
}

// flagged is the cluster's open requests on a retired asset.
const flagged = (id) => [...st.retired.values()].filter((r) => r.cluster_id === id);

function renderList() {
  const nreq = st.clusters.reduce((n, c) => n + c.request_count, 0);
  $("summary").textContent = `${st.clusters.length} ${tr("clusters")}, ${nreq} ${tr("requests")}` + (st.more ? ` (${tr("more")})` : "");
  const items = (st.clusters.length ? st.clusters.map((c) => el("li", {},
    el("button", { type: "button", "data-cluster": c.cluster_id, "aria-current": String(c.cluster_id === st.selected), onclick: () => select(c.cluster_id, true) },
      el("span", { class: "line" }, `#${c.cluster_id} · ${serviceName(c.category)} · ${c.request_count} · ${tr("ward")} ${c.ward || "?"}`),
      el("span", { class: "sub", "data-counts": "" },
        `${c.request_count} ${tr("requests")}, ${c.open_request_count} ${tr("nOpen")}, ${c.reporter_count} ${tr("reporters")}`,
        c.work_order_id ? ` · ${tr("workOrder")} ${c.work_order_id}` : "",
        flagged(c.cluster_id).length ? el("span", { class: "flag" }, ` · ⚠ ${tr("retired")}`) : null))))
    : [el("li", { class: "hint" }, tr("none"))]);
  // Replace the list only when it changed (a map move often lists the
  // same clusters), and keep the keyboard focus on the cluster it was on.
  const ul = $("clusters"), probe = el("ul", {}, items);
  if (probe.innerHTML !== ul.innerHTML) {
    const focused = document.activeElement && ul.contains(document.activeElement) ? document.activeElement.dataset.cluster : "";
    ul.replaceChildren(...items);
    if (focused) ul.querySelector(`[data-cluster="${CSS.escape(focused)}"]`)?.focus();
  }
  if (map && map.getSource("listed")) {
    map.getSource("listed").setData(geojson());
    map.setFilter("cluster-tiles", tileFilter());
  }
  mergeOptions();
}

// select opens a cluster in the panel; from the list, the map flies to it.
async function select(id, fly) {
  if (id !== st.selected) st.note = null;
  st.selected = id;
  renderList();
  await loadDetail();
  const d = st.detail;
  if (fly && d && d.cluster_id === id && map) map.easeTo({ center: [d.lon, d.lat], zoom: Math.max(map.getZoom(), 15) });
  $("detail").focus();
}

// loadDetail fetches the selected cluster with its requests.
async function loadDetail(msg) {
  const id = st.selected;
  if (!id) { st.detail = null; renderDetail(); return; }
  try {
    const d = await api(`/api/v1/clusters/${encodeURIComponent(id)}`, { key: st.key, lang: st.lang });
    if (id !== st.selected) return;
    st.detail = d;
    st.nearby = [];
    if (d.status === "open") loadNearby(d);
  } catch (err) {
    if (authFailed(err)) return;
    st.detail = null;
    fill($("detail"), el("p", { class: "alert", role: "alert" }, err.message));
    return;
  }
  renderDetail(msg);
  if (map && map.getSource("listed")) map.getSource("listed").setData(geojson());
}

// after re-reads everything an action changed: the list, the panel, the
// retired flags and the tiles.
async function after(msg) {
  if (map && map.getSource("cluster-tiles")) map.getSource("cluster-tiles").reload?.();
  await Promise.all([refresh(), loadDetail(msg), loadRetired()]);
}

function renderDetail(message) {
  const c = st.detail;
  const box = $("detail");
  if (!c) { box.replaceChildren(); delete box.dataset.shown; return; }
  const id = encodeURIComponent(c.cluster_id);
  if (message) st.note = { id: c.cluster_id, message };
  const msg = el("div", { role: "status", id: "action-result" });
  if (st.note && st.note.id === c.cluster_id) msg.append(...[st.note.message].flat());
  let fly = false;
  const act = async (fn, done) => {
    msg.textContent = "";
    st.note = null;
    try {
      const res = await fn();
      await after(done ? done(res) : tr("done"));
      const d = st.detail;
      if (fly && d && map) map.easeTo({ center: [d.lon, d.lat], zoom: Math.max(map.getZoom(), 15) });
    }
    catch (err) {
      if (authFailed(err)) return;
      st.note = { id: c.cluster_id, message: err.message };
      $("action-result").textContent = err.message;
    }
  };
  const post = (what, json) => api(`/api/v1/clusters/${id}/${what}`, { method: "POST", key: st.key, lang: st.lang, json });
  const reqs = c.requests || [];
  const retired = reqs.filter((r) => st.retired.has(r.service_request_id));
  const isOpen = c.status === "open";
  const fact = (k, v) => (v === "" || v === undefined || v === null ? [] : [el("dt", {}, tr(k)), el("dd", { "data-fact": k }, v)]);
  // A late reload draws the same cluster again: what the clerk has typed
  // or chosen in its forms stays.
  const typed = box.dataset.shown === c.cluster_id ? ["merge-into", "close-note", "close-reason"].map((k) => [k, $(k) && $(k).value]) : [];
  fill(box,
    el("h2", { id: "detail-h" }, `${tr("cluster")} #${c.cluster_id} — ${serviceName(c.category)}`),
    retired.length ? el("p", { class: "alert", id: "retired-alert" }, tr("retiredAlert")) : null,
    el("dl", { class: "facts" },
      fact("status", statusLabel(c.status)),
      fact("ward", c.ward),
      fact("department", c.department),
      fact("counts", `${c.request_count} · ${c.open_request_count} ${tr("nOpen")} · ${c.reporter_count} ${tr("reporters")}`),
      fact("asset", c.asset_id ? `${c.asset_layer} ${c.asset_id}` : ""),
      fact("workOrder", c.work_order_id || ""),
      fact("created", fmtDate(c.created_at, st.lang)),
      fact("updated", fmtDate(c.updated_at, st.lang))),
    el("form", { id: "split-form", "aria-describedby": "action-result", onsubmit: (e) => {
      e.preventDefault();
      const ids = [...e.target.querySelectorAll("input[name=req]:checked")].map((i) => i.value);
      if (!ids.length) { msg.textContent = tr("splitNone"); return; }
      act(() => post("split", { requests: ids }), (res) => [`${tr("splitDone")} #${res.new_cluster.cluster_id}. `,
        el("button", { type: "button", id: "open-new", onclick: () => select(res.new_cluster.cluster_id, true) }, tr("openNew"))]);
    } },
      el("fieldset", {},
        el("legend", {}, isOpen && reqs.length > 1 ? tr("requestsLegend") : tr("counts")),
        el("ul", { class: "reqs" }, reqs.map((r) => {
          const rid = r.service_request_id;
          const info = [
            el("a", { href: `/r/${rid}?locale=${st.lang}` }, `#${rid}`),
            ` · ${statusLabel(r.status)} · ${fmtDate(r.requested_datetime, st.lang)}`, r.description ? ` — ${r.description}` : "",
            st.retired.has(rid) ? el("span", { class: "flag", "data-retired": rid }, ` · ⚠ ${tr("retired")} (${r.asset_layer} ${r.asset_id})`) : null,
          ];
          if (!(isOpen && reqs.length > 1)) return el("li", {}, info);
          // The checkbox's label names the request; the link beside it stays
          // a link to its status page.
          return el("li", { class: "pick" },
            el("input", { type: "checkbox", name: "req", value: rid, id: `req-${rid}` }),
            el("label", { for: `req-${rid}` }, `${tr("pick")} #${rid}`),
            el("span", {}, info));
        }))),
      isOpen && reqs.length > 1 ? el("div", { class: "row" }, el("button", { type: "submit", id: "split" }, tr("split"))) : null),
    // Any cluster number can be typed; the suggestions are the open
    // clusters of the category near this one and those listed (the map's
    // view), kept current by mergeOptions as the map moves.
    isOpen ? el("form", { onsubmit: (e) => { e.preventDefault();
      const into = e.target.elements.into.value.trim().replace(/^#/, "");
      if (!into) return;
      // The merged cluster opens in the panel and the map goes to it.
      act(() => post("merge", { into }).then((res) => { st.selected = into; fly = true; return res; })); } },
      el("label", { for: "merge-into" }, tr("mergeInto")),
      el("p", { class: "hint", id: "merge-hint" }, tr("mergeHint")),
      el("datalist", { id: "merge-list" }),
      el("input", { type: "text", id: "merge-into", name: "into", list: "merge-list", required: true, autocomplete: "off",
        "aria-describedby": "merge-hint" }),
      el("div", { class: "row" }, el("button", { type: "submit", id: "merge" }, tr("merge")))) : null,
    isOpen ? el("form", { onsubmit: (e) => { e.preventDefault();
      act(() => post("close", { note: e.target.elements.note.value, reason: e.target.elements.reason.value })); } },
      el("label", { for: "close-reason" }, tr("reason")),
      el("select", { id: "close-reason", name: "reason" }, ["resolved", "duplicate", "no_action", "referred"].map((r) => el("option", { value: r }, tr(r)))),
      el("label", { for: "close-note" }, tr("closeNote")),
      el("textarea", { id: "close-note", name: "note", required: true }),
      el("div", { class: "row" }, el("button", { type: "submit" }, tr("close")))) : null,
    msg);
  box.dataset.shown = c.cluster_id; // not data-cluster: that marks the list's buttons
  for (const [k, v] of typed) if (v && $(k)) $(k).value = v;
  mergeOptions();
}

// mergeOptions fills the merge menu with the listed open clusters other
// than the selected one, keeping the choice when it is still listed.
function mergeOptions() {
  const list = $("merge-list");
  if (!list || !st.detail) return;
  const seen = new Set([st.detail.cluster_id]);
  const others = [...st.nearby, ...st.clusters].filter((x) => x.status === "open" && !seen.has(x.cluster_id) && seen.add(x.cluster_id));
  list.replaceChildren(...others.map((o) => el("option", { value: o.cluster_id },
    `#${o.cluster_id} · ${serviceName(o.category)} · ${o.request_count} · ${tr("ward")} ${o.ward || "?"}`)));
}

// loadNearby fetches the open clusters of the selected one's category
// within about 2 km, the likeliest merge targets wherever the map is.
async function loadNearby(d) {
  const dy = 0.018, dx = dy / Math.max(0.1, Math.cos((d.lat * Math.PI) / 180));
  const c = (v, m) => Math.max(-m, Math.min(m, v)).toFixed(6);
  const q = new URLSearchParams({ category: d.category, status: "open", page_size: "50",
    bbox: [c(d.lon - dx, 180), c(d.lat - dy, 90), c(d.lon + dx, 180), c(d.lat + dy, 90)].join(",") });
  try {
    const cs = await api(`/api/v1/clusters?${q}`, { key: st.key, lang: st.lang });
    if (st.detail !== d) return;
    st.nearby = cs;
  } catch (err) {
    authFailed(err);
    return;
  }
  mergeOptions();
}

function setLang(l) {
  st.lang = l;
  localStorage.setItem("pinward-lang", l);
  applyLang(T, l);
  if (st.key && !$("app").hidden) loadServices().then(() => { renderList(); renderDetail(); });
}
for (const b of document.querySelectorAll("[data-lang-button]")) b.addEventListener("click", () => setLang(b.dataset.langButton));
applyLang(T, st.lang);
session = staffSession(tr, (k) => { st.key = k; start(); });
