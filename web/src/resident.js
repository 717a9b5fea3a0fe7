// The resident report page: pin, category, description, contact, submit
// through Open311 POST with the server's web key.
import { addContext, api, applyLang, config, el, fill, initialLang, maplibregl, newMap, setMapLang } from "./common.js";
import { flush, keep, send } from "./outbox.js";

const T = {
  title: { en: "Report an issue", fr: "Signaler un problème" },
  skip: { en: "Skip to the form", fr: "Aller au formulaire" },
  where: { en: "1. Where is it?", fr: "1. Où est-ce?" },
  mapHint: { en: "Tap the map to zoom in to the street, tap again to drop a pin, then drag it to adjust. With a keyboard: move the map with the arrow keys and press “Pin at map centre”.",
    fr: "Touchez la carte pour vous rapprocher de la rue, touchez-la de nouveau pour placer une épingle, puis faites-la glisser pour l'ajuster. Au clavier : déplacez la carte avec les flèches et appuyez sur « Épingler au centre »." },
  addrLabel: { en: "Search for an address", fr: "Chercher une adresse" },
  addrPh: { en: "e.g. 120 Main Street", fr: "p. ex. 120, rue Principale" },
  noAddr: { en: "No address matches.", fr: "Aucune adresse ne correspond." },
  zoomedIn: { en: "Zoomed in: now tap the exact spot.", fr: "Carte rapprochée : touchez maintenant l'endroit exact." },
  offlinePlace: { en: "You are offline: the ward will be found when the report is sent.",
    fr: "Vous êtes hors ligne : le quartier sera trouvé à l'envoi du signalement." },
  waiting: { en: "You are offline. Your report is kept on this phone and will be sent as soon as the connection returns; you can close this page.",
    fr: "Vous êtes hors ligne. Votre signalement est gardé sur ce téléphone et sera envoyé dès le retour de la connexion; vous pouvez fermer cette page." },
  sentLater: { en: "Your report kept on this phone was sent. Its request number is",
    fr: "Votre signalement gardé sur ce téléphone a été envoyé. Son numéro de demande est" },
  refusedLater: { en: "Your report kept on this phone was refused:", fr: "Votre signalement gardé sur ce téléphone a été refusé :" },
  mapLabel: { en: "Map: choose the location of the issue", fr: "Carte : choisissez l'emplacement du problème" },
  useLocation: { en: "Use my location", fr: "Utiliser ma position" },
  pinCentre: { en: "Pin at map centre", fr: "Épingler au centre" },
  noPin: { en: "No location yet.", fr: "Aucun emplacement pour l'instant." },
  what: { en: "2. What is it?", fr: "2. De quoi s'agit-il?" },
  search: { en: "Search the categories", fr: "Rechercher une catégorie" },
  searchPh: { en: "e.g. pothole, streetlight", fr: "p. ex. nid-de-poule, lampadaire" },
  category: { en: "Category", fr: "Catégorie" },
  description: { en: "Description", fr: "Description" },
  descriptionHint: { en: "What do you see? Anything that helps the crew find it.", fr: "Que voyez-vous? Tout ce qui aide l'équipe à le trouver." },
  contact: { en: "Contact details (optional)", fr: "Coordonnées (facultatif)" },
  contactHint: { en: "Only municipal staff see these, to follow up with you.", fr: "Seul le personnel municipal les voit, pour faire un suivi." },
  privacyTitle: { en: "Your privacy", fr: "Protection de vos renseignements personnels" },
  noticeVersion: { en: "Privacy notice, version", fr: "Avis de confidentialité, version" },
  rightsLink: { en: "Get a copy of your personal information, or have it corrected or deleted", fr: "Obtenir une copie de vos renseignements personnels, ou les faire rectifier ou supprimer" },
  firstName: { en: "First name", fr: "Prénom" },
  lastName: { en: "Last name", fr: "Nom" },
  email: { en: "Email", fr: "Courriel" },
  phone: { en: "Phone", fr: "Téléphone" },
  submit: { en: "Send the report", fr: "Envoyer le signalement" },
  sending: { en: "Sending…", fr: "Envoi…" },
  ward: { en: "Ward", fr: "Quartier" },
  nearest: { en: "Nearest", fr: "Le plus proche" },
  locating: { en: "Locating…", fr: "Localisation…" },
  noCats: { en: "No category matches.", fr: "Aucune catégorie ne correspond." },
  sameIssue: { en: "Is this the same issue?", fr: "Est-ce le même problème?" },
  sameHint: { en: "These open reports are nearby. If one is yours, add your report to it: the crew works it once.",
    fr: "Ces signalements ouverts sont à proximité. Si l'un d'eux est le vôtre, ajoutez-y votre signalement : l'équipe le traite une seule fois." },
  joinThis: { en: "Yes, add my report to this one", fr: "Oui, ajouter mon signalement à celui-ci" },
  joined: { en: "Your report will be added to this issue.", fr: "Votre signalement sera ajouté à ce problème." },
  reports: { en: "reports", fr: "signalements" },
  away: { en: "away", fr: "de distance" },
  needPin: { en: "Choose the location on the map first.", fr: "Choisissez d'abord l'emplacement sur la carte." },
  needCat: { en: "Choose a category.", fr: "Choisissez une catégorie." },
  noKey: { en: "Reporting from this page is not available on this server.", fr: "Le signalement par cette page n'est pas offert sur ce serveur." },
  thanks: { en: "Thank you! Your request number is", fr: "Merci! Votre numéro de demande est" },
  statusLink: { en: "Follow its status", fr: "Suivre son état" },
  another: { en: "Report another issue", fr: "Signaler un autre problème" },
  geoFail: { en: "Your location is not available; place the pin on the map.", fr: "Votre position n'est pas disponible; placez l'épingle sur la carte." },
  mapFail: { en: "The map cannot be shown on this device; use your location instead.", fr: "La carte ne peut pas s'afficher sur cet appareil; utilisez plutôt votre position." },
  required: { en: "(required)", fr: "(obligatoire)" },
  choose: { en: "Choose…", fr: "Choisir…" },
  photo: { en: "Photo (optional)", fr: "Photo (facultatif)" },
  photoHint: { en: "Up to 3 photos. Staff check each one before it is shown to the public.",
    fr: "Jusqu'à 3 photos. Le personnel vérifie chacune avant qu'elle soit montrée au public." },
  removePhoto: { en: "Remove this photo", fr: "Retirer cette photo" },
  tooManyPhotos: { en: "At most 3 photos.", fr: "Au plus 3 photos." },
};
const tr = (k) => T[k][state.lang];

