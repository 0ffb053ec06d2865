package lint

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
)

// noSNIRules are the rules that predict that nginx sends no SNI.
var noSNIRules = []string{"SNI001", "SNI003", "SNI006"}

// caseRules are the exact findings of the cases whose outcome one rule
// explains; every other case is held to the general agreement below.
var caseRules = map[string][]string{
	"nginx/seed/no-server-name":                    {"SNI001"},
	"common/ip-default":                            {"SNI001"},
	"nginx/scope/location-off-overrides-server-on": {"SNI001"},
	"nginx/scope/name-without-server-name":         {"SNI001"},
	"nginx/grpc/server-name-off":                   {"SNI001"},
	"nginx/stream/server-name-off":                 {"SNI001"},
	"nginx/target/upstream-block-on":               {"SNI002"},
	"nginx/target/ip-literal-on":                   {"SNI003"},
	"nginx/stream/ip-on":                           {"SNI003"},
	"nginx/verify/ip-target":                       {"SNI003"},
	"nginx/verify/no-trusted-certificate":          {"SNI004"},
	"common/host-differs-421":                      {"SNI005"},
	"nginx/host/client-host-passed":                {"SNI005"},
	"nginx/name/trailing-dot":                      {"SNI006"},
	"nginx/name/ipv4-literal":                      {"SNI006"},
	"nginx/name/ipv6-bracketed":                    {"SNI006"},
	"nginx/name/ipv6-bare":                         {"SNI006"},
	// Lint cannot know which names an upstream serves: no finding.
	"nginx/name/wrong-name":               nil,
	"nginx/refusal/unknown-name-alert112": nil,
}

// TestCasesAgree lints every nginx case of the conformance suite and checks
// that lint agrees with what the suite observes on real nginx: a case whose
// backend saw no SNI gets a rule that predicts it, a case served with an
// SNI and 200 gets no finding at all, a 421 gets SNI005, a configuration
// nginx refuses for want of a trusted certificate gets SNI004.
func TestCasesAgree(t *testing.T) {
	lintEveryCase(t, "nginx", ".conf", func(c fixtures.Case) ([]byte, error) {
		// Each case alone, in a configuration laid out as the suite's
		// shared one; TEST-NET-1 is never dialed, only an address to write.
		conf, err := fixtures.RenderNginx([]fixtures.Case{c}, fixtures.NginxValues{BackendIP: "192.0.2.10",
			CA: "/etc/sniproof/ca.crt", OtherCA: "/etc/sniproof/other-ca.crt", FirstStream: 9000})
		if err != nil {
			return nil, err
		}
		return conf.Text, nil
	}, disagreement, caseRules)
}

// lintEveryCase lints each case of kind's table alone, as render lays it
// out in a file of its own, and reports every disagreement judge finds
// between lint's rules (sorted) and what the case expects of the real
// proxy. exact names the cases held to exact rules: each must still be in
// the table.
func lintEveryCase(t *testing.T, kind, ext string, render func(fixtures.Case) ([]byte, error),
	judge func(fixtures.Case, []string) string, exact map[string][]string) {
	t.Helper()
	cases, err := fixtures.Cases(kind)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.ID] = true
		conf, err := render(c)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, strings.ReplaceAll(c.ID, "/", "--")+ext)
		if err := os.WriteFile(file, conf, 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Files(file)
		if err != nil {
			t.Errorf("%s:%d: %s: %v\n%s", c.File, c.Line, c.ID, err, conf)
			continue
		}
		var rules []string
		for _, f := range res.Findings {
			rules = append(rules, f.Rule)
		}
		slices.Sort(rules)
		if problem := judge(c, rules); problem != "" {
			t.Errorf("%s:%d: %s: lint found %q: %s\n%s", c.File, c.Line, c.ID, rules, problem, conf)
		}
	}
	for id := range exact {
		if !seen[id] {
			t.Errorf("the exact rules name %s, which fixtures/%s/cases.yaml no longer has", id, kind)
		}
	}
}

// disagreement says how lint's rules disagree with what the case expects
// of real nginx, or "" when they agree.
func disagreement(c fixtures.Case, rules []string) string {
	has := func(ids ...string) bool {
		return slices.ContainsFunc(rules, func(r string) bool { return slices.Contains(ids, r) })
	}
	e := c.Expect
	if want, ok := caseRules[c.ID]; ok {
		if !slices.Equal(rules, want) {
			return "want exactly " + strings.Join(append([]string{}, want...), ", ")
		}
		return ""
	}
	switch {
	case strings.Contains(e.ConfigError, "proxy_ssl_trusted_certificate") && !has("SNI004"):
		return "nginx refuses this configuration: want SNI004"
	case e.SNI != nil && *e.SNI == "" && !has(noSNIRules...):
		return "the backend sees no SNI: want one of " + strings.Join(noSNIRules, ", ")
	case e.Status == 421 && !has("SNI005"):
		return "the upstream answers 421: want SNI005"
	case e.Backend == fixtures.BackendServed && e.SNI != nil && *e.SNI != "" && e.Status == 200 && len(rules) > 0:
		return "nginx sends " + *e.SNI + " and gets 200: want no finding"
	}
	return ""
}
