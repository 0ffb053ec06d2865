//go:build conformance

package check_test

import (
	"fmt"
	"strings"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// ngBuiltinIP is the IP upstream of the cases, an address of its own (each
// table's is a /29 apart) so that its check needs no subnet the other
// tables' checks, running at the same time, hold.
const ngBuiltinIP = "198.18.0.34"

// The built-in nghttpx cases: every case of fixtures/nghttpx/cases.yaml
// whose process needs no options of its own goes into one nghttpx.conf,
// its backend line routed by its request host (HOST/ for the case's
// empty pattern), and sniproof check runs it once in one nghttpx. Each
// case is judged as the nginx cases are (see builtin_test.go): lint's NGH
// rules predict what check observes.

func init() {
	predicts[check.CauseNoSNI] = append(predicts[check.CauseNoSNI], "NGH001", "SQD002")
	predictive = append(predictive, "NGH001", "SQD002")
}

// ngBuiltinCases are nghttpx's case table, one spec each.
var ngBuiltinCases, ngBuiltinErr = fixtures.Cases("nghttpx")

// ngShared is the shared nghttpx.conf of the cases without options of
// their own, and each case's location in it; excluded says why a case is
// not in it.
func ngShared() (conf string, locations, excluded map[string]string, err error) {
	k, err := harness.LookupKind("nghttpx")
	if err != nil {
		return "", nil, nil, err
	}
	rendered, err := harness.Standalone(k, k.Releases[0], ngBuiltinIP, ngBuiltinCases)
	if err != nil {
		return "", nil, nil, err
	}
	locations, excluded = map[string]string{}, map[string]string{}
	var b strings.Builder
	// nghttpx wants a catch-all backend: a plain one no request reaches.
	b.WriteString("frontend=*,8080;no-tls\nworkers=1\ncacert=" + builtinValues.CA + "\nbackend=127.0.0.1,9;;\n")
	for _, c := range ngBuiltinCases {
		if c.Global != "" {
			excluded[c.ID] = fmt.Sprintf("its options (%s) are the nghttpx process's, which would apply to every other case", strings.Join(strings.Fields(c.Global), " "))
			continue
		}
		_, rest, _ := strings.Cut(rendered[c.ID], "<<'CASE'\n")
		caseConf, _, _ := strings.Cut(rest, "\nCASE\n")
		var line string
		for _, l := range strings.Split(caseConf, "\n") {
			if strings.HasPrefix(l, "backend=") {
				line = l
			}
		}
		host := ""
		for _, l := range strings.Split(rendered[c.ID], "\n") {
			if hosts, ok := strings.CutPrefix(l, "backend=127.0.0.1,2"); ok && strings.Contains(hosts, ";") {
				_, hosts, _ = strings.Cut(hosts, ";")
				host, _, _ = strings.Cut(hosts, ":")
			}
		}
		routed := strings.Replace(line, ";;", ";"+host+"/;", 1)
		if line == "" || host == "" || routed == line {
			return "", nil, nil, fmt.Errorf("%s: no backend line with the empty pattern in %q", c.ID, caseConf)
		}
		fmt.Fprintf(&b, "# %s\n%s\n", c.ID, routed)
		locations[c.ID] = "backend " + host + "/"
	}
	return b.String(), locations, excluded, nil
}

var _ = describeBuiltin(builtinTable{id: "nghttpx", title: "nghttpx", kind: "nghttpx", file: "nghttpx.conf", cases: ngBuiltinCases, err: ngBuiltinErr,
	shared: ngShared, refused: 502, unit: "backend"})

// namedLocation is the report's location named name.
func namedLocation(rep *check.Report, name string) *check.Location {
	for i, l := range rep.Locations {
		if l.Location == name {
			return &rep.Locations[i]
		}
	}
	return nil
}