const state = { lang: initialLang(), point: null, code: "", services: [], where: null, defs: {}, idem: newIdem(), photos: [] };
const $ = (id) => document.getElementById(id);

function newIdem() { return (crypto.randomUUID && crypto.randomUUID()) || String(Math.random()).slice(2); }

// Below STREET_ZOOM a tap zooms in to PIN_ZOOM (a fingertip: some 30 m)
// instead of dropping the pin.
const STREET_ZOOM = 16, PIN_ZOOM = 17;
let map = null, marker = null;
try {
  map = newMap("map", {}, state.lang);
  map.on("load", () => addContext(map));
  map.on("click", (e) => {
    // At the opening zoom a fingertip covers a kilometre: the first tap
    // brings that spot to street level, the next one drops the pin.
    if (map.getZoom() < STREET_ZOOM) {
      map.easeTo({ center: e.lngLat, zoom: PIN_ZOOM, duration: 400 });
      $("place").replaceChildren(el("p", { id: "zoomed-in" }, tr("zoomedIn")));
      return;
    }
    setPoint([e.lngLat.lng, e.lngLat.lat]);
  });
} catch (err) {
  console.warn("map unavailable", err);
  $("map").replaceChildren(el("p", { class: "hint", "data-i18n": "mapFail" }, tr("mapFail")));
}
window.pinward = { map, state }; // for the browser tests and the curious

