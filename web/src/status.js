// The status page /r/{id}: a request's public record, in the resident's language.
import { api, applyLang, el, fmtDate, initialLang } from "./common.js";

const T = {
  title: { en: "Request status", fr: "État de la demande" },
  home: { en: "Report another issue", fr: "Signaler un autre problème" },
  number: { en: "Request", fr: "Demande" },
  service: { en: "Category", fr: "Catégorie" },
  status: { en: "Status", fr: "État" },
  open: { en: "Open", fr: "Ouverte" },
  closed: { en: "Closed", fr: "Fermée" },
  ward: { en: "Ward", fr: "Quartier" },
  requested: { en: "Reported", fr: "Signalée" },
  updated: { en: "Updated", fr: "Mise à jour" },
  notes: { en: "Latest note", fr: "Dernière note" },
  expected: { en: "Expected by", fr: "Prévue d'ici le" },
  paused: { en: "The date will be set again once we hear back from you.", fr: "La date sera fixée de nouveau dès que nous aurons votre réponse." },
  reason: { en: "Closed as", fr: "Motif de fermeture" },
  history: { en: "History", fr: "Historique" },
  description: { en: "Description", fr: "Description" },
  loading: { en: "Loading…", fr: "Chargement…" },
  flag: { en: "Report this as inappropriate", fr: "Signaler comme inapproprié" },
  flagged: { en: "Thank you: staff will look at this report.", fr: "Merci : le personnel examinera ce signalement." },
};

// A resident's "report this": staff see it in their list of flags.
async function flag(btn) {
  btn.disabled = true;
  try {
    const res = await fetch(`/api/v1/requests/${encodeURIComponent(id)}/flag?locale=${lang}`, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: "{}",
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) {
      const e = Array.isArray(data) ? data[0] : data;
      throw new Error((e && (lang === "fr" ? e.description_fr : e.description_en)) || "HTTP " + res.status);
    }
    btn.replaceWith(el("p", { role: "status", id: "flagged" }, T.flagged[lang]));
  } catch (err) {
    btn.disabled = false;
    btn.after(el("p", { class: "alert", role: "alert" }, err.message));
  }
}
let lang = initialLang();
const id = decodeURIComponent(location.pathname.split("/").pop());

async function render() {
  const box = document.getElementById("status");
  box.replaceChildren(el("p", {}, T.loading[lang]));
  try {
    const [r] = await api(`/open311/v2/requests/${encodeURIComponent(id)}.json?locale=${lang}`, { lang });
    // The public history: each public note in the page's language (or as
    // written, when staff wrote it in the other one only).
    const h = await api(`/api/v1/requests/${encodeURIComponent(id)}/history?locale=${lang}`, { lang });
    // The ward's name: the one in force at the point now, when it is still
    // the request's ward (after redistricting the ID alone is shown).
    let ward = r.ward_id;
    if (r.lat !== undefined && r.long !== undefined) {
      try {
        const l = await api(`/api/v1/locate?lat=${r.lat}&long=${r.long}&locale=${lang}`, { lang });
        if (l.ward && l.ward.id === r.ward_id) ward = l.ward.name;
      } catch { /* the ID will do */ }
    }
    const row = (k, v, attrs = {}) => (v ? [el("dt", {}, T[k][lang]), el("dd", attrs, v)] : []);
    box.replaceChildren(
      el("h2", {}, `${T.number[lang]} ${r.service_request_id}`),
      el("dl", { class: "facts" },
        row("service", r.service_name),
        row("status", h.detailed_status_label, { id: "request-status", "data-status": h.detailed_status }),
        row("reason", h.close_reason_label, { id: "request-reason" }),
        row("expected", h.status === "open" ? h.expected_date : "", { id: "request-expected" }),
        row("ward", ward, { id: "request-ward" }),
        row("requested", fmtDate(r.requested_datetime, lang)),
        row("updated", fmtDate(r.updated_datetime, lang)),
        row("notes", h.status_notes, { id: "request-notes" }),
        row("description", r.description)),
      h.paused ? el("p", { id: "request-paused" }, T.paused[lang]) : "",
      el("h3", {}, T.history[lang]),
      el("ol", { id: "history", class: "history" }, ...h.history.map((e) =>
        el("li", { "data-status": e.status },
          el("strong", {}, e.status_label), " · ", fmtDate(e.at, lang),
          e.note ? el("p", { class: "note" }, e.note) : ""))),
      el("button", { type: "button", id: "flag", onclick: (ev) => flag(ev.currentTarget) }, T.flag[lang]));
  } catch (err) {
    box.replaceChildren(el("p", { class: "alert", role: "alert" }, err.message));
  }
}

function setLang(l) {
  lang = l;
  localStorage.setItem("pinward-lang", l);
  applyLang(T, l);
  render();
}
for (const b of document.querySelectorAll("[data-lang-button]")) b.addEventListener("click", () => setLang(b.dataset.langButton));
setLang(lang);
