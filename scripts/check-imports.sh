#!/usr/bin/env bash
# Enforces the import rules of DESIGN.md ("Packages and imports") on the
# non-test packages of the module, following imports transitively:
#   - wards, assets, dedup and tiles never import each other;
#   - requests never imports net/http, pgx or a store (store/...);
#   - store/... and api never import each other;
#   - geo imports no other pinward package.
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
	if (su ~ /^(wards|assets|dedup|tiles)$/ && du ~ /^(wards|assets|dedup|tiles)$/)
		return "wards, assets, dedup and tiles never import each other"
	if (su == "requests") {
		if (dst == "net/http") return "requests never imports net/http"
		if (dst ~ /^github\.com\/jackc\/pgx/) return "requests never imports pgx"
		if (du == "store") return "requests never imports a store"
	}
	if ((su == "store" && du == "api") || (su == "api" && du == "store"))
		return "the stores and api never import each other"
	if (su == "geo" && du != "") return "geo imports no other pinward package"
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
	if (bad) printf "check-imports: %d violation(s); see DESIGN.md \"Packages and imports\"\n", bad
	exit bad > 0
}' <<<"$graph"
