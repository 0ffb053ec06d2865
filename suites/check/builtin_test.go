//go:build conformance

package check_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// The built-in cases: every nginx case of fixtures/nginx/cases.yaml that
// one shared configuration can hold goes into one nginx.conf, laid out as
// the conformance suite lays out its own, and sniproof check runs it once.
// Each case is then judged on whether lint's prediction and check's
// observation agree: a location check finds refused for want of SNI (or
// for the wrong name) has a lint finding predicting it, and a predicting
// finding is only at such a location. check's backend is its own strict
// one, not the conformance suite's personalities, so outcomes differ from
// fixtures/nginx/cases.yaml; the agreement is what is judged.

// builtinValues are what the cases' snippets refer to: for the backend an
// address of the benchmarking range 198.18.0.0/15, which check
// impersonates on a subnet of its own (lint's unit test writes 192.0.2.10,
// but TEST-NET-1 can be a machine's own network, whose route check will
// not take over), and the CA paths, where check writes its CA.
var builtinValues = fixtures.NginxValues{BackendIP: "198.18.0.10", CA: "/etc/sniproof/ca.pem", OtherCA: "/etc/sniproof/other-ca.pem", FirstStream: 9100}

// builtinCases are nginx's case table, one spec each, loaded while the
// spec tree is built.
var builtinCases, builtinErr = fixtures.Cases("nginx")

// predicts lists, per cause of a broken location, the lint rules that
// predict it: no SNI (SNI001 off, SNI003 an IP target, SNI006 an IP
// proxy_ssl_name; HAProxy: HAP001 ssl without sni, HAP004 a health check
// without check-sni) and a name the upstream refuses (SNI002 an upstream
// block's name, SNI006 a name nginx mangles; HAProxy: HAP002 a trailing
// dot).
var predicts = map[string][]string{
	check.CauseNoSNI:     {"SNI001", "SNI003", "SNI006", "HAP001", "HAP004"},
	check.CauseWrongName: {"SNI002", "SNI006", "HAP002"},
}

// predictive are the rules that predict an SNI failure.
var predictive = []string{"SNI001", "SNI002", "SNI003", "SNI006", "HAP001", "HAP002", "HAP004"}

// disagreement is an agreed disagreement between lint and check at a
// case's location: check's cause there ("" when it works) and lint's
// predicting rules there, with the reason they differ.
type disagreement struct {
	Cause  string
	Rules  []string
	Reason string
}

// disagreements are the cases on which lint and check disagree for a
// reason of their own. A case listed here is held to exactly the recorded
// disagreement, so that one that comes to agree fails until it is removed.
var disagreements = map[string]disagreement{
	"common/host-header-sni":                           clientHost,
	"nginx/name/http-host-with-port":                   clientHost,
	"nginx/lifetime/session-reuse-tls12":               clientHost,
	"nginx/lifetime/session-reuse-tls13":               clientHost,
	"nginx/lifetime/keepalive-reuses-connection":       clientHost,
	"nginx/lifetime/no-keepalive-new-connection":       clientHost,
	"nginx/lifetime/keepalive-shared-across-locations": clientHost,
}

// clientHost is the disagreement of a proxy_ssl_name taken from the
// client's Host ($host, $http_host).
var clientHost = disagreement{Cause: check.CauseWrongName, Rules: nil,
	Reason: "proxy_ssl_name sends the client's Host, and check's backend serves only the names the configuration writes, so it refuses the server's name check requests with; lint cannot know which names an upstream serves, so it has no finding"}

// builtinReproduce reruns the built-in cases' check.
const builtinReproduce = "make conformance LABELS=check FOCUS=check/builtin/"

var _ = It("loads the built-in nginx cases", Label("check"), func() {
	Expect(builtinErr).NotTo(HaveOccurred())
	Expect(builtinCases).NotTo(BeEmpty())
})

