// The council reports page: volumes, response times and SLA compliance by
// ward, department or category for a period, from the staff reports API
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
  from: { en: "Received from", fr: "Reçues du" },
  to: { en: "to (included)", fr: "au (inclus)" },
  show: { en: "Show", fr: "Afficher" },
  csv: { en: "Download CSV", fr: "Télécharger le CSV" },
  loading: { en: "Loading…", fr: "Chargement…" },
  none: { en: "No request was received in this period.", fr: "Aucune demande reçue pendant cette période." },
  notes: { en: "SLA compliance: closed on time ÷ (closed on time + closed late + open past due). Hours: from received to closed, over the closed requests.",
    fr: "Respect des délais : fermées à temps ÷ (fermées à temps + fermées en retard + ouvertes en retard). Heures : de la réception à la fermeture, sur les demandes fermées." },
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
};
const COLS = ["received", "open", "closed", "closed_on_time", "closed_late", "open_overdue", "sla_compliance", "median_hours_to_close", "p90_hours_to_close"];
const $ = (id) => document.getElementById(id);
const st = { lang: initialLang(), key: "", report: null };
const tr = (k) => T[k][st.lang];
window.pinward = { state: st };

// Default period: the last 30 days, in the browser's calendar.
const day = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
$("r-to").value = day(new Date());
$("r-from").value = day(new Date(Date.now() - 29 * 86400e3));

function query() {
  return `start_date=${encodeURIComponent($("r-from").value)}&end_date=${encodeURIComponent($("r-to").value)}&locale=${st.lang}`;
}

async function load() {
  $("report-status").textContent = tr("loading");
  try {
    st.report = await api(`/api/v1/reports/${$("r-by").value}.json?${query()}`, { key: st.key, lang: st.lang });
    $("report-status").textContent = st.report.total.received ? "" : tr("none");
    render();
  } catch (err) {
    if (session.authFailed(err)) return;
    $("report-status").textContent = err.message;
  }
}

const pct = (v) => (v === null ? "—" : new Intl.NumberFormat(st.lang === "fr" ? "fr-CA" : "en-CA", { style: "percent", maximumFractionDigits: 1 }).format(v));
const hours = (v) => (v === null ? "—" : new Intl.NumberFormat(st.lang === "fr" ? "fr-CA" : "en-CA", { maximumFractionDigits: 1 }).format(v));
const cell = (k, v) => (k === "sla_compliance" ? pct(v) : k.endsWith("_to_close") ? hours(v) : String(v));

function render() {
  const r = st.report;
  const table = $("report");
  if (!r) { table.hidden = true; return; }
  const byName = tr({ ward: "byWard", department: "byDepartment", category: "byCategory" }[r.by]).toLowerCase();
  $("report-caption").textContent = tr("caption").replace("{from}", $("r-from").value).replace("{to}", $("r-to").value).replace("{by}", byName);
  fill(table.querySelector("thead tr"), el("th", { scope: "col" }, tr("name")), COLS.map((k) => el("th", { scope: "col" }, tr(k))));
  const row = (x, name, tag) => el("tr", { "data-key": x.key }, el("th", { scope: "row" }, name), COLS.map((k) => el(tag, { "data-col": k }, cell(k, x[k]))));
  // Wards go by number and name; departments and categories by name.
  const name = (x) => (st.lang === "fr" ? x.name_fr : x.name_en);
  const label = (x) => (r.by === "ward" && x.key && x.key !== name(x) ? `${x.key} — ${name(x)}` : name(x));
  fill(table.querySelector("tbody"), r.rows.map((x) => row(x, label(x), "td")));
  fill(table.querySelector("tfoot"), row(r.total, tr("total"), "td"));
  table.hidden = false;
}

// The CSV comes through fetch (it needs the key header), then is saved.
async function downloadCSV() {
  const res = await fetch(`/api/v1/reports/${$("r-by").value}.csv?${query()}`, { headers: { "X-Api-Key": st.key } });
  if (!res.ok) { $("report-status").textContent = `${res.status}`; return; }
  const url = URL.createObjectURL(await res.blob());
  const a = el("a", { href: url, download: `pinward-${$("r-by").value}-${$("r-from").value}-${$("r-to").value}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

$("query").addEventListener("submit", (e) => { e.preventDefault(); load(); });
$("r-by").addEventListener("change", () => load());
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
