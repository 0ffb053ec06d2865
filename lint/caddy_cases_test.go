package lint

import (
	"slices"
	"testing"

	"github.com/sniproof/sniproof/fixtures"
)

// TestCaddyCasesAgree lints every case of Caddy's table, as the proxies
// suite renders it alone, for both releases' versions, and holds lint to
// the case's lint field or to what the real proxy did: no SNI seen wants
// CAD001, a name sent and 200 wants no error.
func TestCaddyCasesAgree(t *testing.T) {
	_, rendered := standalone(t, "caddy")
	lintEveryCase(t, "caddy", ".Caddyfile", func(c fixtures.Case) ([]byte, error) {
		return []byte(rendered[c.ID]), nil
	}, func(e fixtures.Expect, rules []string) string {
		switch {
		case e.SNI != nil && *e.SNI == "" && !slices.Contains(rules, "CAD001"):
			return "the backend sees no SNI: want CAD001"
		case e.Backend == fixtures.BackendServed && e.SNI != nil && *e.SNI != "" && e.Status == 200 && slices.ContainsFunc(rules, isError):
			return "the proxy sends " + *e.SNI + " and gets 200: want no error"
		}
		return ""
	}, "2.6", "2.11")
}
