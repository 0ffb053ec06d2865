//go:build conformance

package check_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// The built-in HAProxy cases: every case of fixtures/haproxy/cases.yaml
// that HAProxy accepts goes into one haproxy.cfg, one backend each, laid
// out as the conformance suite lays out its own, and sniproof check runs
// it once in one HAProxy. Each case is judged as the nginx cases are (see
// builtin_test.go): lint's HAP rules predict what check observes.

// haBuiltinValues are what the cases' snippets refer to (see
// builtinValues), with an IP upstream of their own, a /29 from nginx's, so
// that the two checks, running at the same time, need no subnet the other
// holds.
var haBuiltinValues = fixtures.HAProxyValues{BackendIP: "198.18.0.18", CA: builtinValues.CA, OtherCA: builtinValues.OtherCA}

// haBuiltinCases are HAProxy's case table, one spec each.
var haBuiltinCases, haBuiltinErr = fixtures.Cases("haproxy")

// haDisagreements are the HAProxy cases on which lint and check disagree
// for a reason of their own (see disagreements).
var haDisagreements = map[string]disagreement{
	"common/host-header-sni":                 haClientHost,
	"haproxy/name/host-header-with-port":     haClientHost,
	"haproxy/name/host-header-port-stripped": haClientHost,
	"haproxy/lifetime/reuse-per-sni":         haClientHost,
	"haproxy/lifetime/no-resume-across-sni":  haClientHost,
	"haproxy/retries/redispatch": {Cause: "", Rules: []string{"HAP001"},
		Reason: "option redispatch moves the retry to the second server, which has sni, so the backend answers 200 (the first server's handshake fails on every first try); lint flags the first server's line, which sends no SNI"},
}

// haClientHost is the disagreement of an sni expression taken from the
// client's Host (sni req.hdr(host)).
var haClientHost = disagreement{Cause: check.CauseWrongName, Rules: nil,
	Reason: "sni req.hdr(host) sends the client's Host, and check's backend serves only the names the configuration writes, so it refuses the host check requests with; lint cannot know which names an upstream serves, so it has no finding that predicts it (HAP003 warns only of a port in the Host)"}

// haBuiltinReproduce reruns the built-in HAProxy cases' check.
const haBuiltinReproduce = "make conformance LABELS=check FOCUS=check/builtin/haproxy/"

var _ = It("loads the built-in HAProxy cases", Label("check", "haproxy"), func() {
	Expect(haBuiltinErr).NotTo(HaveOccurred())
	Expect(haBuiltinCases).NotTo(BeEmpty())
})

var _ = Describe("sniproof check and lint on the built-in HAProxy cases", Label("check", "haproxy"), Ordered, ContinueOnFailure, func() {
	var rep *check.Report
	excluded := map[string]string{}
	var shared []fixtures.Case
	var conf *fixtures.HAProxyConfig

	BeforeAll(func(ctx SpecContext) {
		Expect(haBuiltinErr).NotTo(HaveOccurred())
		for _, c := range haBuiltinCases {
			if why := haExclusion(c); why != "" {
				excluded[c.ID] = why
				continue
			}
			shared = append(shared, c)
		}
		var err error
		conf, err = fixtures.RenderHAProxy(shared, haBuiltinValues)
		Expect(err).NotTo(HaveOccurred())
		rep = checkShared(ctx, "haproxy.cfg", conf.Text)
	}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*5))

	for _, c := range haBuiltinCases {
		It(fmt.Sprintf("check/builtin/haproxy/%s: lint predicts what check observes", c.ID), func() {
			rec := builtinRecord(c, "check/builtin/haproxy/"+c.ID, "haproxy", haBuiltinReproduce+c.ID, excluded[c.ID], rep)
			l := haCaseLocation(rep, conf.Backends[c.ID])
			Expect(l).NotTo(BeNil(), "check reports no backend %s for %s", conf.Backends[c.ID], c.ID)
			// lint predicts a refused handshake (or a server DOWN): HAProxy
			// answers 503.
			judgeCase(rec, rep, c, []check.Location{*l}, haDisagreements[c.ID], 503)
		})
	}

	It("check/builtin/haproxy/coverage: every backend check reports belongs to a case", func() {
		rec := &report.Record{ID: "check/builtin/haproxy/coverage", Name: "sniproof check on the built-in HAProxy cases covers them all", Suite: "check",
			Proxy: "haproxy", Release: "bookworm", Evidence: report.Evidence{Source: "fixtures/haproxy/cases.yaml", Reproduce: haBuiltinReproduce,
				Reason: "every case of the table is checked in the one shared configuration, excluded by a rule with its reason, or not requested by check with its reason"}}
		AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
		Expect(rep).NotTo(BeNil(), "the check of the built-in HAProxy cases did not run")
		rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
		owned := slices.Collect(maps.Values(conf.Backends))
		checked := 0
		for _, l := range rep.Locations {
			if !slices.Contains(owned, strings.TrimPrefix(l.Location, "backend ")) {
				rec.Differences = append(rec.Differences, fmt.Sprintf("%s (%s) belongs to no case", l.Location, l.At))
			}
			if l.Outcome != check.NotChecked {
				checked++
			}
		}
		for id := range haDisagreements {
			if conf.Backends[id] == "" {
				rec.Differences = append(rec.Differences, fmt.Sprintf("haDisagreements names %s, which is not in the shared configuration", id))
			}
		}
		rec.Evidence.Reason = fmt.Sprintf("%d of %d built-in HAProxy cases checked in one HAProxy, %d in the configuration but not requested by check, %d excluded from it",
			checked, len(haBuiltinCases), len(rep.Locations)-checked, len(excluded))
		fmt.Fprintf(GinkgoWriter, "check/builtin/haproxy: %s\n", rec.Evidence.Reason)
		Expect(rec.Differences).To(BeEmpty())
		Expect(checked).To(BeNumerically(">", 0))
	})
})

// haExclusion says why an HAProxy case cannot join the shared
// configuration, or "" when it can: HAProxy rejects it, which would keep
// every other case from running.
func haExclusion(c fixtures.Case) string {
	for _, e := range append([]fixtures.Expect{c.Expect}, slices.Collect(maps.Values(c.Versions))...) {
		if e.ConfigError != "" {
			return fmt.Sprintf("haproxy -c rejects it (%q), which would keep every other case from running", e.ConfigError)
		}
	}
	return ""
}

// haCaseLocation is the report's location of a case's backend.
func haCaseLocation(rep *check.Report, backend string) *check.Location {
	for i, l := range rep.Locations {
		if l.Location == "backend "+backend {
			return &rep.Locations[i]
		}
	}
	return nil
}
