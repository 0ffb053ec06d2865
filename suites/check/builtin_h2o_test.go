//go:build conformance

package check_test

import (
	"fmt"
	"strings"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// The built-in h2o cases: the hosts of every case of
// fixtures/h2o/cases.yaml without global directives go into one h2o.conf,
// and sniproof check runs it once in one h2o. Each case is judged as the
// nginx cases are (see builtin_test.go): lint's H2O001 predicts what
// check observes.

func init() {
	predicts[check.CauseWrongName] = append(predicts[check.CauseWrongName], "H2O001")
	predictive = append(predictive, "H2O001")
}

// h2BuiltinCases are h2o's case table, one spec each.
var h2BuiltinCases, h2BuiltinErr = fixtures.Cases("h2o")

// h2BackendIP is where the cases' IP-literal upstreams are: an address
// of this suite's own range, which check impersonates.
const h2BackendIP = "10.79.0.10"

// h2Shared is the shared h2o.conf of the cases without global directives,
// and each case's location in it (its first host's path /); excluded says
// why a case is not in it.
func h2Shared() (conf string, locations, excluded map[string]string, err error) {
	k, err := harness.LookupKind("h2o")
	if err != nil {
		return "", nil, nil, err
	}
	rendered, err := harness.Standalone(k, k.Releases[0], h2BackendIP, h2BuiltinCases)
	if err != nil {
		return "", nil, nil, err
	}
	locations, excluded = map[string]string{}, map[string]string{}
	var b strings.Builder
	b.WriteString("listen: 8080\nhosts:\n")
	for _, c := range h2BuiltinCases {
		if c.Global != "" {
			excluded[c.ID] = fmt.Sprintf("its global directives (%s) would apply to every other case", strings.Join(strings.Fields(c.Global), " "))
			continue
		}
		text := rendered[c.ID]
		at := strings.Index(text, "\n  # "+c.ID+":")
		if at < 0 {
			return "", nil, nil, fmt.Errorf("%s: no hosts of the case in %q", c.ID, text)
		}
		body := text[at+1:]
		b.WriteString(strings.TrimRight(body, "\n") + "\n")
		for _, l := range strings.Split(body, "\n") {
			if name, ok := strings.CutPrefix(l, "  \""); ok {
				locations[c.ID] = "host " + strings.TrimSuffix(name, "\":") + " path /"
				break
			}
		}
	}
	return b.String(), locations, excluded, nil
}

var _ = describeBuiltin(builtinTable{id: "h2o", title: "h2o", kind: "h2o", file: "h2o.conf", cases: h2BuiltinCases, err: h2BuiltinErr,
	shared: h2Shared, refused: 502, unit: "path"})
