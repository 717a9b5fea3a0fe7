# pinward — see DESIGN.md. `make test` needs root (to install PostGIS) or an
# installed PostgreSQL + PostGIS; set PINWARD_TEST_DATABASE_URL to use your own.

GO          ?= go
BIN         := $(CURDIR)/bin
STATICCHECK := $(BIN)/staticcheck
STATICCHECK_VERSION := v0.8.2

.PHONY: all run test bench lint
all: lint test

run:
	$(GO) run ./cmd/pinward serve

test:
	scripts/with-postgis.sh $(GO) test -race -count=1 ./...

bench:
	scripts/with-postgis.sh $(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) build -o $(BIN)/pinward ./cmd/pinward
	scripts/with-postgis.sh $(BIN)/pinward bench geocode
	scripts/with-postgis.sh $(BIN)/pinward bench cluster
	scripts/with-postgis.sh $(BIN)/pinward bench intake

lint: $(STATICCHECK)
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	scripts/check-imports.sh

$(STATICCHECK):
	GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
