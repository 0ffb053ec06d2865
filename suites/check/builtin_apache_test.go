//go:build conformance

package check_test

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// apacheBuiltinIP is the IP upstream of the cases, an address of its own (each
// table's is a /29 apart) so that its check needs no subnet the other
// tables' checks, running at the same time, hold.
const apacheBuiltinIP = "198.18.0.26"

// The built-in Apache cases: every case of fixtures/apache/cases.yaml
// that Apache accepts goes into one configuration, one virtual host each,
// laid out as the conformance suite lays out its own, and sniproof check
// runs it once in one Apache. Each case is judged as the nginx cases are
// (see builtin_test.go): lint's APA002 predicts check's no-SNI verdicts.

func init() {
	predicts[check.CauseNoSNI] = append(predicts[check.CauseNoSNI], "APA002")
	predictive = append(predictive, "APA002")
}

// apacheBuiltinCases are Apache's case table, one spec each.
var apacheBuiltinCases, apacheBuiltinErr = fixtures.Cases("apache")

// apacheBuiltinReproduce reruns the built-in Apache cases' check.
const apacheBuiltinReproduce = "make conformance LABELS=check FOCUS=check/builtin/apache/"

// apacheVHost is the ServerName of a rendered case's virtual host.
var apacheVHost = regexp.MustCompile(`(?m)^<VirtualHost \*:8080>\n\s*ServerName (\S+)`)

// apacheDefault starts the default virtual host of a rendered case's
// configuration, after the global snippets.
const apacheDefault = "# The first virtual host is the default"

// apacheShared is one configuration of cases, from each case's as the
// conformance suite renders it alone: the first whole, each other's
// global snippet before the default virtual host and its virtual host at
// the end; and each case's ServerName.
func apacheShared(cases []fixtures.Case) (string, map[string]string, error) {
	k, err := harness.LookupKind("apache")
	if err != nil {
		return "", nil, err
	}
	alone, err := harness.Standalone(k, k.Releases[0], apacheBuiltinIP, cases)
	if err != nil {
		return "", nil, err
	}
	var globals, vhosts strings.Builder
	hosts := map[string]string{}
	var head, first string
	for i, c := range cases {
		text := alone[c.ID]
		def := strings.Index(text, apacheDefault)
		at := strings.Index(text, "# "+c.ID+": ")
		m := apacheVHost.FindStringSubmatch(text[max(at, 0):])
		if def < 0 || at < def || m == nil {
			return "", nil, fmt.Errorf("%s: the rendered configuration has no virtual host of its own:\n%s", c.ID, text)
		}
		hosts[c.ID] = m[1]
		if i == 0 {
			head, first = text[:def], text[def:]
			continue
		}
		if g := strings.Index(text, "\n# "+c.ID+"\n"); g >= 0 && g < def {
			globals.WriteString(text[g:def])
		}
		vhosts.WriteString("\n" + text[at:])
	}
	return head + globals.String() + first + vhosts.String(), hosts, nil
}

var _ = It("loads the built-in Apache cases", Label("check", "apache"), func() {
	Expect(apacheBuiltinErr).NotTo(HaveOccurred())
	Expect(apacheBuiltinCases).NotTo(BeEmpty())
})

var _ = Describe("sniproof check and lint on the built-in Apache cases", Label("check", "apache"), Ordered, ContinueOnFailure, func() {
	var rep *check.Report
	excluded := map[string]string{}
	var hosts map[string]string

	BeforeAll(func(ctx SpecContext) {
		Expect(apacheBuiltinErr).NotTo(HaveOccurred())
		var shared []fixtures.Case
		for _, c := range apacheBuiltinCases {
			for _, e := range append([]fixtures.Expect{c.Expect}, slices.Collect(maps.Values(c.Versions))...) {
				if e.ConfigError != "" {
					excluded[c.ID] = fmt.Sprintf("apache2 -t rejects it (%q), which would keep every other case from running", e.ConfigError)
				}
			}
			if excluded[c.ID] == "" {
				shared = append(shared, c)
			}
		}
		conf, h, err := apacheShared(shared)
		Expect(err).NotTo(HaveOccurred())
		hosts = h
		rep = checkShared(ctx, "apache.conf", []byte(conf))
	}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*5))

	for _, c := range apacheBuiltinCases {
		It(fmt.Sprintf("check/builtin/apache/%s: lint predicts what check observes", c.ID), func() {
			rec := builtinRecord(c, "check/builtin/apache/"+c.ID, "apache", apacheBuiltinReproduce+c.ID, excluded[c.ID], rep)
			var locs []check.Location
			for _, l := range rep.Locations {
				if strings.HasSuffix(l.Server, " "+hosts[c.ID]) {
					locs = append(locs, l)
				}
			}
			Expect(locs).NotTo(BeEmpty(), "check reports no route of %s for %s", hosts[c.ID], c.ID)
			// lint predicts a refused handshake: Apache answers 500.
			judgeCase(rec, rep, c, locs, apacheDisagreements[c.ID], 500)
		})
	}
})

// apacheDisagreements are the Apache cases on which lint and check
// disagree for a reason of their own (see disagreements).
var apacheDisagreements = map[string]disagreement{
	"common/host-header-sni":                 apacheClientHost,
	"apache/host/preserve-host-unknown-name": apacheClientHost,
	"apache/host/preserve-host-strips-port":  apacheClientHost,
	"apache/host/preserve-host-reconnects":   apacheClientHost,
	"apache/default421/preserve-host":        apacheClientHost,
}

// apacheClientHost is the disagreement of ProxyPreserveHost On, whose SNI
// is the client's Host.
var apacheClientHost = disagreement{Cause: check.CauseWrongName, Rules: nil,
	Reason: "ProxyPreserveHost On sends the client's Host as SNI, and check's backend serves only the names the configuration writes, so it refuses the case's host check requests with; lint cannot know which names an upstream serves, so APA003 warns and predicts nothing"}