var _ = Describe("sniproof check and lint on the built-in nginx cases", Label("check"), Ordered, ContinueOnFailure, func() {
	var rep *check.Report
	excluded := map[string]string{}
	var shared []fixtures.Case
	var conf *fixtures.NginxConfig

	BeforeAll(func(ctx SpecContext) {
		Expect(builtinErr).NotTo(HaveOccurred())
		for _, c := range builtinCases {
			why, err := exclusion(c)
			Expect(err).NotTo(HaveOccurred())
			if why != "" {
				excluded[c.ID] = why
				continue
			}
			shared = append(shared, c)
		}
		var err error
		conf, err = fixtures.RenderNginx(shared, builtinValues)
		Expect(err).NotTo(HaveOccurred())
		rep = checkShared(ctx, "nginx.conf", conf.Text)
	}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*5))

	for _, c := range builtinCases {
		It(fmt.Sprintf("check/builtin/%s: lint predicts what check observes", c.ID), func() {
			rec := builtinRecord(c, "check/builtin/"+c.ID, "nginx", builtinReproduce+c.ID, excluded[c.ID], rep)
			locs := caseLocations(rep, c, conf)
			Expect(locs).NotTo(BeEmpty(), "check reports no location of %s's server", c.ID)
			// lint predicts a refused handshake: nginx answers 502, or
			// closes a stream connection.
			refused := 502
			if c.Frontend == fixtures.FrontendStream {
				refused = 0
			}
			judgeCase(rec, rep, c, locs, disagreements[c.ID], refused)
		})
	}

	It("check/builtin/coverage: every location check reports and every predicting lint finding belongs to a case", func() {
		rec := &report.Record{ID: "check/builtin/coverage", Name: "sniproof check on the built-in nginx cases covers them all", Suite: "check",
			Proxy: "nginx", Release: "bookworm", Evidence: report.Evidence{Source: "fixtures/nginx/cases.yaml", Reproduce: builtinReproduce,
				Reason: "every case of the table is checked in the one shared configuration, excluded by a rule with its reason, or not requested by check with its reason"}}
		AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
		Expect(rep).NotTo(BeNil(), "the check of the built-in cases did not run")
		rec.Version, rec.Image, rec.Judged = rep.Version, rep.Image, true
		owned := map[string]bool{}
		checked, notChecked := 0, 0
		for _, c := range shared {
			locs := caseLocations(rep, c, conf)
			for _, l := range locs {
				owned[l.At] = true
			}
			if slices.ContainsFunc(locs, func(l check.Location) bool { return l.Outcome != check.NotChecked }) {
				checked++
			} else {
				notChecked++
			}
		}
		for _, l := range rep.Locations {
			if !owned[l.At] {
				rec.Differences = append(rec.Differences, fmt.Sprintf("%s (%s) of server %s belongs to no case", l.Location, l.At, l.Server))
			}
		}
		for _, f := range rep.Lint {
			if slices.Contains(predictive, f.Rule) && !slices.ContainsFunc(rep.Locations, func(l check.Location) bool { return slices.Contains(l.Lint, f) }) {
				rec.Differences = append(rec.Differences, fmt.Sprintf("lint %s at %s is in effect at no location check reports", f.Rule, f.At))
			}
		}
		for id := range disagreements {
			if !slices.ContainsFunc(shared, func(c fixtures.Case) bool { return c.ID == id }) {
				rec.Differences = append(rec.Differences, fmt.Sprintf("disagreements names %s, which is not in the shared configuration", id))
			}
		}
		rec.Evidence.Reason = fmt.Sprintf("%d of %d built-in cases checked in one nginx, %d in the configuration but not requested by check, %d excluded from it",
			checked, len(builtinCases), notChecked, len(excluded))
		fmt.Fprintf(GinkgoWriter, "check/builtin: %s\n", rec.Evidence.Reason)
		Expect(rec.Differences).To(BeEmpty())
		Expect(checked).To(BeNumerically(">", 0))
	})
})

