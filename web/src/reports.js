// The council reports page: volumes, response times, SLA compliance,
// escalations and satisfaction by ward, department, category or channel,
// or two of them crossed, for a period, from the staff reports API
// (/api/v1/reports/{by}.json), with the same report as CSV to download.
// It shares the staff map's key (staffkey.js).
import { api, applyLang, el, fill, initialLang } from "./common.js";
import { staffSession, staffTexts } from "./staffkey.js";

const T = {
  title: { en: "Council reports", fr: "Rapports au conseil" },
  toMap: { en: "Cluster map", fr: "Carte des regroupements" },
  ...staffTexts,
  signIn: { en: "Show reports", fr: "Afficher les rapports" },
  by: { en: "Group by", fr: "Regrouper par" },
  byWard: { en: "Ward", fr: "Quartier" },
  byDepartment: { en: "Department", fr: "Service" },
  byCategory: { en: "Category", fr: "Catégorie" },
  byChannel: { en: "Channel", fr: "Canal" },
  cross: { en: "Then by", fr: "Puis par" },
  crossNone: { en: "(nothing)", fr: "(rien)" },
  and: { en: "and", fr: "et" },
  from: { en: "Received from", fr: "Reçues du" },
  to: { en: "to (included)", fr: "au (inclus)" },
  show: { en: "Show", fr: "Afficher" },
  csv: { en: "Download CSV", fr: "Télécharger le CSV" },
  loading: { en: "Loading…", fr: "Chargement…" },
  none: { en: "No request was received in this period.", fr: "Aucune demande reçue pendant cette période." },
  notes: { en: "SLA compliance: closed on time ÷ (closed on time + closed late + open past due). Hours: from received to closed, over the closed requests; business hours count the working hours of the SLA clock (holidays and waits on the resident left out). Acknowledgement: the first move out of “new”. Escalations: requests that reached each level. Satisfaction: residents' answers from 1 to 5.",
    fr: "Respect des délais : fermées à temps ÷ (fermées à temps + fermées en retard + ouvertes en retard). Heures : de la réception à la fermeture, sur les demandes fermées; les heures ouvrables comptent les heures de travail du délai (sans les jours fériés ni l'attente du résident). Prise en charge : la première sortie de « nouvelle ». Escalades : demandes parvenues à chaque niveau. Satisfaction : réponses des résidents, de 1 à 5." },
  caption: { en: "Requests received from {from} to {to}, by {by}", fr: "Demandes reçues du {from} au {to}, par {by}" },
  total: { en: "Total", fr: "Total" },
  // Column headings.
  name: { en: "Name", fr: "Nom" },
  received: { en: "Received", fr: "Reçues" },
  open: { en: "Open", fr: "Ouvertes" },
  closed: { en: "Closed", fr: "Fermées" },
  closed_on_time: { en: "Closed on time", fr: "Fermées à temps" },
  closed_late: { en: "Closed late", fr: "Fermées en retard" },
  open_overdue: { en: "Open past due", fr: "Ouvertes en retard" },
  sla_compliance: { en: "SLA compliance", fr: "Respect des délais" },
  median_hours_to_close: { en: "Median hours to close", fr: "Heures médianes avant fermeture" },
  p90_hours_to_close: { en: "90th percentile hours", fr: "Heures, 90e centile" },
  median_business_hours_to_close: { en: "Median business hours to close", fr: "Heures ouvrables médianes avant fermeture" },
  p90_business_hours_to_close: { en: "90th percentile business hours", fr: "Heures ouvrables, 90e centile" },
  median_hours_to_acknowledge: { en: "Median hours to acknowledge", fr: "Heures médianes avant prise en charge" },
  p90_hours_to_acknowledge: { en: "90th percentile hours to acknowledge", fr: "Heures avant prise en charge, 90e centile" },
  reopened: { en: "Reopened", fr: "Réouvertures" },
  escalations: { en: "Escalated to level {n}", fr: "Escaladées au niveau {n}" },
  satisfaction_count: { en: "Satisfaction answers", fr: "Réponses de satisfaction" },
  satisfaction_mean: { en: "Mean satisfaction (1–5)", fr: "Satisfaction moyenne (1–5)" },
  satisfied_share: { en: "Satisfied (4 or 5)", fr: "Satisfaits (4 ou 5)" },
};
const COLS = ["received", "open", "closed", "closed_on_time", "closed_late", "open_overdue", "sla_compliance", "median_hours_to_close", "p90_hours_to_close",
  "median_business_hours_to_close", "p90_business_hours_to_close", "median_hours_to_acknowledge", "p90_hours_to_acknowledge", "reopened"];
const SATISFACTION = ["satisfaction_count", "satisfaction_mean", "satisfied_share"];
const BY_LABEL = { ward: "byWard", department: "byDepartment", category: "byCategory", channel: "byChannel" };
const $ = (id) => document.getElementById(id);
const st = { lang: initialLang(), key: "", report: null };
const tr = (k) => T[k][st.lang];
window.pinward = { state: st };

