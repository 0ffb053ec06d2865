//go:build conformance

package check_test

import (
	"fmt"
	"strings"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// sqBuiltinIP is the IP upstream of the cases, an address of its own (each
// table's is a /29 apart) so that its check needs no subnet the other
// tables' checks, running at the same time, hold.
const sqBuiltinIP = "198.18.0.50"

// The built-in Squid cases: every case of fixtures/squid-openssl/cases.yaml
// goes into one squid.conf, one cache_peer each chosen by the case's host,
// laid out as the conformance suite lays out its own, and sniproof check
// runs it once in squid-openssl, the build check runs. Each case is
// judged as the nginx cases are (see builtin_test.go): lint's SQD002
// predicts what check observes (SQD001, the GnuTLS build's warning, is
// not in the OpenSSL build's report).

// sqBuiltinCases are squid-openssl's case table, one spec each.
var sqBuiltinCases, sqBuiltinErr = fixtures.Cases("squid-openssl")

// sqShared is the shared squid.conf of the cases, and each case's
// location in it: the first case's whole configuration, then every other
// case's part of its own (its acl, cache_peer and cache_peer_access
// lines, after the mark peer's).
// Every case fits: none is excluded.
func sqShared() (conf string, locations, excluded map[string]string, err error) {
	k, err := harness.LookupKind("squid-openssl")
	if err != nil {
		return "", nil, nil, err
	}
	rendered, err := harness.Standalone(k, k.Releases[0], sqBuiltinIP, sqBuiltinCases)
	if err != nil {
		return "", nil, nil, err
	}
	const markEnd = "cache_peer_access sniproof_mark deny all\n"
	locations = map[string]string{}
	var b strings.Builder
	for i, c := range sqBuiltinCases {
		head, part, ok := strings.Cut(rendered[c.ID], markEnd)
		if !ok {
			return "", nil, nil, fmt.Errorf("%s: no mark peer in its configuration", c.ID)
		}
		if i == 0 {
			b.WriteString(head + markEnd)
		}
		b.WriteString(part + "\n")
		for _, w := range strings.Fields(part) {
			if name, ok := strings.CutPrefix(w, "name="); ok {
				locations[c.ID] = "cache_peer " + name
			}
		}
	}
	return b.String(), locations, nil, nil
}

var _ = describeBuiltin(builtinTable{id: "squid", title: "Squid", kind: "squid-openssl", file: "squid.conf", cases: sqBuiltinCases, err: sqBuiltinErr,
	shared: sqShared, refused: 503, unit: "cache_peer"})
