// The staff pages' sign-in: a staff API key asked once per browser tab
// (sessionStorage, gone when the tab closes), sent as X-Api-Key, and asked
// again when the API refuses it. Each page has a #login form with
// #staff-key and #login-error, an #app section and a #sign-out button.

const KEY = "pinward-staff-key";
const $ = (id) => document.getElementById(id);

// staffTexts are the sign-in texts both pages show.
export const staffTexts = {
  key: { en: "Staff API key", fr: "Clé d'API du personnel" },
  keyHint: { en: "Kept in this browser tab only, until you close it.", fr: "Conservée dans cet onglet seulement, jusqu'à sa fermeture." },
  signOut: { en: "Forget the key", fr: "Oublier la clé" },
  badKey: { en: "This key is not a staff key.", fr: "Cette clé n'est pas une clé du personnel." },
};

// staffSession wires the sign-in form: start(key) runs once a key is given
// (at once when the tab already has one). tr translates staffTexts' keys.
// authFailed(err) reports whether err was a refused key, after sending the
// user back to the form.
export function staffSession(tr, start) {
  const showLogin = (msg) => {
    $("app").hidden = true;
    $("login").hidden = false;
    $("login-error").hidden = !msg;
    $("login-error").textContent = msg || "";
    $("staff-key").focus();
  };
  $("login").addEventListener("submit", (e) => {
    e.preventDefault();
    const k = $("staff-key").value.trim();
    if (!k) return;
    sessionStorage.setItem(KEY, k);
    $("login").hidden = true;
    $("app").hidden = false;
    start(k);
  });
  $("sign-out").addEventListener("click", () => { sessionStorage.removeItem(KEY); location.reload(); });
  const saved = sessionStorage.getItem(KEY);
  if (saved) {
    $("login").hidden = true;
    $("app").hidden = false;
    start(saved);
  } else showLogin();
  return {
    authFailed(err) {
      if (err.status !== 401 && err.status !== 403) return false;
      showLogin(tr("badKey"));
      return true;
    },
  };
}
