// Builds web/src into web/dist, the files the Go binary embeds (package
// web). MapLibre GL JS stays its own ES module (maplibre-gl.mjs) next to its
// worker (maplibre-gl-worker.mjs), which it finds relative to its own URL;
// the page scripts import it and are bundled and minified by esbuild.
//
// dist/.stamp is a digest of everything the build reads (src/, build.mjs,
// package-lock.json); web's Go test recomputes it to catch a stale dist.
import { build } from "esbuild";
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
  entryPoints: ["resident.js", "status.js", "staff.js", "reports.js"].map((f) => join(src, f)),
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
  if (f.endsWith(".html") || f.endsWith(".css")) copyFileSync(join(src, f), join(out, f));
}
writeFileSync(join(out, ".stamp"), digest() + "\n");
console.log("web/dist built, stamp", readFileSync(join(out, ".stamp"), "utf8").trim());
