package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// noSNIRules are the rules that predict that nginx sends no SNI.
var noSNIRules = []string{"SNI001", "SNI003", "SNI006"}

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
	}, disagreement, "")
}

// lintEveryCase lints each case of kind's table alone, as render lays it
// out in a file of its own, judged for each of versions, and reports
// every disagreement between lint's rules (sorted) and what the case
// expects of that version of the real proxy: exactly its lint field when
// it has one, else what judge says. A case the proxy refuses (its
// config_error) agrees when Lint refuses it with the proxy's message.
func lintEveryCase(t *testing.T, kind, ext string, render func(fixtures.Case) ([]byte, error),
	judge func(fixtures.Expect, []string) string, versions ...string) {
	t.Helper()
	cases, err := fixtures.Cases(kind)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range cases {
		conf, err := render(c)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, strings.ReplaceAll(c.ID, "/", "--")+ext)
		if err := os.WriteFile(file, conf, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, v := range versions {
			res, _, err := Lint(Options{plain: true, Versions: map[string]string{kind: v}}, file)
			if ce := c.For(v).ConfigError; err != nil && ce != "" && strings.Contains(err.Error(), ce) {
				// Lint refuses the configuration as the proxy does.
				continue
			}
			if err != nil {
				t.Errorf("%s:%d: %s: %v\n%s", c.File, c.Line, c.ID, err, conf)
				continue
			}
			rules := []string{}
			for _, f := range res.Findings {
				rules = append(rules, f.Rule)
			}
			slices.Sort(rules)
			e := c.For(v)
			problem := ""
			if e.Lint != nil {
				if !slices.Equal(rules, *e.Lint) {
					problem = "want exactly " + fmt.Sprint(*e.Lint) + " (the case's lint field)"
				}
			} else {
				problem = judge(e, rules)
			}
			if problem != "" {
				t.Errorf("%s:%d: %s, judged for %s %q: lint found %q: %s\n%s", c.File, c.Line, c.ID, kind, v, rules, problem, conf)
			}
		}
	}
}

// disagreement says how lint's rules disagree with what the case expects
// of real nginx, or "" when they agree.
func disagreement(e fixtures.Expect, rules []string) string {
	has := func(ids ...string) bool {
		return slices.ContainsFunc(rules, func(r string) bool { return slices.Contains(ids, r) })
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

// TestRulesGrounded: every rule but HAP006, which no case of the matrix
// shows (its help names the check sample that does), names the cases
// that show it, from their lint fields.
func TestRulesGrounded(t *testing.T) {
	for _, r := range Rules() {
		if r.ID == haRelativePath.ID {
			if len(r.Cases) != 0 {
				t.Errorf("%s: cases %q, want none", r.ID, r.Cases)
			}
			continue
		}
		if len(r.Cases) == 0 {
			t.Errorf("%s (%s): no case's lint field names it", r.ID, r.Name)
		}
	}
}

// standalone is kind's case table and each case's configuration as the
// proxies suite renders it alone, by case id.
func standalone(t *testing.T, kind string) ([]fixtures.Case, map[string]string) {
	t.Helper()
	k, err := harness.LookupKind(kind)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := fixtures.Cases(kind)
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := harness.Standalone(k, k.Releases[0], "192.0.2.10", cases)
	if err != nil {
		t.Fatal(err)
	}
	return cases, rendered
}
