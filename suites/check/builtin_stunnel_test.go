//go:build conformance

package check_test

import (
	"fmt"
	"strings"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// stBuiltinIP is the IP upstream of the cases, an address of its own (each
// table's is a /29 apart) so that its check needs no subnet the other
// tables' checks, running at the same time, hold.
const stBuiltinIP = "198.18.0.58"

// The built-in stunnel cases: the service of every case of
// fixtures/stunnel/cases.yaml without global options goes into one
// stunnel.conf, each accepting on a port of its own, and sniproof check
// runs it once in one stunnel. Each case is judged as the nginx cases are
// (see builtin_test.go): lint's STN rules predict what check observes.

func init() {
	predicts[check.CauseNoSNI] = append(predicts[check.CauseNoSNI], "STN002")
	predicts[check.CauseWrongName] = append(predicts[check.CauseWrongName], "STN001")
	predictive = append(predictive, "STN001", "STN002")
}

// stBuiltinCases are stunnel's case table, one spec each.
var stBuiltinCases, stBuiltinErr = fixtures.Cases("stunnel")

// stShared is the shared stunnel.conf of the cases without global
// options, and each case's location in it; excluded says why a case is
// not in it.
func stShared() (conf string, locations, excluded map[string]string, err error) {
	k, err := harness.LookupKind("stunnel")
	if err != nil {
		return "", nil, nil, err
	}
	rendered, err := harness.Standalone(k, k.Releases[0], stBuiltinIP, stBuiltinCases)
	if err != nil {
		return "", nil, nil, err
	}
	locations, excluded = map[string]string{}, map[string]string{}
	var b strings.Builder
	b.WriteString("foreground = yes\npid =\n")
	for i, c := range stBuiltinCases {
		if c.Global != "" {
			excluded[c.ID] = fmt.Sprintf("its global options (%s) would apply to every other case", strings.Join(strings.Fields(c.Global), " "))
			continue
		}
		at := strings.LastIndex(rendered[c.ID], "\n[case")
		if at < 0 {
			return "", nil, nil, fmt.Errorf("%s: no [case] section in %q", c.ID, rendered[c.ID])
		}
		name := fmt.Sprintf("case%d", i)
		fmt.Fprintf(&b, "\n; %s\n[%s]\n", c.ID, name)
		for _, l := range strings.Split(rendered[c.ID][at+1:], "\n")[1:] {
			if strings.HasPrefix(strings.TrimSpace(l), "accept") {
				l = fmt.Sprintf("accept = %d", 9100+i)
			}
			b.WriteString(l + "\n")
		}
		locations[c.ID] = "service [" + name + "]"
	}
	return b.String(), locations, excluded, nil
}

var _ = describeBuiltin(builtinTable{id: "stunnel", title: "stunnel", kind: "stunnel", file: "stunnel.conf", cases: stBuiltinCases, err: stBuiltinErr,
	shared: stShared, refused: 0, unit: "service"})
