// Builds web/src into web/dist, the files the Go binary embeds (package
// web). MapLibre GL JS stays its own ES module (maplibre-gl.mjs) next to its
// worker (maplibre-gl-worker.mjs), which it finds relative to its own URL;
// the page scripts import it and are bundled and minified by esbuild.
//
// Every script and style is then renamed after its content (name-<hash>.ext)
// and the references to it rewritten, so the server can let browsers cache
// them for a year (Cache-Control: immutable): a new build is new names. The
// HTML pages keep their names and are revalidated on every load.
//
// The resident page works offline: sw.js (the service worker, served at
// /sw.js) gets the list of the page's files, and manifest.webmanifest makes
// the page installable. basemap-layers.json is the Protomaps "light" style's
// layers (npm @protomaps/basemaps, without labels, so no font server is
// needed) for the streets pinward serves from a PMTiles file (--basemap).
//
// dist/.stamp is a digest of everything the build reads (src/, build.mjs,
// package-lock.json); web's Go test recomputes it to catch a stale dist.
import { build } from "esbuild";
import { layers, namedFlavor } from "@protomaps/basemaps";
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const here = new URL(".", import.meta.url).pathname;
const src = join(here, "src");
const out = join(here, "dist");

// stampInputs lists the files the digest covers, sorted, relative to web/.
export function stampInputs() {
  const files = ["build.mjs", "package-lock.json"];
  for (const f of readdirSync(src).sort()) files.push("src/" + f);
  return files.sort();
}

// contentName is name with the first 10 hex digits of body's SHA-256 before
// its extension: maplibre-gl.mjs -> maplibre-gl-0123456789.mjs.
function contentName(name, body) {
  const dot = name.indexOf(".");
  const h = createHash("sha256").update(body).digest("hex").slice(0, 10);
  return name.slice(0, dot) + "-" + h + name.slice(dot);
}

// replaceAll replaces every occurrence of from in s, and fails the build
// when there is none: a reference left unrewritten would point at a file
// that no longer exists.
function replaceAll(s, from, to, what, atLeast = 1) {
  const n = s.split(from).length - 1;
  if (n < atLeast) throw new Error(`${what}: expected ${from} at least ${atLeast} time(s), found ${n}`);
  return s.split(from).join(to);
}

// hashNames renames dist's scripts and styles after their content, leaves
// (files referenced by others) first, and rewrites every reference.
function hashNames() {
  const renamed = {};
  const rename = (name, body) => {
    const to = contentName(name, body);
    writeFileSync(join(out, to), body);
    rmSync(join(out, name));
    renamed[name] = to;
  };
  const read = (name) => readFileSync(join(out, name), "utf8");
  // The worker first: MapLibre names it in a string literal.
  rename("maplibre-gl-worker.mjs", read("maplibre-gl-worker.mjs"));
  rename("maplibre-gl.mjs", replaceAll(read("maplibre-gl.mjs"), "`maplibre-gl-worker.mjs`",
    "`" + renamed["maplibre-gl-worker.mjs"] + "`", "maplibre-gl.mjs"));
  for (const f of readdirSync(out).sort()) {
    if (f.endsWith(".css") || f.endsWith(".svg") || f === "basemap-layers.json") rename(f, read(f));
  }
  for (const f of readdirSync(out).sort()) {
    if (!f.endsWith(".js") || f.includes("-")) continue;
    let body = read(f);
    if (body.includes("./maplibre-gl.mjs")) {
      body = replaceAll(body, '"./maplibre-gl.mjs"', '"./' + renamed["maplibre-gl.mjs"] + '"', f);
    }
    rename(f, body);
  }
  for (const f of readdirSync(out).sort()) {
    if (!f.endsWith(".html")) continue;
    let body = read(f);
    for (const m of body.matchAll(/"\/static\/([^"]+)"/g)) {
      if (!renamed[m[1]]) throw new Error(`${f} references /static/${m[1]}, which the build does not make`);
    }
    for (const [from, to] of Object.entries(renamed)) {
      if (body.includes(`"/static/${from}"`)) body = replaceAll(body, `"/static/${from}"`, `"/static/${to}"`, f);
    }
    writeFileSync(join(out, f), body);
  }
  return renamed;
}

// offline writes sw.js, naming the files the resident page needs to open
// without a connection, and the manifest with its icon's name.
function offline(renamed, version) {
  const page = readFileSync(join(out, "index.html"), "utf8");
  const shell = ["/"];
  for (const m of page.matchAll(/"(\/static\/[^"]+)"/g)) shell.push(m[1]);
  shell.push("/static/" + renamed["maplibre-gl.mjs"], "/static/" + renamed["maplibre-gl-worker.mjs"],
    "/static/" + renamed["basemap-layers.json"]);
  let sw = readFileSync(join(src, "sw.js"), "utf8");
  sw = replaceAll(sw, "self.__PINWARD_SHELL__", JSON.stringify([...new Set(shell)]), "sw.js");
  sw = replaceAll(sw, "self.__PINWARD_VERSION__", JSON.stringify(version), "sw.js");
  writeFileSync(join(out, "sw.js"), sw);
  const manifest = replaceAll(readFileSync(join(src, "manifest.webmanifest"), "utf8"),
    '"/static/icon.svg"', `"/static/${renamed["icon.svg"]}"`, "manifest.webmanifest");
  writeFileSync(join(out, "manifest.webmanifest"), manifest);
}

function digest() {
  const h = createHash("sha256");
  for (const f of stampInputs()) {
    h.update(f + "\0");
    h.update(readFileSync(join(here, f)));
    h.update("\0");
  }
  return h.digest("hex").slice(0, 32);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: ["resident.js", "status.js", "staff.js", "reports.js", "queue.js", "rights.js"].map((f) => join(src, f)),
  outdir: out,
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  legalComments: "none",
  logLevel: "warning",
  plugins: [{
    name: "maplibre-external",
    setup(b) {
      // Kept as a separate module so its worker URL resolves next to it.
      b.onResolve({ filter: /^maplibre-gl$/ }, () => ({ path: "./maplibre-gl.mjs", external: true }));
    },
  }],
});

const ml = join(here, "node_modules", "maplibre-gl", "dist");
for (const f of ["maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css"]) copyFileSync(join(ml, f), join(out, f));
copyFileSync(join(ml, "..", "LICENSE.txt"), join(out, "maplibre-gl.LICENSE.txt"));
for (const f of readdirSync(src)) {
  if (f.endsWith(".html") || f.endsWith(".css") || f.endsWith(".svg")) copyFileSync(join(src, f), join(out, f));
}
writeFileSync(join(out, "basemap-layers.json"), JSON.stringify(layers("protomaps", namedFlavor("light"))));
const renamed = hashNames();
offline(renamed, digest());
writeFileSync(join(out, ".stamp"), digest() + "\n");
console.log("web/dist built, stamp", readFileSync(join(out, ".stamp"), "utf8").trim());
