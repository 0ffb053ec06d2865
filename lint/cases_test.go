package lint

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
)

// caseConfig renders a case of fixtures/nginx/cases.yaml into a minimal
// configuration of its own, as the harness renders it into a shared one:
// the http snippet in http, the server snippet in the case's server, the
// location snippet in its location /, the stream snippet in a stream server.
const caseConfig = `http {
%HTTP%
    server {
        listen 8080;
        server_name case.test;
%SERVER%
        location / {
%LOCATION%
        }
    }
}
`

const caseStreamConfig = `stream {
    server {
        listen 9000;
%STREAM%
    }
}
`

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
	cases, err := fixtures.Cases("nginx")
	if err != nil {
		t.Fatal(err)
	}
	personalities, err := fixtures.Personalities()
	if err != nil {
		t.Fatal(err)
	}
	refs := map[string]map[string]any{}
	for _, p := range personalities {
		refs[p.Name] = map[string]any{"Upstream": p.Names[0], "Port": p.Port}
	}
	dir := t.TempDir()
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.ID] = true
		p := refs[c.Personality]
		data := map[string]any{"Upstream": p["Upstream"], "Port": p["Port"], "P": refs,
			// TEST-NET-1: never dialed, only an address to write.
			"BackendIP": "192.0.2.10", "CA": "/etc/sniproof/ca.crt", "OtherCA": "/etc/sniproof/other-ca.crt",
			"Listen": 9000, "Index": 1}
		conf := caseConfig
		if c.Frontend == fixtures.FrontendStream {
			conf = caseStreamConfig
		}
		for _, part := range []struct{ mark, name, snippet string }{
			{"%HTTP%", "http", c.HTTP}, {"%SERVER%", "server", c.Server},
			{"%LOCATION%", "location", c.Location}, {"%STREAM%", "stream", c.Stream},
		} {
			text, err := c.RenderSnippet(part.name, part.snippet, data)
			if err != nil {
				t.Fatal(err)
			}
			conf = strings.Replace(conf, part.mark, text, 1)
		}
		file := filepath.Join(dir, strings.ReplaceAll(c.ID, "/", "--")+".conf")
		if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
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
		if problem := disagreement(c, rules); problem != "" {
			t.Errorf("%s:%d: %s: lint found %q: %s\n%s", c.File, c.Line, c.ID, rules, problem, conf)
		}
	}
	for id := range caseRules {
		if !seen[id] {
			t.Errorf("caseRules names %s, which fixtures/nginx/cases.yaml no longer has", id)
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
