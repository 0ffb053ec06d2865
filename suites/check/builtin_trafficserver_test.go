//go:build conformance

package check_test

import (
	"fmt"
	"strings"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// The built-in Traffic Server cases: the remap rule of every case of
// fixtures/trafficserver/cases.yaml goes into one remap.config, each
// mapping a host of its own (cases share origin names), and sniproof
// check runs it once in one Traffic Server, with Debian's records. Each
// case is judged as the nginx cases are (see builtin_test.go): lint's
// rules predict what check observes: TSV001 (an IP origin) no SNI,
// TSV002 (sni_policy server_name) none for a plain-HTTP client and the
// client's own for a TLS one, TSV003 (pristine_host_hdr 1 with
// sni_policy host) the client's Host as SNI, a name check's backend does
// not serve.

func init() {
	predicts[check.CauseNoSNI] = append(predicts[check.CauseNoSNI], "TSV001", "TSV002")
	predicts[check.CauseWrongName] = append(predicts[check.CauseWrongName], "TSV002", "TSV003")
	predictive = append(predictive, "TSV001", "TSV002", "TSV003")
}

// tsBuiltinCases are Traffic Server's case table, one spec each.
var tsBuiltinCases, tsBuiltinErr = fixtures.Cases("trafficserver")

// tsBuiltinIP is the backend's address in the shared remap.config: one of
// its own, so that its network clashes with no other proxy's built-in
// cases checked at the same time.
const tsBuiltinIP = "10.73.0.10"

// tsShared is the shared remap.config of the cases without global lines,
// and each case's location in it; excluded says why a case is not in it.
func tsShared() (conf string, locations, excluded map[string]string, err error) {
	k, err := harness.LookupKind("trafficserver")
	if err != nil {
		return "", nil, nil, err
	}
	rendered, err := harness.Standalone(k, k.Releases[0], tsBuiltinIP, tsBuiltinCases)
	if err != nil {
		return "", nil, nil, err
	}
	locations, excluded = map[string]string{}, map[string]string{}
	var b strings.Builder
	for i, c := range tsBuiltinCases {
		if c.Global != "" {
			excluded[c.ID] = fmt.Sprintf("its global lines (%s) would apply to every other case", strings.Join(strings.Fields(c.Global), " "))
			continue
		}
		cfg, err := lint.ParseTrafficServer("remap.config", []byte(rendered[c.ID]))
		if err != nil {
			return "", nil, nil, fmt.Errorf("%s: %v", c.ID, err)
		}
		var rule *lint.TSRule
		for _, r := range cfg.Rules {
			if r.HTTPS() && r.From.Host != "" && rule == nil {
				rule = r
			}
		}
		if rule == nil {
			return "", nil, nil, fmt.Errorf("%s: no rule to an https:// origin in %q", c.ID, rendered[c.ID])
		}
		from := fmt.Sprintf("http://case%d.builtin.test/", i)
		fmt.Fprintf(&b, "# %s\n%s\n", c.ID, strings.Join(append([]string{"map", from, rule.To.Raw}, rule.Words...), " "))
		locations[c.ID] = "map " + from
	}
	return b.String(), locations, excluded, nil
}

var _ = describeBuiltin(builtinTable{id: "trafficserver", title: "Traffic Server", kind: "trafficserver", file: "remap.config", cases: tsBuiltinCases, err: tsBuiltinErr,
	shared: tsShared, refused: 502, unit: "remap rule"})