// builtinRecord is the record of a built-in case's spec, for proxy. The
// spec is skipped with why when the case is excluded from the shared
// configuration, and fails when the check of that configuration did not
// run.
func builtinRecord(c fixtures.Case, id, proxy, reproduce, why string, rep *check.Report) *report.Record {
	rec := &report.Record{ID: id, Name: fmt.Sprintf("sniproof check and lint agree (%s): %s", proxy, c.Name), Suite: "check",
		Proxy: proxy, Release: "bookworm",
		Evidence: report.Evidence{Source: fmt.Sprintf("%s:%d", c.File, c.Line), Reproduce: reproduce,
			Reason: "lint predicts from the configuration, check observes it in " + proxy + ": a location (HAProxy: a backend) check finds refused for want of SNI, or for a wrong name, has a lint finding predicting it, and only such a location has one"}}
	AddReportEntry(suites.RecordEntry, rec, ReportEntryVisibilityNever)
	if why != "" {
		rec.Evidence.Reason = "not in the shared configuration: " + why
		Skip(why)
	}
	Expect(rep).NotTo(BeNil(), "the check of the built-in %s cases did not run", proxy)
	rec.Version, rec.Image = rep.Version, rep.Image
	return rec
}

// checkShared writes the shared configuration of built-in cases as file
// and checks it once, recording a failure as the suite's setup error.
func checkShared(ctx context.Context, file string, conf []byte) *check.Report {
	path := filepath.Join(GinkgoT().TempDir(), file)
	Expect(os.WriteFile(path, conf, 0o644)).To(Succeed())
	rep, err := run(ctx, check.Options{Config: path})
	if err != nil {
		suites.SetupFailed(err)
	}
	Expect(err).NotTo(HaveOccurred(), "check the built-in cases (%s)", file)
	fmt.Fprintf(GinkgoWriter, "%s\n", text(rep))
	Expect(rep.Rejected).To(BeNil(), "%s rejects the shared configuration of the built-in cases", rep.Proxy)
	return rep
}

// judgeCase holds a case's locations in the shared configuration to
// agreement between lint and check (or to its recorded disagreement, when
// known.Reason is set), filling its record; refused is the status lint's
// predicting rules mean. A case none of whose locations check requested
// is skipped, with check's reasons.
func judgeCase(rec *report.Record, rep *check.Report, c fixtures.Case, locs []check.Location, known disagreement, refused int) {
	var checked []check.Location
	var skipped []string
	for _, l := range locs {
		if l.Outcome == check.NotChecked {
			skipped = append(skipped, fmt.Sprintf("%s (%s): %s", l.Location, l.At, l.NotChecked))
			continue
		}
		checked = append(checked, l)
	}
	if len(checked) == 0 {
		rec.Evidence.Reason = "check does not request it: " + strings.Join(skipped, "; ")
		Skip("check does not request it: " + strings.Join(skipped, "; "))
	}
	main := checked[0]
	rec.Judged, rec.Observed, rec.Evidence.Config = true, main.Observed, main.Config
	if len(rules(main.Lint)) > 0 {
		rec.Expected = fixtures.Expect{Status: refused, Backend: fixtures.BackendRefused}
	}
	var said []string
	for _, l := range checked {
		said = append(said, describe(l))
		if d := agreement(l); d != "" {
			rec.Differences = append(rec.Differences, d)
		}
	}
	if known.Reason != "" {
		rec.Differences = heldTo(known, checked)
		said = append(said, "a known disagreement: "+known.Reason)
	}
	said = append(said, skipped...)
	rec.Evidence.Reason = strings.Join(said, "; ")
	Expect(rec.Differences).To(BeEmpty(), "%s %s: %s (%s:%d): lint and check disagree", rep.Proxy, rep.Version, c.ID, c.File, c.Line)
}

// exclusion says why a case cannot join the shared configuration, or ""
// when it can: nginx -t rejects it (so it would keep every other case
// from running), or its http snippet holds more than upstream {} blocks
// (which every other case's server would inherit).
func exclusion(c fixtures.Case) (string, error) {
	for _, e := range append([]fixtures.Expect{c.Expect}, slices.Collect(maps.Values(c.Versions))...) {
		if e.ConfigError != "" {
			return fmt.Sprintf("nginx -t rejects it (%q), which would keep every other case from running", e.ConfigError), nil
		}
	}
	alone, err := fixtures.RenderNginx([]fixtures.Case{c}, builtinValues)
	if err != nil || alone.HTTP[c.ID] == "" {
		return "", err
	}
	tree, err := lint.LoadTree(lint.TreeOptions{HostDir: GinkgoT().TempDir(), ConfDir: check.DefaultConfDir, Main: "http.conf", MainContent: []byte(alone.HTTP[c.ID])})
	if err != nil {
		return "", err
	}
	for _, n := range tree.Root.Children {
		if n.Name != "upstream" {
			return fmt.Sprintf("its http snippet sets %s (line %d), which every other case's server would inherit", n.Name, n.Line), nil
		}
	}
	return "", nil
}

