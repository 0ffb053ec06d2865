//go:build conformance

package check_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
)

// The built-in Squid cases: every case of fixtures/squid-openssl/cases.yaml
// goes into one squid.conf, one cache_peer each chosen by the case's host,
// laid out as the conformance suite lays out its own, and sniproof check
// runs it once in squid-openssl, the build check runs. Each case is
// judged as the nginx cases are (see builtin_test.go): lint's SQD002
// predicts what check observes (SQD001, the GnuTLS build's warning, is
// not in the OpenSSL build's report).

// sqBuiltinReproduce reruns the built-in Squid cases' check.
const sqBuiltinReproduce = "make conformance LABELS=check FOCUS=check/builtin/squid/"

// sqBuiltinCases are squid-openssl's case table, one spec each.
var sqBuiltinCases, sqBuiltinErr = fixtures.Cases("squid-openssl")

// sqShared is the shared squid.conf of the cases, and each case's
// location in it: the first case's whole configuration, then every other
// case's part of its own (its acl, cache_peer and cache_peer_access
// lines, after the mark peer's).
func sqShared() (string, map[string]string, error) {
	k, err := harness.LookupKind("squid-openssl")
	if err != nil {
		return "", nil, err
	}
	rendered, err := harness.Standalone(k, k.Releases[0], builtinValues.BackendIP, sqBuiltinCases)
	if err != nil {
		return "", nil, err
	}
	const markEnd = "cache_peer_access sniproof_mark deny all\n"
	locations := map[string]string{}
	var b strings.Builder
	for i, c := range sqBuiltinCases {
		head, part, ok := strings.Cut(rendered[c.ID], markEnd)
		if !ok {
			return "", nil, fmt.Errorf("%s: no mark peer in its configuration", c.ID)
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
	return b.String(), locations, nil
}

var _ = It("loads the built-in Squid cases", Label("check", "squid"), func() {
	Expect(sqBuiltinErr).NotTo(HaveOccurred())
	Expect(sqBuiltinCases).NotTo(BeEmpty())
})

var _ = Describe("sniproof check and lint on the built-in Squid cases", Label("check", "squid"), Ordered, ContinueOnFailure, func() {
	var rep *check.Report
	var locations map[string]string

	BeforeAll(func(ctx SpecContext) {
		Expect(sqBuiltinErr).NotTo(HaveOccurred())
		var conf string
		var err error
		conf, locations, err = sqShared()
		Expect(err).NotTo(HaveOccurred())
		rep = checkShared(ctx, "squid.conf", []byte(conf))
	}, NodeTimeout(harness.DefaultTimeouts.ContainerStart*5))

	for _, c := range sqBuiltinCases {
		It(fmt.Sprintf("check/builtin/squid/%s: lint predicts what check observes", c.ID), func() {
			rec := builtinRecord(c, "check/builtin/squid/"+c.ID, "squid-openssl", sqBuiltinReproduce+c.ID, "", rep)
			l := namedLocation(rep, locations[c.ID])
			Expect(l).NotTo(BeNil(), "check reports no %s for %s", locations[c.ID], c.ID)
			// lint predicts a refused handshake: Squid answers 503.
			judgeCase(rec, rep, c, []check.Location{*l}, disagreement{}, 503)
		})
	}

	It("check/builtin/squid/coverage: every cache_peer check reports belongs to a case", func() {
		Expect(rep).NotTo(BeNil(), "the check of the built-in Squid cases did not run")
		Expect(rep.Locations).To(HaveLen(len(locations)))
		for _, l := range rep.Locations {
			Expect(l.Outcome).NotTo(Equal(check.NotChecked), "%s: %s", l.Location, l.NotChecked)
		}
		fmt.Fprintf(GinkgoWriter, "check/builtin/squid: %d of %d built-in Squid cases checked in one squid-openssl\n", len(locations), len(sqBuiltinCases))
	})
})
