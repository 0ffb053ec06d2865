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

// The built-in Caddy cases: every case of fixtures/caddy/cases.yaml that
// Caddy accepts goes into one Caddyfile, one site each, laid out as the
// conformance suite lays out its own, and sniproof check runs it once in
// one Caddy. Each case is judged as the nginx cases are (see
// builtin_test.go): lint's CAD rules predict what check observes.

func init() {
	predicts[check.CauseNoSNI] = append(predicts[check.CauseNoSNI], "CAD001")
	predicts[check.CauseWrongName] = append(predicts[check.CauseWrongName], "CAD003")
	predictive = append(predictive, "CAD001", "CAD003")
}

// caddyBuiltinCases are Caddy's case table, one spec each.
var caddyBuiltinCases, caddyBuiltinErr = fixtures.Cases("caddy")

// caddyClientHost is the disagreement of a placeholder tls_server_name,
// the client's host.
var caddyClientHost = disagreement{Cause: check.CauseWrongName, Rules: nil,
	Reason: "tls_server_name {http.request.host} sends the client's host, and check's backend serves only the names the configuration writes, so it refuses the case's host check requests with; lint cannot know which names an upstream serves, so CAD002 warns and predicts nothing"}

// caddyDisagreements are the Caddy cases on which lint and check disagree
// for a reason of their own (see disagreements).
var caddyDisagreements = map[string]disagreement{
	"common/host-header-sni":                  caddyClientHost,
	"caddy/name/placeholder-unknown-host":     caddyClientHost,
	"caddy/name/placeholder-keepalive":        caddyClientHost,
	"caddy/name/placeholder-host-strips-port": caddyClientHost,
}

// caddyBuiltinReproduce reruns the built-in Caddy cases' check.
const caddyBuiltinReproduce = "make conformance LABELS=check FOCUS=check/builtin/caddy/"

// caddyBackendIP is the IP upstream of the cases, an address of its own so
// that its network clashes with no other proxy's built-in cases checked at
// the same time.
const caddyBackendIP = "10.197.5.10"

// caddySite is the first host of a rendered case's site address line.
var caddySite = regexp.MustCompile(`(?m)^http://([^:\s,]+):8080`)

// caddyShared is one Caddyfile of cases, from each case's Caddyfile as the
// conformance suite renders it alone: the first whole, then each other's
// site block; and each case's first site host.
func caddyShared(cases []fixtures.Case) (string, map[string]string, error) {
	k, err := harness.LookupKind("caddy")
	if err != nil {
		return "", nil, err
	}
	alone, err := harness.Standalone(k, k.Releases[0], caddyBackendIP, cases)
	if err != nil {
		return "", nil, err
	}
	var b strings.Builder
	hosts := map[string]string{}
	for i, c := range cases {
		text := alone[c.ID]
		at := strings.Index(text, "# "+c.ID+": ")
		m := caddySite.FindStringSubmatch(text[max(at, 0):])
		if at < 0 || m == nil {
			return "", nil, fmt.Errorf("%s: the rendered Caddyfile has no site block of its own:\n%s", c.ID, text)
		}
		hosts[c.ID] = m[1]
		if i == 0 {
			b.WriteString(text)
			continue
		}
		b.WriteString("\n" + text[at:])
	}
	return b.String(), hosts, nil
}

var _ = It("loads the built-in Caddy cases", Label("check", "caddy"), func() {
	Expect(caddyBuiltinErr).NotTo(HaveOccurred())
	Expect(caddyBuiltinCases).NotTo(BeEmpty())
})

var _ = Describe("sniproof check and lint on the built-in Caddy cases", Label("check", "caddy"), Ordered, ContinueOnFailure, func() {
	var rep *check.Report
	excluded := map[string]string{}
	var hosts map[string]string

	BeforeAll(func(ctx SpecContext) {
		Expect(caddyBuiltinErr).NotTo(HaveOccurred())
		var shared []fixtures.Case
		for _, c := range caddyBuiltinCases {
			for _, e := range append([]fixtures.Expect{c.Expect}, slices.Collect(maps.Values(c.Versions))...) {
				if e.ConfigError != "" {
					excluded[c.ID] = fmt.Sprintf("caddy rejects it (%q), which would keep every other case from running", e.ConfigError)
				}
			}
			if excluded[c.ID] == "" {
				shared = append(shared, c)
			}
		}
		conf, h, err := caddyShared(shared)
		Expect(err).NotTo(HaveOccurred())
		hosts = h
		rep = checkShared(ctx, "Caddyfile", []byte(conf))
	}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*5))

	for _, c := range caddyBuiltinCases {
		It(fmt.Sprintf("check/builtin/caddy/%s: lint predicts what check observes", c.ID), func() {
			rec := builtinRecord(c, "check/builtin/caddy/"+c.ID, "caddy", caddyBuiltinReproduce+c.ID, excluded[c.ID], rep)
			var locs []check.Location
			for _, l := range rep.Locations {
				// "route HOST,HOST:PORT PATH"
				site, _, _ := strings.Cut(strings.TrimPrefix(l.Location, "route "), " ")
				if i := strings.LastIndex(site, ":"); i >= 0 && slices.Contains(strings.Split(site[:i], ","), hosts[c.ID]) {
					locs = append(locs, l)
				}
			}
			Expect(locs).NotTo(BeEmpty(), "check reports no route of %s for %s", hosts[c.ID], c.ID)
			// lint predicts a refused handshake: Caddy answers 502.
			judgeCase(rec, rep, c, locs, caddyDisagreements[c.ID], 502)
		})
	}
})