function setPoint(p, { fly = false } = {}) {
  state.point = p;
  if (map) {
    if (!marker) {
      marker = new maplibregl.Marker({ draggable: true, color: "#b3261e" }).setLngLat(p).addTo(map);
      marker.getElement().setAttribute("aria-hidden", "true");
      marker.on("dragend", () => { const l = marker.getLngLat(); setPoint([l.lng, l.lat]); });
    } else marker.setLngLat(p);
    if (fly) map.flyTo({ center: p, zoom: Math.max(map.getZoom(), PIN_ZOOM) });
  }
  locate();
}

$("pin-centre").addEventListener("click", () => {
  if (!map) return;
  const c = map.getCenter();
  setPoint([c.lng, c.lat], { fly: map.getZoom() < STREET_ZOOM });
});
$("locate-me").addEventListener("click", () => {
  if (!navigator.geolocation) { showError(tr("geoFail")); return; }
  navigator.geolocation.getCurrentPosition(
    (pos) => setPoint([pos.coords.longitude, pos.coords.latitude], { fly: true }),
    () => showError(tr("geoFail")),
    { enableHighAccuracy: true, timeout: 10000 });
});

// Address search, when the server has an address file (--addresses): a
// chosen address drops the pin there, at street level.
if (config.addresses) {
  $("addr-box").hidden = false;
  let timer = 0, seq = 0;
  $("addr").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = $("addr").value.trim();
      const mine = ++seq;
      if (q.length < 2) { $("addr-results").replaceChildren(); return; }
      let list = [];
      try { list = await api("/api/v1/addresses?" + new URLSearchParams({ q, limit: "6" }), { lang: state.lang }); } catch (err) { console.warn("addresses", err); }
      if (mine !== seq) return;
      fill($("addr-results"), list.length === 0 ? el("li", { class: "hint" }, tr("noAddr")) : list.map((a) =>
        el("li", {}, el("button", { type: "button", class: "addr", onclick: () => {
          $("addr-results").replaceChildren();
          $("addr").value = a.label;
          setPoint([a.long, a.lat], { fly: true });
        } }, a.label))));
    }, 250);
  });
}

let locateSeq = 0;
async function locate() {
  if (!state.point) return;
  const seq = ++locateSeq;
  const [lon, lat] = state.point;
  $("place").replaceChildren(el("p", {}, tr("locating")));
  const q = new URLSearchParams({ lat: lat.toFixed(7), long: lon.toFixed(7), locale: state.lang });
  if (state.code) q.set("service_code", state.code);
  try {
    const r = await api("/api/v1/locate?" + q, { lang: state.lang });
    if (seq !== locateSeq) return;
    state.where = r;
    renderPlace();
  } catch (err) {
    if (seq !== locateSeq) return;
    state.where = null;
    const offline = !navigator.onLine || err instanceof TypeError;
    $("place").replaceChildren(offline ? el("p", { id: "place-offline" }, tr("offlinePlace"))
      : el("p", { class: "alert", id: "place-error" }, err.message));
    $("nearby").hidden = true;
  }
}

function renderPlace() {
  const r = state.where;
  if (!r) { $("place").replaceChildren(el("p", {}, tr("noPin"))); return; }
  const lines = [el("p", { id: "ward" }, el("strong", {}, tr("ward") + colon()), r.ward.name)];
  if (state.code && r.asset) {
    lines.push(el("p", { id: "asset" }, el("strong", {}, tr("nearest") + colon()),
      `${assetName(r.asset.layer)} ${r.asset.id} (${Math.round(r.asset.distance_m)} m)`));
  }
  fill($("place"), lines);
  renderNearby();
}

const ASSET = {
  streetlight: { en: "Streetlight", fr: "Lampadaire" }, hydrant: { en: "Hydrant", fr: "Borne d'incendie" },
  tree: { en: "Tree", fr: "Arbre" }, catch_basin: { en: "Catch basin", fr: "Puisard" }, sign: { en: "Sign", fr: "Panneau" },
};
const assetName = (l) => (ASSET[l] ? ASSET[l][state.lang] : l);

