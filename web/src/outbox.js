// The resident page's outbox: a report that could not be sent (no
// connection) is kept on the phone in IndexedDB, photos included, under its
// Idempotency-Key, and sent again when the connection returns. The server
// answers a repeated key with the request it already made, so a report sent
// twice (a reply lost on the way back, two tabs) is still stored once.
const DB = "pinward", STORE = "outbox";

function open() {
  return new Promise((ok, fail) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: "idem" });
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
}

async function tx(mode, fn) {
  const db = await open();
  try {
    return await new Promise((ok, fail) => {
      const t = db.transaction(STORE, mode);
      const req = fn(t.objectStore(STORE));
      t.oncomplete = () => ok(req && req.result);
      t.onerror = () => fail(t.error);
      t.onabort = () => fail(t.error);
    });
  } finally {
    db.close();
  }
}

// keep stores one report: {idem, fields: [[name, value]...], photos: [Blob], lang, at}.
export const keep = (report) => tx("readwrite", (s) => s.put(report));
export const waiting = () => tx("readonly", (s) => s.getAll());
const drop = (idem) => tx("readwrite", (s) => s.delete(idem));

// body is the POST body of a kept report: form-encoded, or multipart
// when it has photos (as the page sends them online).
export function body(report) {
  const form = new URLSearchParams(report.fields);
  if (!report.photos || report.photos.length === 0) return form;
  const fd = new FormData();
  for (const [k, v] of form) fd.append(k, v);
  report.photos.forEach((b, i) => fd.append("media", b, `photo-${i + 1}.jpg`));
  return fd;
}

// send posts one report; it resolves to {ok, status, data}, and rejects
// when the network fails (the report stays kept).
export async function send(report) {
  const res = await fetch("/open311/v2/requests.json", {
    method: "POST", body: body(report), headers: { Accept: "application/json", "Idempotency-Key": report.idem },
  });
  const data = await res.json().catch(() => null);
  return { ok: res.ok, status: res.status, data };
}

let flushing = null;

// flush sends every kept report once, one at a time, and calls sent(report,
// answer) for each one the server answered: stored, or refused for good
// (a 4xx other than 408 and 429). A report the network or a busy server
// (5xx, 408, 429) did not take stays for the next flush. Concurrent calls
// share one run.
export function flush(sent) {
  if (!flushing) {
    flushing = (async () => {
      for (const r of await waiting()) {
        let ans;
        try { ans = await send(r); } catch { return; } // still offline
        const retry = !ans.ok && (ans.status >= 500 || ans.status === 408 || ans.status === 429);
        if (retry) return;
        await drop(r.idem);
        sent(r, ans);
      }
    })().finally(() => { flushing = null; });
  }
  return flushing;
}
