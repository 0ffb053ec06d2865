# sniproof: see README.md. Every target runs from a fresh clone; images that
# are missing are built from Debian packages on first use.
GO      ?= go
LABELS  ?=
FOCUS   ?=
SHARD   ?=
# Built, not `go run`: `go run` turns every exit code into 1.
SNIPROOF = bin/sniproof

.PHONY: test unit vet conformance bench report-check images sweep bin/sniproof

## test: vet, unit tests, then the conformance suites; ends with the line
## "conformance: N passed, N failed, N skipped".
test: vet unit conformance

## unit: unit tests; no Docker needed.
unit:
	$(GO) test ./...

## vet: formatting and go vet, for the unit and the conformance build.
vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags conformance ./suites/...

## conformance: the conformance suites against real proxies in containers.
## LABELS='nginx && bookworm' filters by label, FOCUS='nginx/seed/.*' by case
## id, SHARD=1/4 runs a stable quarter of the cases.
conformance: bin/sniproof
	$(SNIPROOF) conformance --labels '$(LABELS)' --focus '$(FOCUS)' --shard '$(SHARD)'

## report-check: open reports/index.html in headless Chromium and check it.
report-check: bin/sniproof
	$(SNIPROOF) report check reports

bin/sniproof:
	$(GO) build -o $@ ./cmd/sniproof

## bench: time the suites warm; prints wall time, cases and marginal cost per case.
bench: bin/sniproof
	$(SNIPROOF) bench

## images: build every image that is missing.
images: bin/sniproof
	$(SNIPROOF) images

## sweep: remove the containers and networks of every sniproof session.
sweep: bin/sniproof
	$(SNIPROOF) sweep --all
