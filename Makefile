# sniproof: see README.md. Every target runs from a fresh clone; images that
# are missing are built from Debian packages on first use.
GO      ?= go
LABELS  ?=
FOCUS   ?=
SHARD   ?=
# Built, not `go run`: `go run` turns every exit code into 1.
SNIPROOF = bin/sniproof
# Every build is static (no package uses cgo): bin/sniproof is then the
# backend's FROM-scratch image as it is, with no second compile, and the
# unit tests, the suites and the sniproof they build share one build cache.
export CGO_ENABLED = 0

# The suites: the conformance matrix (the product) and the harness's
# self-tests.
MATRIX   = proxies,clients
SELFTEST = check,reliability
SELECT   = --labels '$(LABELS)' --focus '$(FOCUS)' --shard '$(SHARD)'

.PHONY: test gochecks unit vet conformance selftest bench soak fuzz check report-check images sweep bin/sniproof

## test: the preflight and the images the run uses that are missing, then
## one run of the conformance matrix and the self-tests with vet, the unit
## tests and a bounded fuzz of every parser of untrusted input beside them
## (gochecks, whose lines start with "beside | "), then the reports' check
## in headless Chromium as make report-check does; ends with the one line
## "conformance: N passed, N failed, N skipped" of them all. The Go checks
## run beside the suites, not beside the image builds, which keep both
## cores busy; niced, so that they take what the suites leave.
test: bin/sniproof
	$(SNIPROOF) conformance --suites $(MATRIX),$(SELFTEST) --report-check --beside 'nice -n 10 $(MAKE) --no-print-directory gochecks' $(SELECT)

# gochecks: vet, the unit tests and the fuzz, one after the other.
gochecks:
	@$(MAKE) --no-print-directory vet && $(MAKE) --no-print-directory unit && $(MAKE) --no-print-directory fuzz

## unit: unit tests; no Docker needed.
unit:
	$(GO) test ./...

## fuzz: every fuzz target for its budget of executions (go test -fuzz
## -fuzztime=Nx), about 5 s each on 2 cores; FUZZSCALE multiplies the
## budgets. A count, not a duration: with a duration, Go 1.26's fuzz
## coordinator can fail a target at its deadline with a bare "context
## deadline exceeded" and no failing input (golang/go#75804, fixed in Go
## 1.27). Their seed corpora are under testdata/fuzz/.
FUZZSCALE ?= 1
FUZZ_TARGETS = backend:FuzzParseClientHello:40000 backend:FuzzDecodeConfig:35000 proxy:FuzzLoadConfig:25000 \
	fixtures:FuzzCaseTable:3500 fixtures:FuzzLedger:60000 harness:FuzzRecipe:18000 lint:FuzzParseHAProxy:50000 \
	backend:FuzzAnswerDNS:30000 redact:FuzzText:30000 check:FuzzPathFor:20000 lint:FuzzPaths:5000 lint:FuzzFiles:8000 \
	lint:FuzzParseApache:20000 lint:FuzzParseCaddy:10000 lint:FuzzParseNghttpx:40000 lint:FuzzParsePound:50000 \
	lint:FuzzParseSquid:40000 lint:FuzzParseStunnel:40000 lint:FuzzParseH2O:8000 lint:FuzzParseTrafficServer:40000
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; fn=$${rest%%:*}; n=$$(( $${rest##*:} * $(FUZZSCALE) )); \
		echo "fuzz ./$$pkg $$fn for $$n executions"; \
		out=$$($(GO) test -run='^$$' -fuzz="^$$fn\$$" -fuzztime=$${n}x ./$$pkg 2>&1) || { echo "$$out"; exit 1; }; \
	done

## vet: formatting and go vet, for the unit and the conformance build.
vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags conformance ./suites/...

## conformance: the conformance matrix (the proxies and clients suites)
## against real proxies and clients in containers, and the reports.
## LABELS='nginx && bookworm' filters by label, FOCUS='nginx/seed/.*' by case
## id, SHARD=1/4 runs a stable quarter of the cases.
conformance: bin/sniproof
	$(SNIPROOF) conformance --suites $(MATRIX) $(SELECT)

## selftest: the harness's self-tests: the reliability suite (how runs end,
## what they leave behind) and the check suite (sniproof check end to end,
## its agreement with lint on the built-in cases). LABELS, FOCUS, SHARD as above.
selftest: bin/sniproof
	$(SNIPROOF) conformance --suites $(SELFTEST) $(SELECT)

## soak: the suites 10 times in a row; fails if any verdict changes.
soak: bin/sniproof
	$(SNIPROOF) soak --runs 10 --labels '$(LABELS)'

## check: run your nginx configuration unchanged against impersonated
## upstreams: make check CONFIG=/etc/nginx [EXPECT=expect.yaml] [BASELINE=before.json]
## [RELEASE=trixie]; CONFIG may be an haproxy.cfg (PROXY=haproxy for any file name).
check: bin/sniproof
	$(SNIPROOF) check $(CONFIG) $(if $(EXPECT),--expect $(EXPECT)) $(if $(BASELINE),--baseline $(BASELINE)) \
		$(if $(PROXY),--proxy $(PROXY)) $(if $(RELEASE),--release $(RELEASE))

## report-check: open reports/index.html in headless Chromium and check it.
report-check: bin/sniproof
	$(SNIPROOF) report check reports

bin/sniproof:
	$(GO) build -o $@ ./cmd/sniproof

## bench: time the suites warm (the fastest of 3 runs each); prints wall time, cases, marginal cost per case, the whole matrix's rate and the targets.
bench: bin/sniproof
	$(SNIPROOF) bench --runs 3

## images: the preflight, then every image that is missing, as many at a
## time as there are cores.
images: bin/sniproof
	$(SNIPROOF) conformance --images-only --suites all

## sweep: remove the containers and networks of every sniproof session.
sweep: bin/sniproof
	$(SNIPROOF) sweep --all
