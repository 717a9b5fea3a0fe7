// The department queue page (/staff/queue): a department's open requests
// sorted by due time from GET /api/v1/queue, overdue and escalated ones
// marked in words, one request's history (GET /api/v1/requests/{id}/events)
// and, behind a logged read, its reporter; then the staff actions
// (transition with a canned response or a note, assign, internal note) and
// a request entered for a caller. It shares the staff key (staffkey.js).
import { api, applyLang, el, fill, fmtDate, initialLang } from "./common.js";
import { staffSession, staffTexts } from "./staffkey.js";

const T = {
  title: { en: "Request queue", fr: "File des demandes" },
  toMap: { en: "Cluster map", fr: "Carte des regroupements" },
  toReports: { en: "Council reports", fr: "Rapports au conseil" },
  ...staffTexts,
  signIn: { en: "Show the queue", fr: "Afficher la file" },
  department: { en: "Department", fr: "Service" },
  allDepartments: { en: "All departments", fr: "Tous les services" },
  ward: { en: "Ward", fr: "Quartier" },
  sort: { en: "Order", fr: "Ordre" },
  sortDue: { en: "Due soonest", fr: "Échéance la plus proche" },
  sortReceived: { en: "Received first", fr: "Reçues en premier" },
  sortEscalation: { en: "Most escalated", fr: "Les plus escaladées" },
  overdueOnly: { en: "Overdue only", fr: "En retard seulement" },
  show: { en: "Show", fr: "Afficher" },
  more: { en: "Show more", fr: "Afficher plus" },
  loading: { en: "Loading…", fr: "Chargement…" },
  none: { en: "No open request in this queue.", fr: "Aucune demande ouverte dans cette file." },
  caption: { en: "Open requests: {n} shown", fr: "Demandes ouvertes : {n} affichées" },
  colRequest: { en: "Request", fr: "Demande" },
  colCategory: { en: "Category", fr: "Catégorie" },
  colStatus: { en: "Status", fr: "État" },
  colWard: { en: "Ward", fr: "Quartier" },
  colDue: { en: "Due", fr: "Échéance" },
  colLeft: { en: "Time left", fr: "Temps restant" },
  colLevel: { en: "Escalation", fr: "Escalade" },
  open: { en: "Open request {id}", fr: "Ouvrir la demande {id}" },
  overdue: { en: "Overdue", fr: "En retard" },
  overdueBy: { en: "overdue by {t}", fr: "en retard de {t}" },
  left: { en: "{t} left", fr: "{t} restant" },
  paused: { en: "paused", fr: "en pause" },
  noSLA: { en: "no deadline", fr: "sans échéance" },
  level: { en: "Level {n}", fr: "Niveau {n}" },
  history: { en: "History", fr: "Historique" },
  reporter: { en: "Reporter", fr: "Demandeur" },
  reporterHint: { en: "Personal information: each read is logged with your key.", fr: "Renseignements personnels : chaque lecture est consignée avec votre clé." },
  showReporter: { en: "Show the reporter", fr: "Afficher le demandeur" },
  anonymous: { en: "Anonymous report.", fr: "Signalement anonyme." },
  act: { en: "Act on this request", fr: "Agir sur cette demande" },
  transition: { en: "Change the status", fr: "Changer l'état" },
  to: { en: "New status", fr: "Nouvel état" },
  template: { en: "Canned response", fr: "Réponse type" },
  noTemplate: { en: "None: write a note", fr: "Aucune : rédiger une note" },
  noteEn: { en: "Public note in English", fr: "Note publique en anglais" },
  noteFr: { en: "Public note in French", fr: "Note publique en français" },
  internal: { en: "Internal note (staff only)", fr: "Note interne (personnel seulement)" },
  reason: { en: "Reason for closing", fr: "Motif de fermeture" },
  reasonNone: { en: "—", fr: "—" },
  r_fixed: { en: "Fixed", fr: "Réglée" },
  r_duplicate: { en: "Duplicate", fr: "En double" },
  r_referred: { en: "Referred elsewhere", fr: "Transmise ailleurs" },
  r_not_found: { en: "Not found", fr: "Introuvable" },
  r_no_action_needed: { en: "No action needed", fr: "Aucune action requise" },
  r_no_response: { en: "No response", fr: "Sans réponse" },
  referredTo: { en: "Referred to", fr: "Transmise à" },
  apply: { en: "Apply", fr: "Appliquer" },
  assign: { en: "Assign", fr: "Assigner" },
  assignee: { en: "Crew or person", fr: "Équipe ou personne" },
  assignButton: { en: "Assign", fr: "Assigner" },
  noteTitle: { en: "Internal note", fr: "Note interne" },
  noteLabel: { en: "Note (staff only)", fr: "Note (personnel seulement)" },
  addNote: { en: "Add the note", fr: "Ajouter la note" },
  backToList: { en: "Back to the list", fr: "Retour à la liste" },
  done: { en: "Done.", fr: "C'est fait." },
  callerTitle: { en: "Enter a request for a caller", fr: "Saisir une demande pour un appelant" },
  channel: { en: "Received by", fr: "Reçue par" },
  ch_phone: { en: "Phone", fr: "Téléphone" },
  ch_counter: { en: "At the counter", fr: "Au comptoir" },
  category: { en: "Category", fr: "Catégorie" },
  address: { en: "Address", fr: "Adresse" },
  lat: { en: "Latitude", fr: "Latitude" },
  long: { en: "Longitude", fr: "Longitude" },
  description: { en: "What the caller reports", fr: "Ce que l'appelant signale" },
  firstName: { en: "First name", fr: "Prénom" },
  lastName: { en: "Last name", fr: "Nom" },
  phone: { en: "Phone", fr: "Téléphone" },
  email: { en: "Email", fr: "Courriel" },
  enter: { en: "Enter the request", fr: "Saisir la demande" },
  entered: { en: "Request {id} entered.", fr: "Demande {id} saisie." },
  received: { en: "Received", fr: "Reçue" },
  assigned: { en: "Assigned to", fr: "Assignée à" },
  channelIs: { en: "Channel", fr: "Canal" },
  // Statuses and event kinds.
  st_new: { en: "New", fr: "Nouvelle" },
  st_open: { en: "Open", fr: "Ouverte" },
  st_acknowledged: { en: "Acknowledged", fr: "Prise en charge" },
  st_in_progress: { en: "In progress", fr: "En cours" },
  st_waiting_on_resident: { en: "Waiting on the resident", fr: "En attente du résident" },
  st_closed: { en: "Closed", fr: "Fermée" },
  st_reopened: { en: "Reopened", fr: "Rouverte" },
  ev_created: { en: "Received", fr: "Reçue" },
  ev_status: { en: "Status changed", fr: "Changement d'état" },
  ev_merged: { en: "Merged", fr: "Fusionnée" },
  ev_reporter_read: { en: "Reporter read", fr: "Demandeur consulté" },
  ev_escalated: { en: "Escalated", fr: "Escaladée" },
  ev_assigned: { en: "Assigned", fr: "Assignée" },
  ev_note: { en: "Internal note", fr: "Note interne" },
};
const $ = (id) => document.getElementById(id);
const st = { lang: initialLang(), key: "", rows: [], cursor: "", departments: [], services: [], templates: [], current: null };
const tr = (k) => (T[k] ? T[k][st.lang] : k);
const sub = (k, vars) => Object.entries(vars).reduce((s, [n, v]) => s.replace(`{${n}}`, v), tr(k));
window.pinward = { state: st };