// Default period: the last 30 days, in the browser's calendar.
const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
$("r-to").value = day(new Date());
$("r-from").value = day(new Date(Date.now() - 29 * 86400e3));

// grouping is the report's path: "ward", or "ward,department" crossed.
function grouping() {
  const by = $("r-by").value, cross = $("r-cross").value;
  return cross && cross !== by ? `${by},${cross}` : by;
}

function query() {
  return `start_date=${encodeURIComponent($("r-from").value)}&end_date=${encodeURIComponent($("r-to").value)}&locale=${st.lang}`;
}

async function load() {
  $("report-status").textContent = tr("loading");
  try {
    st.report = await api(`/api/v1/reports/${grouping()}.json?${query()}`, { key: st.key, lang: st.lang });
    $("report-status").textContent = st.report.total.received ? "" : tr("none");
    render();
  } catch (err) {
    if (session.authFailed(err)) return;
    $("report-status").textContent = err.message;
  }
}

const pct = (v) => (v === null ? "—" : new Intl.NumberFormat(st.lang === "fr" ? "fr-CA" : "en-CA", { style: "percent", maximumFractionDigits: 1 }).format(v));
const hours = (v) => (v === null ? "—" : new Intl.NumberFormat(st.lang === "fr" ? "fr-CA" : "en-CA", { maximumFractionDigits: 1 }).format(v));
const cell = (k, v) => (k === "sla_compliance" || k === "satisfied_share" ? pct(v) : k.includes("hours_to") || k === "satisfaction_mean" ? hours(v) : String(v));

function render() {
  const r = st.report;
  const table = $("report");
  if (!r) { table.hidden = true; return; }
  const groups = r.by.split(",");
  const byName = groups.map((g) => tr(BY_LABEL[g]).toLowerCase()).join(` ${tr("and")} `);
  $("report-caption").textContent = tr("caption").replace("{from}", $("r-from").value).replace("{to}", $("r-to").value).replace("{by}", byName);
  // Figures: the fixed columns, one per escalation level, satisfaction.
  const levels = Array.from({ length: r.escalation_levels }, (_, i) => i + 1);
  const heads = [...COLS.map((k) => tr(k)), ...levels.map((n) => tr("escalations").replace("{n}", n)), ...SATISFACTION.map((k) => tr(k))];
  fill(table.querySelector("thead tr"), groups.map((g) => el("th", { scope: "col" }, groups.length > 1 ? tr(BY_LABEL[g]) : tr("name"))),
    heads.map((h) => el("th", { scope: "col" }, h)));
  const cells = (x, tag) => [
    ...COLS.map((k) => el(tag, { "data-col": k }, cell(k, x[k]))),
    ...levels.map((n) => el(tag, { "data-col": `escalations_${n}` }, String(x.escalations[n - 1] ?? 0))),
    ...SATISFACTION.map((k) => el(tag, { "data-col": k }, cell(k, x[k]))),
  ];
  // Wards go by number and name; the others by name.
  const name = (x, two) => (st.lang === "fr" ? (two ? x.name2_fr : x.name_fr) : (two ? x.name2_en : x.name_en));
  const label = (x, g, two) => {
    const key = two ? x.key2 : x.key;
    return g === "ward" && key && key !== name(x, two) ? `${key} — ${name(x, two)}` : name(x, two);
  };
  const row = (x, names) => el("tr", { "data-key": x.key, ...(groups.length > 1 ? { "data-key2": x.key2 } : {}) },
    names.map((n) => el("th", { scope: "row" }, n)), cells(x, "td"));
  fill(table.querySelector("tbody"), r.rows.map((x) => row(x, groups.map((g, i) => label(x, g, i === 1)))));
  fill(table.querySelector("tfoot"), row(r.total, groups.map(() => tr("total"))));
  table.hidden = false;
}

// The CSV comes through fetch (it needs the key header), then is saved.
async function downloadCSV() {
  const res = await fetch(`/api/v1/reports/${grouping()}.csv?${query()}`, { headers: { "X-Api-Key": st.key } });
  if (!res.ok) { $("report-status").textContent = `${res.status}`; return; }
  const url = URL.createObjectURL(await res.blob());
  const a = el("a", { href: url, download: `pinward-${grouping().replace(",", "-")}-${$("r-from").value}-${$("r-to").value}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

$("query").addEventListener("submit", (e) => { e.preventDefault(); load(); });
$("r-by").addEventListener("change", () => load());
$("r-cross").addEventListener("change", () => load());
$("csv").addEventListener("click", () => downloadCSV());

function setLang(l) {
  st.lang = l;
  localStorage.setItem("pinward-lang", l);
  applyLang(T, l);
  if (st.key && !$("app").hidden) load();
}
for (const b of document.querySelectorAll("[data-lang-button]")) b.addEventListener("click", () => setLang(b.dataset.langButton));
applyLang(T, st.lang);
// session is the staff key's sign-in, shared with the staff map.
const session = staffSession(tr, (k) => { st.key = k; load(); });