// caseLocations are the locations check reports in a case's server: the
// server named by its first request host, or the stream server on its
// port.
func caseLocations(rep *check.Report, c fixtures.Case, conf *fixtures.NginxConfig) []check.Location {
	server := c.Request.ServerName()
	if c.Frontend == fixtures.FrontendStream {
		server = fmt.Sprintf("stream server :%d", conf.Streams[c.ID])
	}
	var out []check.Location
	for _, l := range rep.Locations {
		if l.Server == server {
			out = append(out, l)
		}
	}
	return out
}

// rules are the predicting rules among findings, each once.
func rules(findings []check.Finding) []string {
	var out []string
	for _, f := range findings {
		if slices.Contains(predictive, f.Rule) && !slices.Contains(out, f.Rule) {
			out = append(out, f.Rule)
		}
	}
	slices.Sort(out)
	return out
}

// sniCause is check's cause at a location when it is one lint predicts
// (no SNI, a wrong name), else "".
func sniCause(l check.Location) string {
	if _, ok := predicts[l.Cause]; ok && l.Outcome == check.Broken {
		return l.Cause
	}
	return ""
}

// agreement says how lint's findings in effect at a checked location
// disagree with what check observed there, or "".
func agreement(l check.Location) string {
	cause, found := sniCause(l), rules(l.Lint)
	switch {
	case cause == "" && len(found) > 0:
		return fmt.Sprintf("%s (%s): lint %s predicts an SNI failure, but check finds it %s", l.Location, l.At, strings.Join(found, ", "), outcome(l))
	case cause != "" && !slices.ContainsFunc(found, func(r string) bool { return slices.Contains(predicts[cause], r) }):
		return fmt.Sprintf("%s (%s): check finds it %s, but lint has no finding of %s there (it has %q)", l.Location, l.At, outcome(l), strings.Join(predicts[cause], ", "), found)
	}
	return ""
}

// heldTo are the differences of a case listed in disagreements: none when
// a checked location shows exactly the recorded disagreement (check's
// cause and lint's predicting rules), else why the record is stale.
func heldTo(want disagreement, checked []check.Location) []string {
	var seen []string
	for _, l := range checked {
		if sniCause(l) == want.Cause && slices.Equal(rules(l.Lint), want.Rules) && agreement(l) != "" {
			return nil
		}
		seen = append(seen, fmt.Sprintf("%s: cause %q, lint %q", l.Location, sniCause(l), rules(l.Lint)))
	}
	return []string{fmt.Sprintf("the recorded disagreement (check cause %q, lint %q: %s) no longer holds: %s", want.Cause, want.Rules, want.Reason, strings.Join(seen, "; "))}
}

// outcome is what check found at a location, in a phrase: broken or
// working, and how.
func outcome(l check.Location) string {
	if l.Outcome == check.Broken {
		return fmt.Sprintf("broken (%s: %s)", l.Cause, l.Explanation)
	}
	if l.SNI == nil {
		return fmt.Sprintf("working (status %d; no ClientHello reached the upstream)", l.Status)
	}
	return fmt.Sprintf("working (status %d, the upstream saw SNI %q)", l.Status, *l.SNI)
}

// describe is what check and lint said of a location, for the evidence.
func describe(l check.Location) string {
	var lints []string
	for _, f := range l.Lint {
		if slices.Contains(predictive, f.Rule) {
			lints = append(lints, fmt.Sprintf("%s at %s: %s", f.Rule, f.At, f.Message))
		}
	}
	if len(lints) == 0 {
		lints = []string{"no finding of " + strings.Join(predictive, ", ")}
	}
	return fmt.Sprintf("%s (%s) %s: check finds it %s; lint: %s", l.Location, l.At, l.Request, outcome(l), strings.Join(lints, "; "))
}
