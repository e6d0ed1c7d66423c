# Baton: two commands do everything on a fresh machine.
#   make run   installs what is missing, builds the release site, starts Baton on :3000
#   make test  installs what is missing and runs every test (unit, integration, browser)

SHELL := /bin/bash
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
# npm's binaryen provides wasm-opt: it must come before any other on PATH.
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(CARGO_BIN):$(PATH)

.PHONY: run test bench bench-widget eval setup build clean

run: build
	./target/release/server

test: build
	./.ci/test

# Load figures (not a test): SQLite, then PostgreSQL at $(BENCH_POSTGRES).
BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432/test
BENCH_ARGS ?= --visitors 500 --agents 10 --rate 300 --seconds 15
bench: build
	cargo bench -p server --bench loadgen -- $(BENCH_ARGS)
	cargo bench -p server --bench loadgen -- $(BENCH_ARGS) --database $(BENCH_POSTGRES)

# The widget's first load (gzip bytes, time until the composer is usable) in Chromium.
bench-widget: build
	cd end2end && npx playwright test -c bench.config.ts

# The built-in brain's escalation decision on the labelled corpus (server/eval/corpus.txt):
# precision, recall and F1 per reason, the confusion cases, and the decision time per turn.
eval:
	cargo run --release -p server --example eval

build: setup
	cargo leptos build --release
	./.ci/build-widget

setup:
	./.ci/setup

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results
