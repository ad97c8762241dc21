# Tiketa: two commands do everything.
#   make run    build, roll the schedule, build the site, serve site + booking API on one port
#   make test   every test: unit, integration, race, crash and the browser tests
# The rest are the steps those two are made of, and the operator's and benchmark's tools.

CARGO    ?= cargo
RELEASE  := target/release
GEN      := $(RELEASE)/tiketa-gen
BOOKING  := $(RELEASE)/tiketa-booking
LISTEN   ?= 127.0.0.1:8080
DB       ?= var/tiketa.db

.PHONY: help binaries build run watch test test-rust test-browser browser-deps lint bench clean

help:
	@sed -n 's/^#   //p' Makefile

binaries:
	$(CARGO) build --release --workspace --bins

## Roll the schedule forward and build the whole site into dist/.
build: binaries
	$(GEN) roll --db $(DB)

## Everything a visitor needs on one port: the site and the booking API. Ctrl-C stops it.
run: build
	$(BOOKING) --db $(DB) --content content --site dist --listen $(LISTEN)

## For content authors: rebuild on every edit, with live reload in the open browser.
watch: binaries
	$(GEN) serve --db $(DB) --listen $(LISTEN)

test: test-rust test-browser

test-rust:
	$(CARGO) test --workspace

browser-deps:
	cd tests/browser && npm ci --no-audit --no-fund

test-browser: binaries browser-deps
	cd tests/browser && node --test

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Benchmarks: figures go to BENCHMARKS.md by hand, with the command that made them.
bench: binaries
	python3 bench/site.py
	bash bench/booking.sh

clean:
	rm -rf dist .dist.* var target/tiketa-*