// span formats seconds of the SLA's clock as days (of 24 h), hours and minutes.
function span(sec) {
  const m = Math.round(sec / 60);
  const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), mm = m % 60;
  const u = st.lang === "fr" ? ["j", "h", "min"] : ["d", "h", "min"];
  return [d && `${d} ${u[0]}`, (h || d) && `${h} ${u[1]}`, `${mm} ${u[2]}`].filter(Boolean).join(" ");
}

function query() {
  const p = new URLSearchParams();
  if ($("q-department").value) p.set("department", $("q-department").value);
  if ($("q-ward").value.trim()) p.set("ward", $("q-ward").value.trim());
  p.set("sort", $("q-sort").value);
  if ($("q-overdue").checked) p.set("overdue", "true");
  p.set("limit", "50");
  p.set("locale", st.lang);
  return p;
}

// queueReads numbers the queue reads, as historyReads does the history's:
// only the latest answer is drawn.
let queueReads = 0;
async function load(more) {
  const read = ++queueReads;
  $("queue-status").textContent = tr("loading");
  const p = query();
  if (more && st.cursor) p.set("cursor", st.cursor);
  try {
    const page = await api(`/api/v1/queue?${p}`, { key: st.key, lang: st.lang });
    if (read !== queueReads) return;
    st.rows = more ? st.rows.concat(page.requests) : page.requests;
    st.cursor = page.next_cursor || "";
    if (!st.departments.length) {
      st.departments = page.departments || [];
      renderDepartments();
    }
    $("queue-status").textContent = st.rows.length ? "" : tr("none");
    render();
    $("queue").dataset.query = p.toString(); // what the rows answer (tests wait on it)
  } catch (err) {
    if (session.authFailed(err) || read !== queueReads) return;
    $("queue-status").textContent = err.message;
  }
}

