# pinward — see ARCHITECTURE.md. `make test` needs root (to install PostGIS) or an
# installed PostgreSQL + PostGIS; set PINWARD_TEST_DATABASE_URL to use your own.

GO          ?= go
BIN         := $(CURDIR)/bin
STATICCHECK := $(BIN)/staticcheck
STATICCHECK_VERSION := v0.8.2

.PHONY: all run test bench lint web fuzz
all: lint test

run: web/dist/.stamp
	$(GO) run ./cmd/pinward serve

# The pages' bundle (web/dist: committed, embedded by package web), rebuilt
# with npm when its sources or the pinned npm packages change. Without npm
# the committed bundle is used; a test fails if it is stale.
WEB_SRC := web/package.json web/package-lock.json web/build.mjs $(wildcard web/src/*)
web/dist/.stamp: $(WEB_SRC)
	@if command -v npm >/dev/null 2>&1; then \
		cd web && npm ci --no-audit --no-fund && npm run build; \
	else echo "npm not found: using the committed web/dist" >&2; fi

web:
	cd web && npm ci --no-audit --no-fund && npm run build

# The browser tests check the pages with axe-core from web/node_modules.
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

test: web/node_modules/.package-lock.json
	PINWARD_REQUIRE_BROWSER=1 scripts/with-postgis.sh $(GO) test -race -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME_TEST)

# Fuzz targets, package:function: the Open311 form and JSON readers and the
# API key, the GeoJSON and CSV readers, tile addresses, the catalog loader,
# key scopes, webhook signatures, photos and client IPs. Each runs
# FUZZTIME (make fuzz) or FUZZTIME_TEST (make test); the seed corpora are
# in each package's testdata/fuzz/, and a failing input lands there too.
FUZZTIME      ?= 30s
FUZZTIME_TEST ?= 3s
FUZZ_TARGETS := ./api:FuzzFormSubmission ./api:FuzzJSONSubmission ./api:FuzzAPIKey \
	./geojsonio:FuzzReadDecode ./assets:FuzzLoadCSV ./dedup:FuzzReadCSV ./tiles:FuzzParseTile \
	./requests:FuzzLoadCatalog ./requests:FuzzAPIKeyScope ./dispatch:FuzzVerify \
	./photo:FuzzProcess ./ratelimit:FuzzClientIP

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$fn ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

bench:
	scripts/with-postgis.sh $(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) build -o $(BIN)/pinward ./cmd/pinward
	scripts/with-postgis.sh $(BIN)/pinward bench geocode
	scripts/with-postgis.sh $(BIN)/pinward bench cluster
	scripts/with-postgis.sh $(BIN)/pinward bench intake
	scripts/with-postgis.sh $(BIN)/pinward bench assets
	scripts/with-postgis.sh $(BIN)/pinward bench workorders
	scripts/with-postgis.sh $(BIN)/pinward bench tiles
	scripts/with-postgis.sh $(BIN)/pinward bench report
	scripts/with-postgis.sh $(BIN)/pinward bench queue
	scripts/with-postgis.sh $(BIN)/pinward bench escalation
	scripts/with-postgis.sh $(BIN)/pinward bench mail

lint: $(STATICCHECK)
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	scripts/check-imports.sh

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
