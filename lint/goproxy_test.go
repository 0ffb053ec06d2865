package lint

import (
	"fmt"
	"slices"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
)

// TestGoProxyCasesAgree lints every case of the Go proxy's table, as the
// proxies suite renders it alone, and holds lint to the case's lint field
// or to what the real proxy did: no SNI seen wants GOP001 or GOP002, a
// name sent and 200 wants no error.
func TestGoProxyCasesAgree(t *testing.T) {
	_, rendered := standalone(t, "goproxy")
	lintEveryCase(t, "goproxy", ".json", func(c fixtures.Case) ([]byte, error) {
		return []byte(rendered[c.ID]), nil
	}, func(e fixtures.Expect, rules []string) string {
		switch {
		case e.SNI != nil && *e.SNI == "" && !slices.ContainsFunc(rules, func(r string) bool { return r == "GOP001" || r == "GOP002" }):
			return "the backend sees no SNI: want GOP001 or GOP002"
		case e.Backend == fixtures.BackendServed && e.SNI != nil && *e.SNI != "" && e.Status == 200 && slices.ContainsFunc(rules, isError):
			return "the proxy sends " + *e.SNI + " and gets 200: want no error"
		}
		return ""
	}, "")
}

// TestParseGoProxy: route lines, and the proxy's own errors with the
// file and line.
func TestParseGoProxy(t *testing.T) {
	c, err := ParseGoProxy("p.json", []byte(`{
  "http": ":8080",
  "routes": [
    {"host": "a.example", "upstream": "https://a.internal", "verify": "off"},
    {
      "host": "b.example", "upstream": "https://10.0.0.5", "sni": "auto", "verify": "off"
    },
    {"host": "c.example", "upstream": "https://c.internal", "sni": "off", "verify": "off"}
  ]
}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range c.Routes {
		got = append(got, fmt.Sprintf("%s:%d", r.Host, r.Line))
	}
	if want := []string{"a.example:4", "b.example:5", "c.example:8"}; !slices.Equal(got, want) {
		t.Errorf("route lines %q, want %q", got, want)
	}
	var rules []string
	for _, f := range c.Findings() {
		rules = append(rules, fmt.Sprintf("%s@%d", f.Rule, f.Line))
	}
	if want := []string{"GOP002@5", "GOP001@8"}; !slices.Equal(rules, want) {
		t.Errorf("findings %q, want %q", rules, want)
	}
	_, err = ParseGoProxy("p.json", []byte("{\n  \"http\": \":8080\",\n  \"routes\": [\n    {\"host\": \"a\", \"upstream\": 5}\n  ]\n}\n"))
	if ce, ok := err.(*ConfigError); !ok || ce.File != "p.json" || ce.Line != 4 {
		t.Errorf("error %v, want a ConfigError at p.json:4", err)
	}
}