function renderDepartments() {
  const sel = $("q-department");
  const keep = sel.value || new URLSearchParams(location.search).get("department") || "";
  fill(sel, el("option", { value: "" }, tr("allDepartments")),
    st.departments.map((d) => el("option", { value: d.code }, st.lang === "fr" ? d.name_fr : d.name_en)));
  sel.value = keep;
}

const serviceName = (r) => (st.lang === "fr" ? r.service_name_fr : r.service_name_en) || r.service_code;

function render() {
  const table = $("queue");
  table.hidden = st.rows.length === 0;
  $("queue-caption").textContent = sub("caption", { n: st.rows.length });
  fill(table.querySelector("tbody"), st.rows.map((r) => {
    let left = tr("noSLA");
    if (r.business_seconds_remaining !== null) {
      left = r.overdue ? sub("overdueBy", { t: span(r.business_seconds_overdue) }) : sub("left", { t: span(r.business_seconds_remaining) });
      if (r.paused) left += ` (${tr("paused")})`;
    }
    return el("tr", { "data-id": r.service_request_id, class: [r.overdue && "overdue", r.escalation_level > 0 && "escalated"].filter(Boolean).join(" ") || null },
      el("td", {}, el("button", { type: "button", class: "open-request", "aria-label": sub("open", { id: r.service_request_id }),
        onclick: () => openRequest(r.service_request_id) }, r.service_request_id)),
      el("td", {}, serviceName(r)),
      el("td", { "data-col": "status" }, tr("st_" + r.detailed_status)),
      el("td", {}, r.ward_id),
      el("td", { "data-col": "due" }, r.due_at ? fmtDate(r.due_at, st.lang) : "—", r.overdue ? [" ", el("span", { class: "badge overdue" }, tr("overdue"))] : null),
      el("td", { "data-col": "left" }, left),
      el("td", { "data-col": "level", class: "level" }, r.escalation_level > 0 ? el("span", { class: "badge level" }, sub("level", { n: r.escalation_level })) : "—"));
  }));
  $("more").hidden = !st.cursor;
}

async function openRequest(id) {
  st.current = st.rows.find((r) => r.service_request_id === id) || { service_request_id: id };
  const r = st.current;
  $("detail").hidden = false;
  $("detail-title").textContent = `${tr("colRequest")} ${id}${r.service_code ? " — " + serviceName(r) : ""}`;
  fill($("detail-facts"), r.service_code ? [
    el("dt", {}, tr("colStatus")), el("dd", {}, tr("st_" + r.detailed_status)),
    el("dt", {}, tr("received")), el("dd", {}, fmtDate(r.requested_at, st.lang)),
    el("dt", {}, tr("colDue")), el("dd", {}, r.due_at ? fmtDate(r.due_at, st.lang) : tr("noSLA")),
    el("dt", {}, tr("assigned")), el("dd", {}, r.assignee || "—"),
    el("dt", {}, tr("channelIs")), el("dd", {}, r.channel),
    el("dt", {}, tr("address")), el("dd", {}, r.address || `${r.lat}, ${r.long}`),
  ] : []);
  $("reporter-facts").hidden = true;
  $("action-result").textContent = "";
  $("detail-title").focus();
  history.replaceState(null, "", `?request=${encodeURIComponent(id)}`);
  await Promise.all([loadHistory(id), loadTemplates(r.service_code)]);
}

// historyReads numbers the history reads: an older read that answers
// late (opening a request, then acting on it at once) must not draw over
// a newer one.
let historyReads = 0;
async function loadHistory(id) {
  const read = ++historyReads;
  try {
    const evs = await api(`/api/v1/requests/${encodeURIComponent(id)}/events`, { key: st.key, lang: st.lang });
    if (read !== historyReads) return;
    fill($("history"), evs.map((e) => el("li", { "data-kind": e.kind },
      el("time", { datetime: e.at }, fmtDate(e.at, st.lang)), " — ", tr("ev_" + e.kind),
      e.kind === "status" && e.from ? `: ${tr("st_" + e.from)} → ${tr("st_" + e.to)}` : "",
      e.kind === "escalated" ? ` (${e.note})` : e.note ? ` — ${e.note}` : "",
      ` · ${e.actor}`)));
  } catch (err) {
    if (session.authFailed(err) || read !== historyReads) return;
    fill($("history"), el("li", {}, err.message));
  }
}

async function loadTemplates(code) {
  const sel = $("t-template");
  fill(sel, el("option", { value: "" }, tr("noTemplate")));
  if (!code) return;
  try {
    st.templates = await api(`/api/v1/templates?service_code=${encodeURIComponent(code)}`, { key: st.key, lang: st.lang });
    // Each option says where it moves the request and what the resident
    // will read, in the page's language.
    for (const t of st.templates) {
      const text = st.lang === "fr" ? t.fr : t.en;
      sel.append(el("option", { value: t.id }, `${tr("st_" + t.to)} — ${text.length > 80 ? text.slice(0, 79) + "…" : text}`));
    }
  } catch (err) {
    if (!session.authFailed(err)) st.templates = []; // none for the category: notes only
  }
}

