// The status page /r/{id}: a request's public record, in the resident's
// language; after closure, with the links of the closing mail
// (?satisfaction=TOKEN, ?reopen=TOKEN), "Are you satisfied?" and a reopen.
import { api, applyLang, el, fmtDate, initialLang } from "./common.js";

const T = {
  title: { en: "Request status", fr: "État de la demande" },
  home: { en: "Report another issue", fr: "Signaler un autre problème" },
  rights: { en: "Your personal information: get a copy, have it corrected or deleted", fr: "Vos renseignements personnels : en obtenir une copie, les faire rectifier ou supprimer" },
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
  satisfied: { en: "Are you satisfied?", fr: "Êtes-vous satisfait ?" },
  scoreHint: { en: "1: not at all · 5: completely", fr: "1 : pas du tout · 5 : entièrement" },
  comment: { en: "Comment (optional)", fr: "Commentaire (facultatif)" },
  send: { en: "Send", fr: "Envoyer" },
  thanks: { en: "Thank you for your answer:", fr: "Merci de votre réponse :" },
  reopenTitle: { en: "Is the problem still there?", fr: "Le problème persiste ?" },
  reopenUntil: { en: "You may reopen this request until", fr: "Vous pouvez rouvrir cette demande jusqu'au" },
  reopenWhy: { en: "What is still wrong?", fr: "Qu'est-ce qui ne va toujours pas ?" },
  reopen: { en: "Reopen the request", fr: "Rouvrir la demande" },
  reopened: { en: "The request is reopened and back with the team that handles it.", fr: "La demande est rouverte et retourne à l'équipe qui la traite." },
  tooLate: { en: "This request can no longer be reopened.", fr: "Cette demande ne peut plus être rouverte." },
};

// The tokens of the closing mail's links, kept for this visit only and
// taken out of the address bar (a shared screenshot or link leaks none).
const params = new URLSearchParams(location.search);
const tokens = { satisfaction: params.get("satisfaction") || "", reopen: params.get("reopen") || "" };
if (tokens.satisfaction || tokens.reopen) {
  params.delete("satisfaction");
  params.delete("reopen");
  history.replaceState(null, "", location.pathname + (params.size ? "?" + params : ""));
}
let reopenedNow = false;

// satisfactionBox asks "Are you satisfied?" once per request, or thanks
// for the answer given.
async function satisfactionBox() {
  const path = `/api/v1/requests/${encodeURIComponent(id)}/satisfaction?locale=${lang}`;
  const given = await api(`${path}&token=${encodeURIComponent(tokens.satisfaction)}`, { lang });
  const box = el("section", { id: "satisfaction", "aria-labelledby": "satisfaction-title" }, el("h3", { id: "satisfaction-title" }, T.satisfied[lang]));
  const thanks = (g) => el("p", { role: "status", id: "satisfaction-done" }, `${T.thanks[lang]} ${g.score}/5`);
  if (given.given) {
    box.append(thanks(given));
    return box;
  }
  const scores = el("fieldset", {}, el("legend", {}, T.scoreHint[lang]),
    ...[1, 2, 3, 4, 5].map((n) => el("label", { class: "score" },
      el("input", { type: "radio", name: "score", value: String(n), required: true }), ` ${n} `)));
  const comment = el("textarea", { id: "satisfaction-comment", name: "comment", maxlength: "2000" });
  const form = el("form", { id: "satisfaction-form" }, scores,
    el("label", { for: "satisfaction-comment" }, T.comment[lang]), comment,
    el("button", { type: "submit", class: "primary" }, T.send[lang]));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = form.querySelector("button");
    btn.disabled = true;
    form.querySelector(".alert")?.remove();
    try {
      const score = Number(new FormData(form).get("score"));
      const g = await api(path, { method: "POST", lang, json: { token: tokens.satisfaction, score, comment: comment.value } });
      form.replaceWith(thanks(g));
    } catch (err) {
      btn.disabled = false;
      form.append(el("p", { class: "alert", role: "alert" }, err.message));
    }
  });
  box.append(form);
  return box;
}

// reopenBox offers the reopen while the window runs.
function reopenBox(h) {
  const box = el("section", { id: "reopen", "aria-labelledby": "reopen-title" }, el("h3", { id: "reopen-title" }, T.reopenTitle[lang]));
  if (!h.reopen_until) {
    box.append(el("p", { id: "reopen-closed" }, T.tooLate[lang]));
    return box;
  }
  const comment = el("textarea", { id: "reopen-comment", name: "comment", maxlength: "2000", required: true });
  const form = el("form", { id: "reopen-form" },
    el("p", {}, `${T.reopenUntil[lang]} ${h.reopen_until_date}.`),
    el("label", { for: "reopen-comment" }, T.reopenWhy[lang]), comment,
    el("button", { type: "submit" }, T.reopen[lang]));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = form.querySelector("button");
    btn.disabled = true;
    form.querySelector(".alert")?.remove();
    try {
      await api(`/api/v1/requests/${encodeURIComponent(id)}/reopen?locale=${lang}`, { method: "POST", lang, json: { token: tokens.reopen, comment: comment.value } });
      reopenedNow = true;
      await render();
    } catch (err) {
      btn.disabled = false;
      form.append(el("p", { class: "alert", role: "alert" }, err.message));
    }
  });
  box.append(form);
  return box;
}

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
      reopenedNow ? el("p", { role: "status", id: "reopen-done" }, T.reopened[lang]) : "",
      h.status === "closed" && tokens.satisfaction ? await satisfactionBox().catch((err) => el("p", { class: "alert", role: "alert" }, err.message)) : "",
      h.status === "closed" && tokens.reopen ? reopenBox(h) : "",
      el("button", { type: "button", id: "flag", onclick: (ev) => flag(ev.currentTarget) }, T.flag[lang]));
  } catch (err) {
    box.replaceChildren(el("p", { class: "alert", role: "alert" }, err.message));
  }
}

function setLang(l) {
  lang = l;
  localStorage.setItem("pinward-lang", l);
  applyLang(T, l);
  document.getElementById("rights-link").href = `/rights?${new URLSearchParams({ request: id, locale: l })}`;
  render();
}
for (const b of document.querySelectorAll("[data-lang-button]")) b.addEventListener("click", () => setLang(b.dataset.langButton));
setLang(lang);
