# Tiketa: two commands do everything.
#   make run    build, roll the schedule, build the site, serve site + booking API on one port
#   make test   every test: unit, integration, race, crash and the browser tests (the PostgreSQL
#               ones only when TIKETA_TEST_DATABASE_URL names a server: `make test-postgres`)
# The other targets are the steps those two are made of, and the operator's and benchmark's tools;
# `make help` lists them all.
#
# Another port: `make run LISTEN=127.0.0.1:9000` serves there and builds the pages with
# http://127.0.0.1:9000 as their base URL (canonical links, sitemap, JSON-LD). BASE_URL=... sets
# the base URL alone (for example the public name behind a proxy).

CARGO    ?= cargo
RELEASE  := target/release
GEN      := $(RELEASE)/tiketa-gen
BOOKING  := $(RELEASE)/tiketa-booking
LISTEN   ?= 127.0.0.1:8080
DB       ?= var/tiketa.db
OPS      := $(RELEASE)/tiketa-ops
OPERATOR_TOKEN_FILE := var/operator-token

# site.toml's base_url holds unless the port or the base URL was given to make. The booking
# service takes the same flag for the links in its mail (written to var/outbox/ by `make run`).
ifneq ($(origin BASE_URL),undefined)
GEN_FLAGS := --base-url $(BASE_URL)
else ifneq ($(origin LISTEN),file)
GEN_FLAGS := --base-url http://$(LISTEN)
endif

# Said at the end of a test run without a PostgreSQL server (the shell's variable, so that
# `make test TIKETA_TEST_DATABASE_URL=...` counts too: make exports command-line variables).
POSTGRES_NOTE = if [ -z "$$TIKETA_TEST_DATABASE_URL" ]; then \
	echo "note: the PostgreSQL tests were skipped: TIKETA_TEST_DATABASE_URL is not set."; \
	echo "      Run them with 'make test-postgres' (a throwaway server, scripts/test-postgres), or set the variable to a server of yours."; fi

.PHONY: help binaries build run watch test test-rust test-postgres test-browser browser-deps lint bench clean

## List the targets.
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-z-]+:/{if(doc){split($$0,t,":"); printf "  make %-14s %s\n", t[1], doc}; doc=""}' Makefile

## Build the release binaries.
binaries:
	$(CARGO) build --release --workspace --bins

## Roll the schedule forward and build the whole site into dist/.
build: binaries
	$(GEN) roll --db $(DB) $(GEN_FLAGS)

## Build, then serve the site and the booking API on one port (LISTEN=host:port). Ctrl-C stops it.
## The door page (/door/) and /metrics take the operator token: $TIKETA_OPERATOR_TOKEN, or the one
## made once in var/operator-token.
run: build $(OPERATOR_TOKEN_FILE)
	@echo "door page: http://$(LISTEN)/door/ (operator token: $${TIKETA_OPERATOR_TOKEN:+your TIKETA_OPERATOR_TOKEN}$${TIKETA_OPERATOR_TOKEN:-in $(OPERATOR_TOKEN_FILE)})"
	TIKETA_OPERATOR_TOKEN="$${TIKETA_OPERATOR_TOKEN:-$$(cat $(OPERATOR_TOKEN_FILE))}" \
	$(BOOKING) --db $(DB) --content content --site dist --listen $(LISTEN) $(GEN_FLAGS)

# A random operator token for local use, readable by this user only; never committed (var/).
$(OPERATOR_TOKEN_FILE):
	@mkdir -p $(dir $@)
	@umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > $@

## For content authors: rebuild on every edit, with live reload in the open browser.
watch: binaries
	$(GEN) serve --db $(DB) --listen $(LISTEN) $(GEN_FLAGS)

## Every test: the Rust tests, then the browser tests.
test: test-rust test-browser
	@$(POSTGRES_NOTE)

## The Rust tests (unit, integration, race, crash).
test-rust:
	$(CARGO) test --workspace
	@$(if $(filter test,$(MAKECMDGOALS)),:,$(POSTGRES_NOTE))

## The Rust tests with the PostgreSQL ones, on a throwaway server (scripts/test-postgres).
test-postgres:
	scripts/test-postgres run $(CARGO) test --workspace

## Install the browser tests' npm packages (playwright-core, axe-core).
browser-deps:
	cd tests/browser && npm ci --no-audit --no-fund

## The real-browser tests in Debian's Chromium.
test-browser: binaries browser-deps
	cd tests/browser && node --test

## rustfmt and clippy, warnings as errors.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Benchmarks: figures go to BENCHMARKS.md by hand, with the command that made them.
bench: binaries
	python3 bench/site.py
	python3 bench/site-weight.py
	bash bench/booking.sh
	bash bench/events.sh
	bash bench/seat-cache.sh
	bash bench/reply-sizes.sh
	bash bench/static.sh
	cd tests/browser && npm ci --no-audit --no-fund --silent && node ../../bench/idle-page.mjs 60 && node ../../bench/idle-page.mjs 60 --no-stream

## Remove the build output, the database and the benchmark folders.
clean:
	rm -rf dist .dist.* var target/tiketa-*
