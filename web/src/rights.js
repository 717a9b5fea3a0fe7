// The resident's rights page /rights: ask for a one-time link (request
// number or token, and the address given), then, from the link (its token
// is in the URL's fragment, which is never sent to a server), see and
// download what is held and ask for a correction or a deletion. Kept apart
// from common.js so the page loads no map.
const T = {
  title: { en: "Your personal information", fr: "Vos renseignements personnels" },
  askIntro: {
    en: "Get a copy of what the municipality's 311 service holds about you, or ask for it to be corrected or deleted. Give the number (or tracking token) of one of your requests and the e-mail address you gave with it: we send a one-time link to that address.",
    fr: "Obtenez une copie de ce que le service 311 de la municipalité détient à votre sujet, ou demandez qu'on le rectifie ou le supprime. Indiquez le numéro (ou le jeton de suivi) d'une de vos demandes et l'adresse courriel donnée avec elle : nous envoyons un lien à usage unique à cette adresse.",
  },
  token: { en: "Request number or tracking token", fr: "Numéro de la demande ou jeton de suivi" },
  email: { en: "E-mail address", fr: "Adresse courriel" },
  send: { en: "Send me the link", fr: "M'envoyer le lien" },
  openIntro: { en: "This link works once. Open it when you are ready to download your information.", fr: "Ce lien fonctionne une seule fois. Ouvrez-le quand vous êtes prêt à télécharger vos renseignements." },
  openButton: { en: "Show my information", fr: "Afficher mes renseignements" },
  dataTitle: { en: "What we hold about you", fr: "Ce que nous détenons à votre sujet" },
  download: { en: "Download (JSON)", fr: "Télécharger (JSON)" },
  fileTitle: { en: "Ask for a correction or a deletion", fr: "Demander une rectification ou une suppression" },
  kind: { en: "I ask the municipality to", fr: "Je demande à la municipalité de" },
  correction: { en: "correct my information", fr: "rectifier mes renseignements" },
  deletion: { en: "delete my contact details", fr: "supprimer mes coordonnées" },
  text: { en: "What should change, and why", fr: "Ce qui doit changer, et pourquoi" },
  fileButton: { en: "Send my request", fr: "Envoyer ma demande" },
};

function initialLang() {
  const q = new URLSearchParams(location.search).get("locale");
  if (q === "en" || q === "fr") return q;
  const saved = localStorage.getItem("pinward-lang");
  if (saved === "en" || saved === "fr") return saved;
  const nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
  return nav.toLowerCase().startsWith("fr") ? "fr" : "en";
}

let lang = initialLang();
let opened = null; // the open answer: export and action token
const $ = (id) => document.getElementById(id);

function applyLang() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    const t = T[el.dataset.i18n];
    if (t) el.textContent = t[lang];
  }
  for (const b of document.querySelectorAll("[data-lang-button]")) b.setAttribute("aria-pressed", String(b.dataset.langButton === lang));
  if (opened) summary();
}

// say shows a message; an error body is pinward's bilingual one.
function say(text, isError) {
  const p = document.createElement("p");
  if (isError) { p.className = "alert"; p.setAttribute("role", "alert"); }
  p.textContent = text;
  $("message").replaceChildren(p);
}

async function post(path, body) {
  const res = await fetch(path + "?locale=" + lang, {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = Array.isArray(data) ? data[0] : data;
    throw new Error((e && (lang === "fr" ? e.description_fr : e.description_en)) || "HTTP " + res.status);
  }
  return data;
}

function summary() {
  const items = opened.export.sections.map((s) => {
    const li = document.createElement("li");
    li.textContent = s.label[lang] + (lang === "fr" ? " : " : ": ") + s.items.length;
    return li;
  });
  $("summary").replaceChildren(...items);
}

// A link pasted into this tab changes only the fragment: start over with it.
window.addEventListener("hashchange", () => location.reload());
const token = location.hash.slice(1);
if (token) {
  $("open").hidden = false;
  // The token leaves the address bar (and the history) once read.
  history.replaceState(null, "", location.pathname + location.search);
} else {
  $("ask").hidden = false;
  // From a status page: its request number, ready to go with the address.
  const request = new URLSearchParams(location.search).get("request");
  if (request) $("ask-token").value = request;
}

$("ask-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const btn = ev.submitter || $("ask-form").querySelector("button");
  btn.disabled = true;
  try {
    const r = await post("/api/v1/rights/link", { token: $("ask-token").value.trim(), email: $("ask-email").value.trim() });
    say(lang === "fr" ? r.message_fr : r.message_en);
  } catch (err) {
    say(err.message, true);
  } finally {
    btn.disabled = false;
  }
});

$("open-button").addEventListener("click", async () => {
  $("open-button").disabled = true;
  try {
    opened = await post("/api/v1/rights/open", { token });
    $("open").hidden = true;
    $("data").hidden = false;
    summary();
    $("message").replaceChildren();
  } catch (err) {
    say(err.message, true);
  }
});

$("download").addEventListener("click", () => {
  const blob = new Blob([JSON.stringify(opened.export, null, 2)], { type: "application/json" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "personal-information.json";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
});

$("file-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const btn = $("file-form").querySelector("button");
  btn.disabled = true;
  try {
    const kind = $("file-form").querySelector("input[name=kind]:checked").value;
    const r = await post("/api/v1/rights/file", { action_token: opened.action_token, kind, text: $("file-text").value });
    $("file-form").hidden = true;
    say(lang === "fr" ? r.message_fr : r.message_en);
  } catch (err) {
    btn.disabled = false;
    say(err.message, true);
  }
});

for (const b of document.querySelectorAll("[data-lang-button]")) {
  b.addEventListener("click", () => {
    lang = b.dataset.langButton;
    localStorage.setItem("pinward-lang", lang);
    applyLang();
  });
}
applyLang();