function renderNearby() {
  const box = $("nearby");
  const list = (state.where && state.where.nearby) || [];
  if (!state.code || list.length === 0) { box.hidden = true; box.replaceChildren(); return; }
  box.hidden = false;
  fill(box,
    el("h3", {}, tr("sameIssue")),
    el("p", { class: "hint" }, tr("sameHint")),
    el("ul", {}, list.map((c) => el("li", {},
      el("p", {}, el("strong", {}, `#${c.cluster_id} · ${c.service_name}`), ` — ${c.status_label}, ${c.count} ${tr("reports")}, ${Math.round(c.distance_m)} m ${tr("away")}`),
      c.description ? el("p", { class: "hint" }, c.description) : null,
      state.where.joins === c.cluster_id && sameSpot(c)
        ? el("p", {}, tr("joined"))
        : el("button", { type: "button", onclick: () => setPoint([c.long, c.lat]) }, tr("joinThis")),
    ))));
}
const sameSpot = (c) => state.point && Math.abs(state.point[0] - c.long) < 1e-7 && Math.abs(state.point[1] - c.lat) < 1e-7;

const colon = () => (state.lang === "fr" ? " : " : ": ");

async function loadServices() {
  const list = await api(`/open311/v2/services.json?locale=${state.lang}`, { lang: state.lang });
  state.services = list;
  renderCats();
}

function renderCats() {
  const box = $("cats");
  const term = $("cat-search").value.trim().toLocaleLowerCase();
  const norm = (s) => (s || "").toLocaleLowerCase().normalize("NFD").replace(/\p{M}/gu, "");
  const groups = new Map();
  for (const s of state.services) {
    const hay = norm([s.service_name, s.description, s.keywords, s.group].join(" "));
    if (term && !hay.includes(norm(term))) continue;
    if (!groups.has(s.group)) groups.set(s.group, []);
    groups.get(s.group).push(s);
  }
  const label = box.firstElementChild;
  const sets = [...groups].map(([g, items]) => el("fieldset", {}, el("legend", {}, g),
    items.map((s) => el("label", {},
      el("input", { type: "radio", name: "service_code", value: s.service_code, checked: s.service_code === state.code,
        onchange: () => chooseCat(s.service_code) }),
      s.service_name))));
  box.replaceChildren(label, ...(sets.length ? sets : [el("p", { class: "hint" }, tr("noCats"))]));
  showHelp();
}

// showHelp puts the chosen category's help text (its catalog description,
// in the page's language) right under it.
function showHelp() {
  document.getElementById("cat-help")?.remove();
  const input = [...$("cats").querySelectorAll("input[name=service_code]")].find((i) => i.value === state.code);
  const s = state.services.find((x) => x.service_code === state.code);
  if (!input || !s || !s.description) return;
  const help = el("p", { id: "cat-help", class: "hint cat-help" }, s.description);
  input.closest("label").after(help);
  input.setAttribute("aria-describedby", "cat-help");
}
$("cat-search").addEventListener("input", renderCats);

async function chooseCat(code) {
  state.code = code;
  showHelp();
  locate();
  try {
    const key = state.lang + ":" + code;
    if (!state.defs[key]) state.defs[key] = await api(`/open311/v2/services/${encodeURIComponent(code)}.json?locale=${state.lang}`, { lang: state.lang });
    renderAttrs(state.defs[key]);
  } catch (err) { showError(err.message); }
}

function renderAttrs(def) {
  const box = $("attrs");
  const attrs = ((def && def.attributes) || []).filter((a) => a.variable !== false);
  box.replaceChildren(...attrs.map((a) => {
    const id = "attr-" + a.code;
    const name = `attribute[${a.code}]`;
    const lbl = el("label", { for: id }, a.description, a.required ? " " + tr("required") : "");
    let input;
    switch (a.datatype) {
      case "singlevaluelist":
        input = el("select", { id, name, required: a.required }, el("option", { value: "" }, tr("choose")),
          (a.values || []).map((v) => el("option", { value: v.key }, v.name)));
        break;
      case "multivaluelist":
        input = el("select", { id, name, multiple: true, required: a.required }, (a.values || []).map((v) => el("option", { value: v.key }, v.name)));
        break;
      case "text":
        input = el("textarea", { id, name, required: a.required });
        break;
      case "number":
        input = el("input", { type: "number", id, name, required: a.required, step: "any" });
        break;
      case "datetime":
        input = el("input", { type: "datetime-local", id, name, required: a.required });
        break;
      default:
        input = el("input", { type: "text", id, name, required: a.required });
    }
    return el("div", {}, lbl, input);
  }));
}

