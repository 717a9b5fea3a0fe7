#!/usr/bin/env bash
# Enforces the import rules of ARCHITECTURE.md ("Packages and imports") on
# the non-test packages of the module, following imports transitively:
#   - the kernels geo and text import no other pinward package, i18n only text;
#   - single-job libraries (geojsonio, holidays, mail, notify, linktoken,
#     photo, ratelimit, basemap) import only the kernels;
#   - wards, assets, dedup and tiles never import each other;
#   - requests (the domain) never imports net/http, pgx, a store, api, live
#     or tiles;
#   - the stores and api never import each other; a store never imports
#     live or tiles;
#   - live works through requests.Store: it never imports api or a store;
#   - histimport (pinward import) works through requests.HistoryStore: it
#     never imports api, live, tiles or a store;
#   - only cmd, internal/bench and internal/storeflags open a store (import store/postgis or
#     store/sqlite); everything else gets a requests.Store.
# A package counts as its top directory (wards/x is wards; internal/ is looked
# through). Packages that do not exist yet are simply not checked.
# Prints one line per violation with the import chain, exits 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."

module=$(go list -m)
graph=$(go list -e -deps -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' ./...)

awk -v mod="$module" '
# unit returns the pinward package group of p ("" if p is not in the module).
function unit(p, r, parts) {
	if (p == mod) return "."
	if (index(p, mod "/") != 1) return ""
	r = substr(p, length(mod) + 2)
	sub(/^internal\//, "", r)
	split(r, parts, "/")
	return parts[1]
}
function short(p) {
	return index(p, mod "/") == 1 ? substr(p, length(mod) + 2) : p
}
# rule returns why src may not depend on dst, or "" if it may.
function rule(src, dst, su, du) {
	su = unit(src); du = unit(dst)
	if (su == du) return ""
	if (su ~ /^(geo|text)$/ && du != "")
		return "the kernels geo and text import no other pinward package"
	if (su == "i18n" && du != "" && du != "text")
		return "i18n imports only text"
	if (su ~ /^(geojsonio|holidays|mail|notify|linktoken|photo|ratelimit|basemap)$/ && du != "" && du !~ /^(geo|i18n|text)$/)
		return "single-job libraries import only the kernels (geo, i18n, text)"
	if (su ~ /^(wards|assets|dedup|tiles)$/ && du ~ /^(wards|assets|dedup|tiles)$/)
		return "wards, assets, dedup and tiles never import each other"
	if (su == "requests") {
		if (dst == "net/http") return "requests never imports net/http"
		if (dst ~ /^github\.com\/jackc\/pgx/) return "requests never imports pgx"
		if (du ~ /^(store|api|live|tiles)$/) return "requests, the domain, never imports a store, api, live or tiles"
	}
	if ((su == "store" && du == "api") || (su == "api" && du == "store"))
		return "the stores and api never import each other"
	if (su == "store" && du ~ /^(live|tiles)$/) return "a store never imports live or tiles"
	if (su == "live" && du ~ /^(api|store)$/) return "live works through requests.Store, never api or a store"
	if (su == "histimport" && du ~ /^(api|live|tiles|store)$/)
		return "histimport works through requests.HistoryStore: never api, live, tiles or a store"
	if (dst ~ /\/store\/(postgis|sqlite)$/ && su !~ /^(cmd|bench|storeflags|store)$/)
		return "only cmd, internal/bench and internal/storeflags open a store"
	return ""
}
{
	n++; pkg[n] = $1
	imports[$1] = NF > 1 ? substr($0, length($1) + 2) : ""
}
END {
	bad = 0
	for (i = 1; i <= n; i++) {
		src = pkg[i]
		if (unit(src) == "") continue
		# Breadth-first search from src; stop at the first forbidden package
		# on each path and report the chain that reaches it.
		split("", seen); split("", parent); split("", queue)
		head = 1; tail = 1; queue[1] = src; seen[src] = 1
		while (head <= tail) {
			cur = queue[head++]
			m = split(imports[cur], deps, " ")
			for (j = 1; j <= m; j++) {
				d = deps[j]
				if (d in seen) continue
				seen[d] = 1; parent[d] = cur
				why = rule(src, d)
				if (why == "") { queue[++tail] = d; continue }
				chain = short(d)
				for (p = cur; p != src; p = parent[p]) chain = short(p) " -> " chain
				printf "import rule violated: %s -> %s (%s)\n", short(src), chain, why
				bad++
			}
		}
	}
	if (bad) printf "check-imports: %d violation(s); see ARCHITECTURE.md \"Packages and imports\"\n", bad
	exit bad > 0
}' <<<"$graph"