// A canned response goes with one move (and a close with its reason):
// choosing it sets them, so the clerk does not send a move it refuses.
$("t-template").addEventListener("change", () => {
  const t = (st.templates || []).find((x) => x.id === $("t-template").value);
  if (!t) return;
  $("t-to").value = t.to;
  $("t-reason").value = t.reason || "";
});

$("show-reporter").addEventListener("click", async () => {
  if (!st.current) return;
  try {
    const p = await api(`/api/v1/requests/${encodeURIComponent(st.current.service_request_id)}/reporter`, { key: st.key, lang: st.lang });
    const facts = [[tr("firstName"), p.first_name], [tr("lastName"), p.last_name], [tr("email"), p.email], [tr("phone"), p.phone]].filter(([, v]) => v);
    fill($("reporter-facts"), facts.length ? facts.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]) : [el("dt", {}, tr("reporter")), el("dd", {}, tr("anonymous"))]);
    $("reporter-facts").hidden = false;
    loadHistory(st.current.service_request_id); // the read is now in the history
  } catch (err) {
    if (!session.authFailed(err)) $("action-result").textContent = err.message;
  }
});

// act posts one staff action on the open request and reloads what it changes.
async function act(path, json) {
  const id = st.current && st.current.service_request_id;
  if (!id) return;
  try {
    await api(`/api/v1/requests/${encodeURIComponent(id)}/${path}`, { method: "POST", key: st.key, lang: st.lang, json });
    $("action-result").textContent = tr("done");
    await Promise.all([loadHistory(id), load(false)]);
  } catch (err) {
    if (!session.authFailed(err)) $("action-result").textContent = err.message;
  }
}

$("transition-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const body = { to: $("t-to").value };
  const add = (k, id) => { const v = $(id).value.trim(); if (v) body[k] = v; };
  add("template", "t-template");
  add("public_note_en", "t-note-en");
  add("public_note_fr", "t-note-fr");
  add("internal_note", "t-internal");
  add("reason", "t-reason");
  add("referred_to", "t-referred");
  act("transition", body);
});
$("assign-form").addEventListener("submit", (e) => { e.preventDefault(); act("assign", { assignee: $("a-assignee").value.trim() }); });
$("note-form").addEventListener("submit", (e) => { e.preventDefault(); act("notes", { internal_note: $("n-note").value.trim() }); });
$("close-detail").addEventListener("click", () => {
  $("detail").hidden = true;
  history.replaceState(null, "", location.pathname);
  const b = document.querySelector(`#queue tr[data-id="${CSS.escape(st.current ? st.current.service_request_id : "")}"] button`);
  (b || $("q-department")).focus();
});

$("caller-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const v = (id) => $(id).value.trim();
  const body = { service_code: v("c-service"), lat: Number(v("c-lat")), long: Number(v("c-long")), channel: v("c-channel") };
  for (const [k, id] of [["address_string", "c-address"], ["description", "c-description"], ["first_name", "c-first"],
    ["last_name", "c-last"], ["phone", "c-phone"], ["email", "c-email"]]) if (v(id)) body[k] = v(id);
  try {
    const r = await api(`/api/v1/requests?locale=${st.lang}`, { method: "POST", key: st.key, lang: st.lang, json: body });
    const id = (Array.isArray(r) ? r[0] : r).service_request_id;
    $("caller-result").textContent = sub("entered", { id });
    load(false);
  } catch (err) {
    if (!session.authFailed(err)) $("caller-result").textContent = err.message;
  }
});

async function loadServices() {
  try {
    st.services = await api(`/open311/v2/services.json?locale=${st.lang}`, { lang: st.lang });
    fill($("c-service"), st.services.map((s) => el("option", { value: s.service_code }, s.service_name)));
  } catch { /* the form says nothing until the list loads */ }
}

$("query").addEventListener("submit", (e) => { e.preventDefault(); load(false); });
$("more").addEventListener("click", () => load(true));

function setLang(lang) {
  st.lang = lang;
  localStorage.setItem("pinward-lang", lang);
  applyLang(T, lang);
  if (st.departments.length) renderDepartments();
  render();
  if (st.key) loadServices();
  if (st.current && !$("detail").hidden) openRequest(st.current.service_request_id);
}
for (const b of document.querySelectorAll("[data-lang-button]")) b.addEventListener("click", () => setLang(b.dataset.langButton));
applyLang(T, st.lang);

const session = staffSession(tr, async (key) => {
  st.key = key;
  loadServices();
  await load(false);
  const want = new URLSearchParams(location.search).get("request");
  if (want) openRequest(want);
});