function showError(msg) {
  const e = $("error");
  e.textContent = msg;
  e.hidden = !msg;
}

// Photos are downsized on the phone before upload (a 12 MP photo is 3–8
// MB; 2048 px at JPEG 0.85 is a few hundred kB), through a canvas, which
// also drops the photo's metadata. The server re-encodes them anyway. A
// photo the browser cannot decode (HEIC outside Safari) is sent as is: the
// server says what to do.
const MAX_PHOTOS = 3, MAX_SIDE = 2048;

async function downsize(file) {
  try {
    const bmp = await createImageBitmap(file, { imageOrientation: "from-image" });
    const k = Math.min(1, MAX_SIDE / Math.max(bmp.width, bmp.height));
    const c = document.createElement("canvas");
    c.width = Math.max(1, Math.round(bmp.width * k));
    c.height = Math.max(1, Math.round(bmp.height * k));
    c.getContext("2d").drawImage(bmp, 0, 0, c.width, c.height);
    bmp.close && bmp.close();
    const blob = await new Promise((ok) => c.toBlob(ok, "image/jpeg", 0.85));
    return blob || file;
  } catch {
    return file;
  }
}

function showPhotos() {
  fill($("photos"), ...state.photos.map((p, i) =>
    el("li", {},
      el("img", { src: p.url, alt: "", width: 64, height: 64 }),
      el("button", { type: "button", class: "remove-photo", "aria-label": tr("removePhoto"), onclick: () => {
        URL.revokeObjectURL(p.url);
        state.photos.splice(i, 1);
        showPhotos();
      } }, "×"))));
  $("photo").disabled = state.photos.length >= MAX_PHOTOS;
}

$("photo").addEventListener("change", async (ev) => {
  const input = ev.target;
  for (const f of input.files) {
    if (state.photos.length >= MAX_PHOTOS) { showError(tr("tooManyPhotos")); break; }
    const blob = await downsize(f);
    state.photos.push({ blob, url: URL.createObjectURL(blob) });
  }
  input.value = "";
  showPhotos();
});

$("form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  showError("");
  if (!config.web_key) { showError(tr("noKey")); return; }
  if (!state.point) { showError(tr("needPin")); $("pin-centre").focus(); return; }
  if (!state.code) { showError(tr("needCat")); $("cat-search").focus(); return; }
  const body = new URLSearchParams();
  body.set("api_key", config.web_key);
  body.set("locale", state.lang);
  body.set("channel", "web");
  body.set("service_code", state.code);
  body.set("lat", state.point[1].toFixed(7));
  body.set("long", state.point[0].toFixed(7));
  for (const f of ["description", "first_name", "last_name", "email", "phone"]) {
    const v = $(f).value.trim();
    if (v) body.set(f, v);
  }
  for (const inp of $("attrs").querySelectorAll("[name]")) {
    if (inp.multiple) for (const o of inp.selectedOptions) body.append(inp.name, o.value);
    else if (inp.value !== "") body.set(inp.name, inp.value);
  }
  const report = { idem: state.idem, fields: [...body], photos: state.photos.map((p) => p.blob), lang: state.lang, at: Date.now() };
  const btn = $("submit");
  btn.disabled = true;
  btn.textContent = tr("sending");
  try {
    let ans;
    try {
      if (!navigator.onLine) throw new TypeError("offline");
      ans = await send(report);
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      // No connection: kept on the phone, sent when it returns.
      await keep(report);
      waitingShown(report.idem);
      return;
    }
    if (!ans.ok) throw new Error(errorText(ans));
    done(ans.data[0]);
  } catch (err) {
    showError(err.message);
  } finally {
    btn.disabled = false;
    btn.textContent = tr("submit");
  }
});

