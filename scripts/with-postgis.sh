#!/usr/bin/env bash
# Usage: scripts/with-postgis.sh CMD [ARG...]
#
# Runs CMD against a throwaway PostgreSQL + PostGIS server:
#   - installs PostGIS (and Chromium, gcc for -race) from Debian packages when
#     missing and we are root; fails with a clear message when not root;
#   - initdb in a temp dir, starts postgres on 127.0.0.1:<free port> (trust
#     auth, no fsync unless PINWARD_PG_DURABLE=1), creates database "pinward"
#     with the postgis extension;
#   - exports PINWARD_TEST_DATABASE_URL and PINWARD_REQUIRE_DB=1, runs CMD;
#   - always stops the server and removes the temp dir; exits with CMD's status.
# If PINWARD_TEST_DATABASE_URL is already set, CMD simply runs against it.
set -euo pipefail

log() { printf 'with-postgis: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if (($# == 0)); then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi

if [[ -n "${PINWARD_TEST_DATABASE_URL:-}" ]]; then
	exec "$@"
fi

is_root() { [[ "$(id -u)" -eq 0 ]]; }

apt_updated=0
apt_install() {
	command -v apt-get >/dev/null || die "cannot install $* (no apt-get); install them yourself"
	if ((!apt_updated)); then
		log "apt-get update"
		apt-get update -qq
		apt_updated=1
	fi
	log "installing $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# pg_bindir prints the bin dir of the newest installed PostgreSQL server.
pg_bindir() {
	local d best=
	for d in /usr/lib/postgresql/*/bin; do
		[[ -x "$d/postgres" ]] || continue
		if [[ -z "$best" ]] || (($(basename "$(dirname "$d")") > $(basename "$(dirname "$best")"))); then
			best=$d
		fi
	done
	[[ -n "$best" ]] && echo "$best"
}

# ---- prerequisites --------------------------------------------------------

if ! bindir=$(pg_bindir); then
	is_root || die "PostgreSQL server is not installed. As root: apt-get install postgresql postgresql-<major>-postgis-3 (or set PINWARD_TEST_DATABASE_URL to a PostGIS database)"
	apt_install postgresql
	bindir=$(pg_bindir) || die "PostgreSQL installed but no server found in /usr/lib/postgresql/*/bin"
fi
pg_major=$(basename "$(dirname "$bindir")")

if [[ ! -f "/usr/share/postgresql/$pg_major/extension/postgis.control" ]]; then
	is_root || die "PostGIS for PostgreSQL $pg_major is not installed. As root: apt-get install postgresql-$pg_major-postgis-3 (or set PINWARD_TEST_DATABASE_URL to a PostGIS database)"
	apt_install "postgresql-$pg_major-postgis-3"
fi

# go test -race needs cgo and a C compiler.
if ! command -v gcc >/dev/null; then
	if is_root; then
		apt_install gcc libc6-dev
	else
		log "warning: gcc not found; go test -race will fail (apt-get install gcc)"
	fi
fi

# Browser tests drive Chromium; they skip when it is absent.
if [[ ! -x /usr/bin/chromium ]]; then
	if is_root; then
		apt_install chromium
	else
		log "warning: /usr/bin/chromium not found; browser tests will be skipped (apt-get install chromium)"
	fi
fi

# ---- throwaway server -----------------------------------------------------

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pinward-pg.XXXXXX")
data=$tmp/data
sock=$tmp/sock
mkdir -p "$sock"

# as_pg runs a command as the postgres OS user when we are root (postgres
# refuses to run as root), as ourselves otherwise.
as_pg() {
	if is_root; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	local status=$?
	if [[ -f "$data/postmaster.pid" ]]; then
		as_pg "$bindir/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
			as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w -t 30 stop >/dev/null 2>&1 ||
			log "warning: could not stop postgres (data dir $data)"
	fi
	rm -rf "$tmp"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if is_root; then
	id postgres >/dev/null 2>&1 || die "OS user 'postgres' does not exist (it comes with the postgresql package)"
	chown -R postgres: "$tmp"
	as_pg test -w "$tmp" || die "user postgres cannot write $tmp; set TMPDIR to a directory it can reach"
fi

as_pg "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$tmp/initdb.log" 2>&1 ||
	{ cat "$tmp/initdb.log" >&2; die "initdb failed"; }

# Tests skip the disk; PINWARD_PG_DURABLE=1 keeps PostgreSQL's defaults
# (fsync, synchronous commit) for benchmarks whose figures must be a real
# server's.
durability='fsync = off
synchronous_commit = off
full_page_writes = off'
if [[ "${PINWARD_PG_DURABLE:-}" == 1 ]]; then
	durability='fsync = on
synchronous_commit = on
full_page_writes = on'
fi
cat >>"$data/postgresql.conf" <<EOF

# pinward test server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
$durability
max_connections = 200
EOF

# port_in_use succeeds when something accepts connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Pick a random unused port below the ephemeral range (32768+) and start the
# server; if another process grabs the port first, postgres fails to bind and
# we try the next one.
port=
for attempt in 1 2 3 4 5 6 7 8 9 10; do
	candidate=$((20000 + RANDOM % 12000))
	port_in_use "$candidate" && continue
	if as_pg "$bindir/pg_ctl" -D "$data" -l "$tmp/postgres.log" -w -t 60 \
		-o "-p $candidate" start >/dev/null 2>&1; then
		port=$candidate
		break
	fi
	# pg_ctl may time out with the server still starting: make sure it is gone.
	as_pg "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
	log "attempt $attempt: postgres did not start on port $candidate; retrying"
done
if [[ -z "$port" ]]; then
	cat "$tmp/postgres.log" >&2 || true
	die "could not start postgres"
fi

for _ in $(seq 1 100); do
	"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
	sleep 0.1
done
"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres || die "postgres on port $port is not ready"

run_psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }
run_psql -d postgres -c 'CREATE DATABASE pinward' >/dev/null
run_psql -d pinward -c 'CREATE EXTENSION postgis' >/dev/null

export PINWARD_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/pinward?sslmode=disable"
export PINWARD_REQUIRE_DB=1
log "PostgreSQL $pg_major + PostGIS on 127.0.0.1:$port"

status=0
"$@" || status=$?
exit "$status"
