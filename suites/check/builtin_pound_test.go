//go:build conformance

package check_test

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// pdBuiltinIP is the IP upstream of the cases, an address of its own (each
// table's is a /29 apart) so that its check needs no subnet the other
// tables' checks, running at the same time, hold.
const pdBuiltinIP = "198.18.0.42"

// The built-in pound cases: the Service of every case of
// fixtures/pound/cases.yaml without global directives goes into one
// pound.cfg, each matching a Host of its own (cases share upstream names),
// and sniproof check runs it once in one pound. Each case is judged as the
// nginx cases are (see builtin_test.go): lint's rules predict what check
// observes: POU001 no SNI, POU003 (an IP literal ServerName) a name an
// upstream that routes by SNI refuses, as check's backend does.

func init() {
	predicts[check.CauseNoSNI] = append(predicts[check.CauseNoSNI], "POU001")
	predicts[check.CauseWrongName] = append(predicts[check.CauseWrongName], "POU003")
	predictive = append(predictive, "POU001", "POU003")
}

// pdBuiltinCases are pound's case table, one spec each.
var pdBuiltinCases, pdBuiltinErr = fixtures.Cases("pound")

// pdMatch is a case Service's Host match block.
var pdMatch = regexp.MustCompile(`(?s)\n\s*Match OR\n.*?\n\s*End\n`)

// pdShared is the shared pound.cfg of the cases without global
// directives, and each case's location in it; excluded says why a case is
// not in it.
func pdShared() (conf string, locations, excluded map[string]string, err error) {
	k, err := harness.LookupKind("pound")
	if err != nil {
		return "", nil, nil, err
	}
	rendered, err := harness.Standalone(k, k.Releases[0], pdBuiltinIP, pdBuiltinCases)
	if err != nil {
		return "", nil, nil, err
	}
	locations, excluded = map[string]string{}, map[string]string{}
	var b strings.Builder
	b.WriteString("ListenHTTP\n    Address 0.0.0.0\n    Port 8080\n")
	for i, c := range pdBuiltinCases {
		if c.Global != "" {
			excluded[c.ID] = fmt.Sprintf("its global directives (%s) would apply to every other case", strings.Join(strings.Fields(c.Global), " "))
			continue
		}
		text := rendered[c.ID]
		at := strings.LastIndex(text, "\n    Service \"case")
		end := strings.LastIndex(text, "\nEnd")
		if at < 0 || end < at {
			return "", nil, nil, fmt.Errorf("%s: no case Service in %q", c.ID, text)
		}
		svc := text[at:end]
		name := fmt.Sprintf("case%d", i)
		svc = pdMatch.ReplaceAllString(svc[strings.Index(svc[1:], "\n")+1:], fmt.Sprintf("\n        Host \"case%d.builtin.test\"\n", i))
		fmt.Fprintf(&b, "    # %s\n    Service %q%s\n", c.ID, name, svc)
		locations[c.ID] = fmt.Sprintf("Service %q", name)
	}
	b.WriteString("End\n")
	return b.String(), locations, excluded, nil
}

var _ = describeBuiltin(builtinTable{id: "pound", title: "pound", kind: "pound", file: "pound.cfg", cases: pdBuiltinCases, err: pdBuiltinErr,
	shared: pdShared, refused: 503, unit: "Service"})