function errorText(ans) {
  const e = Array.isArray(ans.data) ? ans.data[0] : ans.data;
  return (e && (state.lang === "fr" ? e.description_fr : e.description_en)) || "HTTP " + ans.status;
}

// waitingShown tells the resident, in their language, that the report
// idem waits on the phone for the connection.
let waitingFor = "";
function waitingShown(idem) {
  waitingFor = idem;
  const box = $("done");
  fill(box, el("p", { id: "waiting", "data-i18n": "waiting" }, tr("waiting")),
    el("button", { type: "button", "data-i18n": "another", onclick: () => location.reload() }, tr("another")));
  box.hidden = false;
  $("form").hidden = true;
  box.focus();
}

// sendKept sends what the outbox holds; a report sent from this page view
// ends as an online one does, one kept from an earlier visit is announced.
function sendKept() {
  flush((r, ans) => {
    if (r.idem === waitingFor) {
      if (ans.ok) done(ans.data[0]);
      else fill($("done"), el("p", { class: "alert", id: "kept-error" }, `${tr("refusedLater")} ${errorText(ans)}`));
      return;
    }
    const box = $("outbox");
    box.append(ans.ok
      ? el("p", {}, `${tr("sentLater")} `, el("a", { href: `/r/${encodeURIComponent(ans.data[0].service_request_id)}?locale=${state.lang}` }, ans.data[0].service_request_id))
      : el("p", { class: "alert" }, `${tr("refusedLater")} ${errorText(ans)}`));
    box.hidden = false;
  }).catch((err) => console.warn("outbox", err));
}
window.addEventListener("online", sendKept);
setInterval(() => { if (navigator.onLine) sendKept(); }, 30_000);
sendKept();

function done(r) {
  const id = r.service_request_id;
  const ward = state.where && state.where.ward;
  const box = $("done");
  fill(box,
    el("p", {}, tr("thanks")),
    el("p", { class: "number", id: "request-number" }, id),
    ward ? el("p", { id: "done-ward" }, `${tr("ward")}${colon()}${ward.name}`) : null,
    r.service_notice ? el("p", {}, r.service_notice) : null,
    el("p", {}, el("a", { href: `/r/${encodeURIComponent(id)}?locale=${state.lang}`, id: "status-link" }, tr("statusLink"))),
    el("button", { type: "button", onclick: () => location.reload() }, tr("another")));
  box.hidden = false;
  $("form").hidden = true;
  box.focus();
}

// The municipality's privacy notice (from its catalog), shown before the
// contact fields in the page's language; the server records its version
// with any contact details given.
let notice = null;
async function loadNotice() {
  try { notice = await api("/api/v1/privacy-notice"); } catch { notice = null; }
  renderNotice();
}
function renderNotice() {
  const box = $("privacy-notice");
  if (!notice) { box.hidden = true; return; }
  const l = state.lang;
  $("privacy-body").replaceChildren(
    el("p", {}, notice.purpose[l]),
    el("p", {}, notice.retention[l]),
    el("p", {}, notice.contact[l]),
    el("p", {}, el("a", { href: `/rights?locale=${l}`, id: "rights-link" }, tr("rightsLink"))),
    el("p", { class: "hint", id: "privacy-version" }, `${tr("noticeVersion")} ${notice.version}`));
  box.hidden = false;
}

function setLang(lang) {
  state.lang = lang;
  localStorage.setItem("pinward-lang", lang);
  applyLang(T, lang);
  setMapLang(map, lang);
  renderNotice();
  loadServices().then(() => { if (state.code) chooseCat(state.code); }).catch((e) => showError(e.message));
  if (state.point) locate();
}
for (const b of document.querySelectorAll("[data-lang-button]")) b.addEventListener("click", () => setLang(b.dataset.langButton));
setLang(state.lang);
loadNotice();

// The service worker (web/src/sw.js) keeps the page's files for offline
// visits; registered once the page has loaded and its map has drawn, so
// its downloads never compete with the first view.
if ("serviceWorker" in navigator) {
  const register = () => navigator.serviceWorker.register("/sw.js").catch((e) => console.warn("service worker", e));
  window.addEventListener("load", () => (map ? map.once("idle", register) : register()));
}
